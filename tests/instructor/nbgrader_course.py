"""Throwaway nbgrader courses for tests: fake student submissions, nbgrader runs, gradebook reads.

A course is a temporary folder with the repository's ``nbgrader_config.py`` and ``solutions/``,
released with :func:`course_utils.instructor.release.generate`. The tests release one course per
session (``released_course`` in conftest.py) and take copies of it (:func:`copy_course`);
submissions are the released notebook with the solution's code (or a student's code) in its
solution cells.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from course_utils.instructor import release

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ("a1_convolution", "a2_pooling")
EVERY_ASSIGNMENT = ("a1_convolution", "a2_pooling", "a3_backprop")
COURSE_ID = "cnn_course"


def solution_points(assignment: str, root: Path = ROOT) -> dict[str, float]:
    """function -> points, read from the test cells of ``solutions/`` (``test_<function>``): the
    tests follow what the instructor set, never a copy of it."""
    notebook = json.loads((root / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    return {cell["metadata"]["nbgrader"]["grade_id"].removeprefix("test_"): cell["metadata"]["nbgrader"]["points"]
            for cell in notebook["cells"]
            if cell["metadata"].get("nbgrader", {}).get("grade") and not cell["metadata"]["nbgrader"].get("solution")}


POINTS = {assignment: solution_points(assignment) for assignment in EVERY_ASSIGNMENT}


def new_course(path: Path, db_url: str | None = None, assignments=EVERY_ASSIGNMENT) -> Path:
    """A course in ``path`` (created): config, solutions, ``assignments`` released, and a
    gradebook (``db_url``, default SQLite ``path/gradebook.db``) that knows them."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", path)
    shutil.copytree(ROOT / "solutions", path / "solutions")
    release.generate(path, list(assignments), db_url=db_url or f"sqlite:///{path / 'gradebook.db'}")
    return path


def copy_course(released: Path, path: Path) -> Path:
    """A copy of the released course ``released`` at ``path``: its configuration, solutions,
    release and gradebook, without anything graded (a copy takes milliseconds, a release seconds)."""
    shutil.copytree(released, path, ignore=shutil.ignore_patterns(
        "submitted", "autograded", "feedback", "downloaded", ".autograde", "*.csv"))
    return path


def cell_with_grade_id(notebook: dict, grade_id: str) -> dict:
    """The one cell of ``notebook`` whose nbgrader grade_id is ``grade_id``."""
    matches = [cell for cell in notebook["cells"]
               if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(matches) == 1, f"{len(matches)} cells with grade_id {grade_id}"
    return matches[0]


# --- building submissions from the solution and the release ----------------------------------

def solution_code(assignment: str) -> dict[str, str]:
    """grade_id -> the solution cell's code without nbgrader's solution markers."""
    notebook = json.loads((ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    code = {}
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            lines = "".join(cell["source"]).split("\n")
            code[meta["grade_id"]] = "\n".join(line for line in lines if "### " not in line)
    return code


def mutate(source: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new``; fail loudly if the solution no longer contains ``old``."""
    assert old in source, f"the round trip's bug needs {old!r} in the solution code"
    return source.replace(old, new)


def submission(course: Path, assignment: str, *, solved=True, code=None, delete_tests=(),
               edit_tests=None) -> dict:
    """The released notebook as a student might hand it in.

    ``solved``: fill every solution cell with the instructor's code; ``code``: grade_id -> the
    student's code for that cell instead; ``delete_tests``/``edit_tests``: test cells removed or
    given new source (grade_id -> source).
    """
    notebook = json.loads((course / "assignments" / assignment / f"{assignment}.ipynb").read_text())
    answers = dict(solution_code(assignment)) if solved else {}
    answers.update(code or {})
    cells = []
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in delete_tests:
            continue
        cell = copy.deepcopy(cell)
        if grade_id in answers:
            cell["source"] = answers[grade_id]
        if grade_id in (edit_tests or {}):
            cell["source"] = edit_tests[grade_id]
        cells.append(cell)
    notebook["cells"] = cells
    return notebook


def submit(course: Path, assignment: str, notebooks: dict[str, dict]) -> None:
    """Put each student's notebook where ``nbgrader collect`` would: submitted/<student>/<assignment>/."""
    for student, notebook in notebooks.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{assignment}.ipynb").write_text(json.dumps(notebook, indent=1))


# --- running nbgrader and reading what it wrote ------------------------------------------------

def course_env(db_url: str | None = None) -> dict[str, str]:
    """The environment for nbgrader in a test course: the venv's bin first on PATH (nbgrader runs
    ``alembic``), and COURSE_GRADEBOOK_URL set to ``db_url`` or removed (SQLite in the course)."""
    env = {key: value for key, value in os.environ.items() if key != "COURSE_GRADEBOOK_URL"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if db_url:
        env["COURSE_GRADEBOOK_URL"] = db_url
    return env


def nbgrader(course: Path, *args: str, db_url: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=course_env(db_url),
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-5000:]}"
    return result


def lms_download(course: Path, assignment: str, notebooks: dict[str, dict]) -> None:
    """What a learning platform's "download all" gives: one zip, one file or folder per student."""
    archive = course / "downloaded" / assignment / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "submissions.zip", "w") as bundle:
        for student, notebook in notebooks.items():
            name = (f"{student}_12345_submission/{assignment}.ipynb" if student == "tamper"
                    else f"{student}_{assignment}.ipynb")
            bundle.writestr(name, json.dumps(notebook, indent=1))


def gradebook_scores(db_url: str, students, assignment: str) -> dict[str, dict[str, float]]:
    """student -> grade_id of the function -> points, read from the gradebook at ``db_url``."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id=COURSE_ID) as gb:
        return {
            student: {function: gb.find_grade(f"test_{function}", assignment, assignment, student).score
                      for function in POINTS[assignment]}
            for student in students
        }


def autograded_notebook(course: Path, student: str, assignment: str) -> dict:
    return json.loads((course / "autograded" / student / assignment / f"{assignment}.ipynb").read_text())


def cell_text(cell: dict) -> str:
    """A cell's printed output and tracebacks, without the terminal colour codes."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        parts.append("\n".join(output.get("traceback", [])))
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(parts))
