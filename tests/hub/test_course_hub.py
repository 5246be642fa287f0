"""The course on a JupyterHub, end to end: one instructor and three students, each a Unix user
with their own server, driven over HTTP exactly as JupyterLab's panels drive them (nbgrader's
handlers and the contents API, each user with their own token), then privacy, then a real
browser. The hub is started once for the module (conftest.py); the tests run in file order and
build on each other: the cycle, the resubmission after the due date, privacy, the browser.

Timings of every step: artifacts/hub/timings.txt (printed at the end of the run).
"""

from __future__ import annotations

import copy
import csv
import html
import io
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nbgrader_course import solution_code, solution_points  # tests/instructor (conftest)

pytestmark = [pytest.mark.slow, pytest.mark.hub]

ROOT = Path(__file__).resolve().parents[2]
A1 = "a1_convolution"
NOTEBOOK = f"{A1}/{A1}.ipynb"
POINTS = solution_points(A1)  # grade_id -> points, read from solutions/ as the instructor wrote them
STRIDE_BUG = ("top, left = y * stride, x_ * stride", "top, left = y, x_")


# --- the students' answers ----------------------------------------------------------------------

def answered(notebook: dict, plan: str) -> dict:
    """The fetched notebook with the student's answers: ``correct`` (every function right),
    ``stride bug`` (conv2d forgets the stride, the rest right) or ``blank`` (nothing written)."""
    notebook = copy.deepcopy(notebook)
    if plan == "blank":
        return notebook
    code = solution_code(A1)
    if plan == "stride bug":
        assert STRIDE_BUG[0] in code["conv2d"], "the solution changed: update STRIDE_BUG"
        code["conv2d"] = code["conv2d"].replace(*STRIDE_BUG)
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cell["metadata"].get("nbgrader", {}).get("solution") and grade_id in code:
            cell["source"] = code[grade_id]
    return notebook


PLANS = ("correct", "stride bug", "blank")
NAMES = (("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper"))


def statuses(listing: dict) -> list[str]:
    return [a["status"] for a in listing["value"] if a["assignment_id"] == A1]


def submissions_of(listing: dict) -> list[dict]:
    return [s for a in listing["value"] if a["assignment_id"] == A1 and a["status"] == "submitted"
            for s in a["submissions"]]


# --- the exchange cycle, once for the module --------------------------------------------------------

