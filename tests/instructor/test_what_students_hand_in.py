"""Nothing a student hands in runs, reads or writes outside its own grade, through the guides'
one-account commands: ``nbgrader autograde`` and ``make grade`` (``python -m
course_utils.instructor.autograde``), ``nbgrader generate_feedback``, Formgrader's page,
``nbgrader zip_collect`` and both exports.

=================  =============================================================================
student            a2_pooling, handed in
=================  =============================================================================
honest             the instructor's solution: the 10/10 control
payloads           the solution, plus a cell whose outputs are HTML with ``onerror``, JavaScript,
                   SVG with a script, a widget, markdown with a script, and a plot; markdown
                   cells with ``<script>``, ``<img onerror>``, ``javascript:``, ``<iframe
                   srcdoc>``, ``data:text/html`` and an SVG attachment with a script; widget state
historian          the solution, and a last cell printing every input IPython ran (``In``)
linker             the solution, and beside it ``leak.txt -> ../../../solutions/...``,
                   ``notes -> /etc/passwd``, ``etc -> /etc`` and a FIFO; a cell tries to read them
linked_notebook    its notebook is a symbolic link to the instructor's solution notebook
=================  =============================================================================
"""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader_course import (
    COURSE_ID,
    cell_text,
    cell_with_grade_id,
    copy_course,
    course_env,
    gradebook_scores,
    nbgrader,
    submission,
    submit,
)
from test_untrusted import SVG_WITH_SCRIPT, active_content

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sandbox_works")]

ASSIGNMENT = "a2_pooling"
FULL = {"relu": 2, "max_pool2d": 4, "avg_pool2d": 4}
PAYLOAD_CELL = """from IPython.display import HTML, Javascript, SVG, Markdown, display
import ipywidgets
import matplotlib.pyplot as plt
%matplotlib inline
display(HTML('<img src=x onerror="alert(\\'XSS output\\')"><b>bold</b>'))
display(Javascript("alert('XSS javascript')"))
display(SVG('''{svg}'''))
display(ipywidgets.IntSlider(value=3))
display(Markdown("<script>alert('XSS md output')</script>\\n\\n**md**"))
plt.plot([0, 1], [1, 0])
plt.show()
""".format(svg=SVG_WITH_SCRIPT)
PAYLOAD_MARKDOWN = ("Maths stays: $x^2 + y_1$\n\n<script>alert('XSS markdown script')</script>\n\n"
                    "<img src=x onerror=\"alert('XSS markdown img')\">\n\n<a href=\"javascript:alert('XSS link')\">link</a>\n\n"
                    "<iframe srcdoc=\"<script>alert('XSS srcdoc')</script>\"></iframe>\n\n"
                    "<a href=\"data:text/html,<script>alert('XSS data link')</script>\">data</a>\n\n"
                    "![evil](attachment:evil.svg)")
LINK_PROBE = """import os
for name in ("leak.txt", "notes", "etc", "pipe"):
    print(name, "readable:", os.path.exists(name))
"""