@pytest.fixture(scope="module")
def cycle(course_hub_running):
    """Release -> fetch -> answer -> validate -> submit -> collect -> autograde (the course's
    command in the instructor's terminal) -> feedback -> fetch feedback -> Canvas CSV."""
    hub = course_hub_running
    steps, course = hub.steps, hub.settings.course_id
    instructor, students = hub.instructor, hub.students
    out = {"plans": {s.name: plan for s, plan in zip(students, PLANS)}, "validate": {}, "listing": {},
           "feedback": {}}

    with steps.timed("instructor: due date in a week (creates the gradebook)"):
        due = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S")
        instructor.formgrader("PUT", f"assignment/{A1}", {"duedate_notimezone": due, "duedate_timezone": "UTC"})
    with steps.timed("instructor: Formgrader Generate (solutions/ -> assignments/)"):
        instructor.formgrader("POST", f"assignment/{A1}/assign")
    with steps.timed("instructor: Formgrader Release"):
        instructor.formgrader("POST", f"assignment/{A1}/release")
    with steps.timed("instructor: Formgrader Manage Students (names)"):
        for student, (first, last) in zip(students, NAMES):
            instructor.formgrader("PUT", f"student/{student.name}",
                                  {"first_name": first, "last_name": last, "email": None})

    for student in students:
        plan = out["plans"][student.name]
        with steps.timed(f"{student.name}: Assignments panel (courses + list)"):
            out.setdefault("courses", {})[student.name] = student.courses()
            out["listing"][student.name] = {"released": student.assignments(course)}
        with steps.timed(f"{student.name}: Fetch"):
            listing = student.assignment_action("fetch", course, A1)
            out["listing"][student.name]["fetched"] = listing
        with steps.timed(f"{student.name}: open, write answers ({plan}), save"):
            student.write_notebook(NOTEBOOK, answered(student.read_notebook(NOTEBOOK), plan))
        with steps.timed(f"{student.name}: Validate (runs the notebook)"):
            out["validate"][student.name] = student.validate(NOTEBOOK)
        with steps.timed(f"{student.name}: Submit"):
            out["listing"][student.name]["submitted"] = student.assignment_action("submit", course, A1)

    with steps.timed("instructor: Formgrader Collect (3 submissions)"):
        out["collect"] = instructor.formgrader("POST", f"assignment/{A1}/collect")
    with steps.timed("instructor: autograde in a terminal (python -m course_utils.instructor.autograde)"):
        out["autograde"] = instructor.terminal(
            f"cd ~/course && python -m course_utils.instructor.autograde {A1} --jobs 2")
    with steps.timed("instructor: Formgrader submissions (scores)"):
        out["submissions"] = {s["student"]: s for s in instructor.formgrader("GET", f"submissions/{A1}")}
    with steps.timed("instructor: Formgrader Generate Feedback"):
        instructor.formgrader("POST", f"assignment/{A1}/generate_feedback")
    with steps.timed("instructor: Formgrader Release Feedback"):
        instructor.formgrader("POST", f"assignment/{A1}/release_feedback")
    with steps.timed("instructor: Canvas CSV in a terminal (nbgrader export)"):
        out["export"] = instructor.terminal(
            "cd ~/course && nbgrader export --exporter=course_utils.instructor.lms.canvas_grades.CanvasGradesExporter")
        out["canvas_csv"] = instructor.read_text("course/canvas_grades.csv")

    for student in students:
        with steps.timed(f"{student.name}: Fetch Feedback and open it"):
            listing = student.assignment_action("fetch_feedback", course, A1)
            out["listing"][student.name]["feedback"] = listing
            latest = submissions_of(listing)[-1]["notebooks"][0]
            out["feedback"][student.name] = {"path": latest["local_feedback_path"],
                                             "has_local_feedback": latest["has_local_feedback"],
                                             "html": student.read_text(latest["local_feedback_path"])}
    hub.results["cycle"] = out
    return out


def scores(cycle) -> dict[str, float]:
    return {name: submission["score"] for name, submission in cycle["submissions"].items()}


def test_students_see_the_course_fetch_and_submit_through_the_assignments_panel(course_hub_running, cycle):
    course = course_hub_running.settings.course_id
    for name in cycle["plans"]:
        assert cycle["courses"][name] == {"success": True, "value": [course]}  # not "Error fetching courses!"
        listing = cycle["listing"][name]
        assert statuses(listing["released"]) == ["released"]
        assert statuses(listing["fetched"]) == ["fetched"]  # fetch errors only reach the server log
        assert "submitted" in statuses(listing["submitted"])
        owner = Path(course_hub_running.settings.home(name)) / NOTEBOOK
        assert owner.stat().st_uid == _uid(name), "the fetched notebook belongs to the student"
    # Validate: the visible and hidden checks ran in the student's kernel with the judge
    correct, buggy, blank = cycle["plans"]
    assert cycle["validate"][correct] == {"success": True, "value": {}}
    # a failed validation answers {"success": true, "value": {"failed": [...]}}
    assert "CheckFailed: conv2d" in text_of(str(cycle["validate"][buggy]["value"]))
    assert len(cycle["validate"][blank]["value"]["failed"]) == len(POINTS)


def test_autograde_as_the_instructor_scores_the_three_students(cycle):
    status, output = cycle["autograde"]
    assert status == 0, output
    correct, buggy, blank = cycle["plans"]
    got = scores(cycle)
    assert got[correct] == 10
    assert got[blank] == 0
    assert 6 <= got[buggy] < 10, "conv2d's stride bug loses part of conv2d's 4 points, nothing else"
    assert all(cycle["submissions"][name]["max_score"] == 10 for name in cycle["plans"])
    assert "no sandbox" not in output, "the instructor's autograde ran without the bubblewrap sandbox"
    for name in cycle["plans"]:
        assert re.search(rf"{name}: {got[name]:g}/10", output), output


def test_canvas_csv_has_each_students_score(cycle):
    status, output = cycle["export"]
    assert status == 0, output
    rows = list(csv.DictReader(io.StringIO(cycle["canvas_csv"])))
    assert rows[0]["Student"] == "Points Possible" and float(rows[0][A1]) == 10
    by_student = {row["SIS Login ID"] or row["Student"]: row for row in rows[1:]}
    for name, (first, last) in zip(cycle["plans"], NAMES):
        assert by_student[name]["Student"] == f"{last}, {first}"
        assert float(by_student[name][A1]) == round(scores(cycle)[name], 2)


def test_each_student_gets_their_own_feedback_and_only_theirs(course_hub_running, cycle):
    settings = course_hub_running.settings
    got = scores(cycle)
    own_line = {"correct": STRIDE_BUG[0], "stride bug": STRIDE_BUG[1]}
    for name, plan in cycle["plans"].items():
        feedback = cycle["feedback"][name]
        assert feedback["has_local_feedback"]
        text = text_of(feedback["html"])
        score = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", text)
        assert score and float(score.group(1)) == pytest.approx(got[name], abs=0.01), \
            f"{name}'s feedback shows another score"
        for other_plan, line in own_line.items():  # the code in it is this student's
            assert (line in text) == (plan == other_plan), f"{name}'s feedback: {line!r}"
        # nothing of the others arrived in this student's home
        others = set(cycle["plans"]) - {name}
        home = settings.home(name)
        feedback_files = list((home / A1 / "feedback").rglob("*.html"))
        assert len(feedback_files) == 1
        for other in others:
            assert not list(home.rglob(f"*{other}*"))
    # in the exchange: one file per submission, named by a hash nobody else can list
    exchange_feedback = Path(settings.exchange) / settings.course_id / "feedback"
    assert oct(exchange_feedback.stat().st_mode & 0o7777) == "0o711"
    assert len(list(exchange_feedback.glob("*.html"))) == 3