def payload_notebook(course: Path) -> dict:
    notebook = submission(course, ASSIGNMENT)
    extra = nbformat.v4.new_code_cell(PAYLOAD_CELL)
    markdown = nbformat.v4.new_markdown_cell(PAYLOAD_MARKDOWN)
    markdown["attachments"] = {"evil.svg": {"image/svg+xml": base64.b64encode(SVG_WITH_SCRIPT.encode()).decode()}}
    notebook["cells"][2:2] = [dict(markdown), dict(extra)]
    notebook["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"XSS": 1}}}
    return notebook


def linker_notebook(course: Path) -> dict:
    notebook = submission(course, ASSIGNMENT)
    notebook["cells"].insert(2, dict(nbformat.v4.new_code_cell(LINK_PROBE)))
    return notebook


HISTORY_PROBE = "print('\\n=====\\n'.join(In))"


def historian_notebook(course: Path) -> dict:
    notebook = submission(course, ASSIGNMENT)
    notebook["cells"].append(dict(nbformat.v4.new_code_cell(HISTORY_PROBE)))
    return notebook


def plant_links(course: Path) -> None:
    folder = course / "submitted" / "linker" / ASSIGNMENT
    (folder / "leak.txt").symlink_to(f"../../../solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
    (folder / "notes").symlink_to("/etc/passwd")
    (folder / "etc").symlink_to("/etc")
    os.mkfifo(folder / "pipe")
    linked = course / "submitted" / "linked_notebook" / ASSIGNMENT
    linked.mkdir(parents=True)
    (linked / f"{ASSIGNMENT}.ipynb").symlink_to(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def json_cells(notebook: dict) -> dict:
    for cell in notebook["cells"]:  # nbformat wants ids on new cells
        cell.setdefault("id", f"cell-{len(str(cell))}-{abs(hash(str(cell['source']))) % 10**8}")
    return notebook


def run(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=course, env=course_env(), capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module", params=["nbgrader", "course_utils"])
def graded(request, released_course, tmp_path_factory):
    """The four students graded by one command, then their feedback generated."""
    course = copy_course(released_course, tmp_path_factory.mktemp(request.param) / "course")
    submit(course, ASSIGNMENT, {"honest": submission(course, ASSIGNMENT),
                                "payloads": json_cells(payload_notebook(course)),
                                "linker": json_cells(linker_notebook(course)),
                                "historian": json_cells(historian_notebook(course))})
    plant_links(course)
    if request.param == "nbgrader":
        result = run(course, "nbgrader", "autograde", ASSIGNMENT)
    else:
        result = run(course, "course_utils.instructor.autograde", ASSIGNMENT, "--jobs", "2")
    feedback = run(course, "nbgrader", "generate_feedback", ASSIGNMENT)
    return request.param, course, result, feedback


def scores(course: Path, students) -> dict:
    return gradebook_scores(f"sqlite:///{course / 'gradebook.db'}", students, ASSIGNMENT)


def test_honest_code_scores_full_marks_whatever_else_its_notebook_holds(graded):
    command, course, result, _ = graded
    students = ("honest", "payloads", "linker", "historian")
    assert scores(course, students) == {name: FULL for name in students}, \
        result.stdout + result.stderr[-3000:]


def test_no_link_fifo_or_device_reaches_autograded_or_feedback_and_the_kernel_reads_none(graded):
    command, course, result, feedback = graded
    for folder in (course / "autograded" / "linker" / ASSIGNMENT, course / "feedback" / "linker" / ASSIGNMENT):
        names = sorted(path.name for path in folder.iterdir())
        assert names in ([f"{ASSIGNMENT}.ipynb"], [f"{ASSIGNMENT}.html"], [f"{ASSIGNMENT}.ipynb", "timestamp.txt"],
                         [f"{ASSIGNMENT}.html", "timestamp.txt"]), (folder, names)
        for path in folder.rglob("*"):
            assert not path.is_symlink() and "BEGIN SOLUTION" not in path.read_text(errors="replace")
            assert "root:x:0:0" not in path.read_text(errors="replace")
    probe = json.loads((course / "autograded" / "linker" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())["cells"][2]
    text = cell_text(probe)
    for name in ("leak.txt", "notes", "etc", "pipe"):
        assert f"{name} readable: False" in text, text
    said = result.stdout + result.stderr
    for name, why in (("leak.txt", "a symbolic link to ../../../solutions"), ("notes", "a symbolic link to /etc/passwd"),
                      ("etc", "a symbolic link to /etc"), ("pipe", "a FIFO")):
        if command == "nbgrader":
            assert re.search(rf"Skipped \S*linker/{ASSIGNMENT}/{re.escape(name)}: it is {re.escape(why)}", said), said[-3000:]
        else:  # the line of that student, and its record
            line = next(line for line in result.stdout.splitlines() if line.startswith("linker:"))
            assert f"skipped {name}: {why}" in line, line
    notes = json.loads((course / "autograded" / "linker" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())[
        "metadata"]["course_grading"]["notes"]
    assert sorted(note.split(":")[0] for note in notes) == ["skipped etc", "skipped leak.txt", "skipped notes",
                                                             "skipped pipe"], notes


def test_the_kernel_never_holds_the_hidden_tests_so_no_cell_can_hand_them_back(graded):
    command, course, _, _ = graded
    notebook = json.loads((course / "autograded" / "historian" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    history = cell_text(notebook["cells"][-1])
    assert "grading.check_relu(relu)" in history  # the probe ran and printed the test cells' inputs
    assert "HIDDEN TESTS" not in history and "hidden=True" not in history, history
    test_cell = "".join(cell_with_grade_id(notebook, "test_relu")["source"])
    assert "### BEGIN HIDDEN TESTS" in test_cell  # restored for the instructor once the cell ran
    page = (course / "feedback" / "historian" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "grading.check_relu(relu)" in page and "HIDDEN TESTS" not in page and "hidden=True" not in page


def test_a_notebook_that_is_a_link_is_refused_for_that_student_with_a_message(graded):
    command, course, result, _ = graded
    said = result.stdout + result.stderr
    if command == "nbgrader":
        assert re.search(r"Refused the notebook \S*linked_notebook/a2_pooling/a2_pooling.ipynb: it is a symbolic link "
                         r"to \S*solutions/a2_pooling/a2_pooling.ipynb, not a notebook the student wrote", said), said[-3000:]
    assert not (course / "autograded" / "linked_notebook" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE_ID) as gradebook:
        try:  # never graded from the solution: no submission, or one that scored nothing
            assert gradebook.find_submission(ASSIGNMENT, "linked_notebook").score == 0
        except MissingEntry:
            pass
    if command == "course_utils":
        line = next(line for line in result.stdout.splitlines() if line.startswith("linked_notebook:"))
        assert re.match(r"linked_notebook: FAILED after [\d.]+ s: refused: a2_pooling.ipynb is a symbolic link to "
                        r"\S*solutions/a2_pooling/a2_pooling.ipynb, not a notebook the student wrote", line), line
    assert result.returncode != 0  # the instructor is told something needs attention


def test_the_autograded_notebook_and_the_feedback_hold_nothing_active_and_still_the_plot_and_maths(graded):
    command, course, _, feedback = graded
    assert feedback.returncode == 0, feedback.stderr[-3000:]
    notebook = json.loads((course / "autograded" / "payloads" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    shown = "\n".join("".join(cell["source"]) if cell["cell_type"] == "markdown" else
                      json.dumps(cell.get("outputs", [])) for cell in notebook["cells"])
    assert not active_content(shown) and "XSS javascript" not in shown and "widgets" not in notebook["metadata"]
    page = (course / "feedback" / "payloads" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert not active_content(page), active_content(page)
    head = page[page.index("<head"):page.index("<head") + 400]
    assert 'http-equiv="Content-Security-Policy"' in head and "script-src https://cdnjs.cloudflare.com" in head
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)  # the plot shows
    assert "$x^2 + y_1$" in page  # the maths is there for MathJax
    assert "data:image/svg+xml;base64," in page  # the SVG output and attachment, as images
    honest = (course / "feedback" / "honest" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Score: 10.0 / 10.0" in re.sub(r"<[^>]+>|\s+", " ", honest).replace("  ", " ") or "10.0" in honest


def test_formgraders_page_shows_a_submission_sanitized_under_a_policy_even_when_graded_elsewhere(graded, tmp_path):
    """What Formgrader's SubmissionHandler writes, with the course's server extension installed:
    also for an autograded notebook that still carries every payload (graded before this release)."""
    command, course, _, _ = graded
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    from course_utils.instructor.untrusted.pages import SanitizedExporter

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    exporter = SanitizedExporter(HTMLExporter(config=config))
    raw = tmp_path / "raw.ipynb"
    notebook = nbformat.read(course / "autograded" / "payloads" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(PAYLOAD_MARKDOWN))
    notebook.cells[1].outputs = [nbformat.v4.new_output("display_data", {"text/html": "<script>alert('XSS raw')</script>"})]
    nbformat.write(notebook, raw)
    resources = {"assignment_id": ASSIGNMENT, "notebook_id": ASSIGNMENT, "submission_id": "abc123", "index": 0,
                 "total": 1, "base_url": "", "student": "payloads", "last_name": "", "first_name": "",
                 "notebook_path": "/tree/x.ipynb"}
    page, _ = exporter.from_filename(str(raw), resources=resources)
    assert not active_content(page), active_content(page)
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
    assert page.index("Content-Security-Policy") < page.index("<script")
    script_src = policy.split("script-src")[1].split(";")[0]
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src
    own = re.findall(r"<script(?![^>]*src=)(?![^>]*type=\"text/x-mathjax)[^>]*>(.*?)</script>", page, re.S)
    from course_utils.instructor.untrusted.pages import _hash

    assert own and all(_hash(body) in script_src for body in own)  # Formgrader's own scripts still run


# --- ids are names, never paths (nbgrader zip_collect) ---------------------------------------------

def test_a_file_named_to_be_a_path_is_not_placed_and_nothing_is_written_outside_submitted(released_course, tmp_path):
    course = copy_course(released_course, tmp_path / "course")
    notebook = json.dumps(submission(course, "a1_convolution", solved=False)).encode()
    archive = course / "downloaded" / "a1_convolution" / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "download.zip", "w") as bundle:
        for name in (".._a1_convolution.ipynb", ".._20001_assignsubmission_file_a1_convolution.ipynb",
                     "../escaped_a1_convolution.ipynb", "ada_a1_convolution.ipynb"):
            bundle.writestr(name, notebook)
    before = sorted(str(path) for path in tmp_path.rglob("*"))
    result = run(course, "nbgrader", "zip_collect", "a1_convolution")
    assert result.returncode == 1, result.stdout + result.stderr
    assert sorted(path.name for path in (course / "submitted").iterdir()) == ["ada"]
    table = result.stdout
    for name in (".._a1_convolution.ipynb", ".._20001_assignsubmission_file_a1_convolution.ipynb"):
        row = next(line for line in table.splitlines() if line.startswith(f"download/{name}"))
        assert "NOT PLACED" in row and "not a usable student id" in row, row
    new = sorted(set(str(path) for path in tmp_path.rglob("*")) - set(before))
    outside = [path for path in new if not path.startswith((str(course / "submitted"), str(course / "downloaded")))
               and not path.endswith((".nbgrader.log", "gradebook.db-journal"))]
    assert outside == [], outside


# --- exports open safely in a spreadsheet -----------------------------------------------------------

FORMULAS = {"first_name": '=HYPERLINK("http://x","click")', "last_name": "+cmd|' /C calc'!A0",
            "email": "@SUM(1+1)*cmd"}


def formula_cells(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows for cell in row
            if cell.startswith(("=", "+", "-", "@", "\t", "\r")) and not re.fullmatch(r"[+-]?[\d.]+", cell)]


def test_neither_export_writes_a_formula_and_numbers_stay_numbers(graded_class, tmp_path):
    import shutil

    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    shutil.copytree(graded_class["path"], course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE_ID) as gradebook:
        gradebook.update_or_create_student("blank", **FORMULAS)
    with open(course / "formula_roster.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([
            ("Student", "ID", "SIS User ID", "SIS Login ID", "Section"),
            ('=HYPERLINK("http://x","click")', "1001", "@S1", "solution", "-A"),
            ("@Tab, Tom", "1002", "+S2", "bug", "=1+1")])
    nbgrader(course, "export")
    nbgrader(course, "export", "--exporter=course_utils.instructor.lms.canvas_grades.CanvasGradesExporter",
             "--CourseRoster.path=formula_roster.csv", "--to", "canvas.csv")
    for name in ("grades.csv", "canvas.csv"):
        with open(course / name, newline="") as handle:
            rows = list(csv.reader(handle))
        assert formula_cells(rows) == [], (name, formula_cells(rows))
        text = (course / name).read_text()
        assert "'=HYPERLINK" in text, name
    with open(course / "grades.csv", newline="") as handle:
        blank = [row for row in csv.DictReader(handle) if row["student_id"] == "blank"]
    assert blank and all(row[key] == "'" + value for row in blank for key, value in FORMULAS.items())
    assert all(float(row["score"]) == 0 for row in blank)  # numbers stay numbers
    with open(course / "canvas.csv", newline="") as handle:
        canvas = {row["SIS Login ID"]: row for row in csv.DictReader(handle)}
    assert canvas["solution"]["Student"] == "'" + '=HYPERLINK("http://x","click")'
    assert canvas["solution"]["Section"] == "'-A" and canvas["bug"]["Section"] == "'=1+1"
    assert canvas["bug"]["Student"] == "'@Tab, Tom" and float(canvas["solution"]["a1_convolution"]) == 10