def text_of(html_text: str) -> str:
    """What a page says, without its tags (code in feedback is split into highlighted spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def _uid(name: str) -> int:
    import pwd

    return pwd.getpwnam(name).pw_uid


# --- a resubmission after the due date ------------------------------------------------------------

def moment(text: str) -> datetime:
    """A timestamp as nbgrader writes it in either place ("2026-12-01 14:20:51.035958 UTC" in the
    student's list, "2026-12-01T14:20:51.035958" in the gradebook), to the second."""
    return datetime.strptime(re.sub(r"[T ]", " ", text.strip())[:19], "%Y-%m-%d %H:%M:%S")


def test_a_resubmission_after_the_due_date_replaces_the_first_and_is_late(course_hub_running, cycle):
    hub = course_hub_running
    steps, course, instructor = hub.steps, hub.settings.course_id, hub.instructor
    student = hub.students[1]  # the stride bug: fixes it after the deadline
    with steps.timed("instructor: due date moved to an hour ago"):
        due = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
        instructor.formgrader("PUT", f"assignment/{A1}", {"duedate_notimezone": due, "duedate_timezone": "UTC"})
    with steps.timed(f"{student.name}: fixes conv2d and submits again"):
        student.write_notebook(NOTEBOOK, answered(student.read_notebook(NOTEBOOK), "correct"))
        listing = student.assignment_action("submit", course, A1)
    mine = submissions_of(listing)
    assert len(mine) == 2, "the student's list shows both submissions"
    with steps.timed("instructor: Collect + autograde again (only the changed submission)"):
        collected = instructor.formgrader("POST", f"assignment/{A1}/collect")
        status, output = instructor.terminal(f"cd ~/course && python -m course_utils.instructor.autograde {A1}")
    assert f"Updating submission: {student.name}" in collected["log"]
    assert status == 0 and re.search(rf"{student.name}: 10/10", output), output
    others = [s.name for s in hub.students if s is not student]
    assert not any(re.search(rf"{name}: [\d.]+/10", output) for name in others), "graded again unchanged"
    graded = instructor.formgrader("GET", f"submission/{A1}/{student.name}")
    assert graded["score"] == 10
    # the time is when the folder reached the exchange (its files' change time), a moment after
    # the time nbgrader submit wrote into its name when it started
    assert abs((moment(graded["timestamp"]) - moment(mine[-1]["timestamp"])).total_seconds()) <= 2, \
        "the latest submission is graded"
    status, late = instructor.terminal(
        "cd ~/course && python -c \"from nbgrader.api import Gradebook; "
        f"gradebook = Gradebook('sqlite:///gradebook.db'); s = gradebook.find_submission('{A1}', '{student.name}'); "
        "print('SECONDS LATE', round(s.total_seconds_late)); gradebook.close()\"")
    seconds_late = int(re.search(r"SECONDS LATE (\d+)", late).group(1))
    assert 3500 < seconds_late < 7200, late
    on_time = instructor.formgrader("GET", f"submission/{A1}/{others[0]}")
    assert moment(on_time["timestamp"]) < moment(graded["timestamp"])


# --- privacy: student B against student A and the instructor -----------------------------------------

class Checks:
    """Named expectations; a test lists every one that failed, not only the first."""

    def __init__(self):
        self.failed: list[str] = []
        self.count = 0

    def expect(self, what: str, ok: bool, got) -> None:
        self.count += 1
        if not ok:
            self.failed.append(f"{what}: got {got}")

    def assert_all(self) -> None:
        assert not self.failed, f"{len(self.failed)} of {self.count} privacy checks failed:\n" + "\n".join(self.failed)


def denied(result) -> bool:
    said = (result.stdout + result.stderr).lower()
    return result.returncode != 0 and ("permission denied" in said or "not permitted" in said)


def test_privacy_through_the_hub_and_the_servers(course_hub_running, cycle):
    """B's token opens nothing of A's, of the instructor's, or of the hub's other users."""
    hub = course_hub_running
    a, b, instructor = hub.students[0], hub.students[1], hub.settings.instructor
    checks = Checks()
    for method, path in [
        ("GET", "api/contents"), ("GET", f"api/contents/{NOTEBOOK}"), ("GET", f"files/{NOTEBOOK}"),
        ("PUT", "api/contents/planted.txt"), ("GET", f"api/contents/{A1}/feedback"),
        ("GET", f"assignments?course_id={hub.settings.course_id}"), ("POST", "assignments/submit"),
        ("POST", "assignments/fetch_feedback"), ("GET", "api/kernels"), ("POST", "api/terminals"),
    ]:
        body = {"type": "file", "format": "text", "content": "x"} if method == "PUT" else {}
        reply = b.request(method, path, user=a.name, json=body)
        checks.expect(f"B {method} A's /{path}", reply.status_code in (403, 404), reply.status_code)
    for method, path in [
        ("GET", f"formgrader/api/submissions/{A1}"), ("POST", f"formgrader/api/assignment/{A1}/release"),
        ("POST", f"formgrader/api/assignment/{A1}/collect"), ("GET", "api/contents/course/solutions"),
        ("GET", f"files/course/solutions/{A1}/{A1}.ipynb"), ("GET", "formgrader"),
    ]:
        reply = b.request(method, path, user=instructor)
        checks.expect(f"B {method} the instructor's /{path}", reply.status_code in (403, 404), reply.status_code)
    for method, path in [("GET", f"users/{a.name}"), ("POST", f"users/{a.name}/tokens"),
                         ("POST", f"users/{a.name}/server"), ("DELETE", f"users/{a.name}/server"),
                         ("GET", f"users/{instructor}")]:
        reply = b.http.request(method, b.api(path), json={})
        checks.expect(f"B {method} /hub/api/{path}", reply.status_code in (403, 404), reply.status_code)
    listed = b.http.get(b.api("users"))
    checks.expect("B's GET /hub/api/users names no other user",
                  listed.status_code == 403 or {u["name"] for u in listed.json()} <= {b.name}, listed.text[:200])
    checks.assert_all()


def test_a_student_cannot_release_or_collect(course_hub_running, cycle):
    """No formgrader on a student's server; nbgrader run as the student (what a terminal could do,
    or a formgrader re-enabled in ~/.jupyter) is stopped by the exchange's permissions."""
    hub = course_hub_running
    a, b = hub.students[0], hub.students[1]
    checks = Checks()
    for method, path in [("GET", "formgrader/api/status"), ("POST", f"formgrader/api/assignment/{A1}/release"),
                         ("POST", f"formgrader/api/assignment/{A1}/collect"), ("GET", "formgraders")]:
        reply = b.request(method, path)
        checks.expect(f"B {method} own /{path} (not loaded for students)", reply.status_code == 404, reply.status_code)
    own = submissions_of(b.assignments(hub.settings.course_id))
    checks.expect("B's Assignments list shows B's submissions only", {s["student_id"] for s in own} == {b.name},
                  {s["student_id"] for s in own})
    # B's own "course": a copy of the released notebook, nbgrader's commands pointed at the exchange
    fake = hub.settings.home(b.name) / "fake_course"
    options = [f"--CourseDirectory.root={fake}", "--CourseDirectory.release_directory=release",
               f"--CourseDirectory.db_url=sqlite:///{fake}/gradebook.db"]
    for command in (["mkdir", "-p", f"{fake}/release"],
                    ["cp", "-r", str(hub.settings.home(b.name) / A1), f"{fake}/release/"]):
        hub.as_user(b.name, *command)
    release = hub.as_user(b.name, "nbgrader", "release_assignment", A1, "--force", *options, cwd=str(fake))
    checks.expect("B: nbgrader release_assignment fails", release.returncode != 0
                  and "don't own the directory" in release.stdout + release.stderr, release.stderr[-300:])
    collect = hub.as_user(b.name, "nbgrader", "collect", A1, *options, cwd=str(fake))
    checks.expect("B: nbgrader collect gets nothing", not (fake / "submitted").exists()
                  or not any((fake / "submitted").iterdir()), collect.stderr[-300:])
    listing = hub.as_user(b.name, "nbgrader", "list", "--inbound", *options, cwd=str(fake))
    checks.expect("B: nbgrader list --inbound shows nobody's submission", a.name not in listing.stdout + listing.stderr,
                  listing.stdout[-300:])
    outbound = Path(hub.settings.exchange) / hub.settings.course_id / "outbound" / A1
    checks.expect("the released a1 is still the instructor's", outbound.stat().st_uid == _uid(hub.settings.instructor),
                  outbound.stat().st_uid)
    checks.assert_all()


def test_privacy_in_the_filesystem(course_hub_running, cycle):
    """As B's Unix user (B's kernel or terminal): nothing of A's or the instructor's."""
    hub = course_hub_running
    settings = hub.settings
    a, b = settings.students[0], settings.students[1]
    exchange = Path(settings.exchange) / settings.course_id
    a_submissions = sorted((exchange / "inbound").glob(f"{a}+{A1}+*"))  # root sees them
    a_feedback = sorted((settings.home(a) / A1 / "feedback").rglob("*.html"))
    exchange_feedback = sorted((exchange / "feedback").glob("*.html"))
    assert a_submissions and a_feedback and exchange_feedback
    solutions = settings.course_dir() / "solutions" / A1 / f"{A1}.ipynb"
    checks = Checks()
    for what, command in [
        ("list A's home", ["ls", str(settings.home(a))]),
        ("read A's notebook", ["cat", str(settings.home(a) / NOTEBOOK)]),
        ("read A's fetched feedback", ["cat", str(a_feedback[0])]),
        ("list the instructor's home", ["ls", str(settings.home(settings.instructor))]),
        ("read the instructor's solutions/", ["cat", str(solutions)]),
        ("list the exchange's inbound/", ["ls", str(exchange / "inbound")]),
        ("list the exchange's feedback/", ["ls", str(exchange / "feedback")]),
        ("write into outbound/ (a release by hand)", ["touch", str(exchange / "outbound" / "planted")]),
        ("delete the released assignment", ["rm", "-rf", str(exchange / "outbound" / A1)]),
        ("rename the course folder", ["mv", str(exchange), f"{settings.exchange}/gone"]),
        ("change A's submitted notebook, even knowing its name",
         ["sh", "-c", f"echo planted >> '{a_submissions[0] / f'{A1}.ipynb'}'"]),
        ("change A's feedback in the exchange, even knowing its name",
         ["sh", "-c", f"echo planted >> '{exchange_feedback[0]}'"]),
        ("delete A's feedback in the exchange, even knowing its name", ["rm", "-f", str(exchange_feedback[0])]),
    ]:
        result = hub.as_user(b, *command)
        checks.expect(f"B cannot {what}", denied(result), (result.returncode, result.stderr.strip()[:200]))
    found = hub.as_user(b, "python3", "-c", f"import glob; print(glob.glob('{exchange}/inbound/*'))")
    checks.expect("B's glob of inbound/ finds no submission", found.stdout.strip() == "[]", found.stdout.strip())
    checks.expect("A's submission is still A's", all(p.stat().st_uid == _uid(a) for p in a_submissions), a_submissions)
    planted = hub.as_user(b, "mkdir", f"{settings.exchange}/other_course")
    courses = hub.students[0].courses()["value"]
    checks.expect("a folder B makes in the exchange root is not a course A sees",
                  courses == [settings.course_id], courses)
    if planted.returncode == 0:
        hub.as_user(b, "rmdir", f"{settings.exchange}/other_course")
    checks.assert_all()


# --- in a real browser ------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SHOTS = ROOT / "artifacts" / "hub"  # git-ignored


def log_in(playwright, tmp_path_factory, hub, user: str):
    """A fresh Chromium profile, the hub's login form, and JupyterLab once it has loaded."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp(f"chromium-{user}")), executable_path=str(CHROMIUM), headless=True,
        args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 900})
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", course_hub_passwords(hub)[user])
    page.click("#login_submit")
    page.wait_for_selector(".jp-LabShell", timeout=120_000)
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    page.wait_for_timeout(1500)  # the plugins settle
    return context, page


def course_hub_passwords(hub) -> dict:
    import course_hub

    return course_hub.passwords(hub.settings)


def menu_items(page, menu: str) -> list[str]:
    """The labels of a main-menu menu (opened, read, closed)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.wait_for_selector(".lm-Menu-itemLabel", timeout=10_000)
    labels = [label.strip() for label in page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_inner_texts()]
    page.keyboard.press("Escape")
    return [label for label in labels if label]


def open_from_menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).first.click()


@pytest.mark.browser
def test_in_chromium_a_student_fetches_checks_and_submits_and_the_formgrader_shows_it(
        course_hub_running, cycle, tmp_path_factory):
    if not CHROMIUM.exists():
        message = f"the browser test needs {CHROMIUM}: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from jupyterlab_page import open_notebook, output_errors, run_all_cells
    from playwright.sync_api import sync_playwright

    hub = course_hub_running
    steps, settings = hub.steps, hub.settings
    student = hub.students[2]  # submitted a blank notebook in the cycle; starts over from a fresh fetch
    moved = hub.as_user(student.name, "mv", str(settings.home(student.name) / A1),
                        str(settings.home(student.name) / f"{A1}.first-try"))
    assert moved.returncode == 0, moved.stderr
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context, page = log_in(playwright, tmp_path_factory, hub, student.name)
        student_menu = menu_items(page, "Nbgrader")
        with steps.timed("browser: student's Assignments panel lists a1"):
            open_from_menu(page, "Nbgrader", "Assignment List")
            page.wait_for_selector("#released_assignments_list >> text=a1_convolution", timeout=60_000)
        panel = page.inner_text("#assignments") if page.locator("#assignments").count() else page.inner_text("body")
        page.screenshot(path=str(SHOTS / "01-student-assignments-released.png"))
        assert "Error fetching courses!" not in page.inner_text("body")
        assert settings.course_id in panel
        with steps.timed("browser: student clicks Fetch"):
            page.locator("#released_assignments_list button", has_text="Fetch").first.click()
            page.wait_for_selector("#fetched_assignments_list >> text=a1_convolution", timeout=60_000)
        page.screenshot(path=str(SHOTS / "02-student-assignments-fetched.png"))
        # the student writes the answers (saved through the contents API, as the editor saves);
        # every cell in the page, so that every output can be read (JupyterLab 4 virtualises)
        student.write_notebook(NOTEBOOK, answered(student.read_notebook(NOTEBOOK), "correct"))
        student.put("lab/api/settings/@jupyterlab/notebook-extension:tracker",
                    {"raw": json.dumps({"windowingMode": "none"})})
        with steps.timed("browser: student opens a1 and runs every cell (visible checks)"):
            open_notebook(page, settings.user_url(student.name).rstrip("/"), student.token, NOTEBOOK)
            run_all_cells(page)
        page.screenshot(path=str(SHOTS / "03-student-visible-checks.png"))
        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
        assert output_errors(page) == []
        passed = [text for text in outputs if "✓" in text]
        assert len(passed) >= len(POINTS), outputs[:10]
        with steps.timed("browser: student clicks Submit"):
            open_from_menu(page, "Nbgrader", "Assignment List")
            page.wait_for_selector("#fetched_assignments_list button:has-text('Submit')", timeout=60_000)
            count = "document.querySelector('#submitted_assignments_list').innerText.split(' UTC').length"
            before = page.evaluate(f"() => {count}")
            page.locator("#fetched_assignments_list button", has_text="Submit").first.click()
            page.wait_for_function(f"() => {count} > {before}", timeout=60_000)
        page.screenshot(path=str(SHOTS / "04-student-submitted.png"))
        context.close()
    latest = submissions_of(student.assignments(settings.course_id))[-1]
    hub.instructor.formgrader("POST", f"assignment/{A1}/collect")

    with sync_playwright() as playwright:
        context, page = log_in(playwright, tmp_path_factory, hub, settings.instructor)
        instructor_menu = menu_items(page, "Nbgrader")
        with steps.timed("browser: instructor's Nbgrader > Formgrader (inside JupyterLab) lists a1"):
            open_from_menu(page, "Nbgrader", "Formgrader")
            frame = page.wait_for_selector("#formgrader iframe", timeout=60_000).content_frame()
            frame.wait_for_selector("text=a1_convolution", timeout=60_000)
        page.screenshot(path=str(SHOTS / "05-instructor-formgrader-in-lab.png"))
        with steps.timed("browser: instructor opens a1's submissions"):
            frame.locator(f"a[href*='manage_submissions/{A1}']").first.click()
            frame.wait_for_selector(f"text={student.name}", timeout=60_000)
            page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / "06-instructor-formgrader-submissions.png"))
        text = frame.inner_text("body")
        context.close()
    for name in settings.students:
        assert name in text
    # nbgrader's lab extensions: the Assignments panel for everyone, the rest for the instructor
    assert "Assignment List" in student_menu and "Formgrader" not in student_menu, student_menu
    assert {"Assignment List", "Formgrader", "Course List"} <= set(instructor_menu), instructor_menu
    collected = hub.instructor.formgrader("GET", f"submission/{A1}/{student.name}")
    assert abs((moment(collected["timestamp"]) - moment(latest["timestamp"])).total_seconds()) <= 2, \
        "the browser's submission was collected"
