"""Students work on their own copies: ``make start`` copies an assignment out of the tracked release
into ``work/`` (git-ignored), keeps a copy that exists, and validating it changes no tracked file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import re

import pytest

ROOT = Path(__file__).resolve().parents[1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_make_start_copies_the_release_once_and_validate_leaves_tracked_files_alone(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "Makefile", course)
    (course / "student_kit").mkdir()
    shutil.copy(ROOT / "student_kit" / "lab.mk", course / "student_kit")  # the Makefile includes it
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "assignments", course / "assignments")
    tracked = course / "assignments" / "a2_pooling" / "a2_pooling.ipynb"
    before = digest(tracked)

    first = subprocess.run(["make", "-s", "start", "ASSIGNMENT=a2_pooling"], cwd=course,
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    mine = course / "work" / "a2_pooling" / "a2_pooling.ipynb"
    assert mine.read_bytes() == tracked.read_bytes() and "copied" in first.stdout

    notebook = json.loads(mine.read_text())
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["my notes"]})
    mine.write_text(json.dumps(notebook))
    again = subprocess.run(["make", "-s", "start", "ASSIGNMENT=a2_pooling"], cwd=course,
                           capture_output=True, text=True)
    assert again.returncode == 0 and "kept your work/a2_pooling/a2_pooling.ipynb" in again.stdout
    assert "my notes" in mine.read_text()  # the student's work survives

    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    env.pop("COURSE_GRADEBOOK_URL", None)
    subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(mine)], cwd=course, env=env,
                   capture_output=True, text=True, timeout=300)
    assert digest(tracked) == before

    unknown = subprocess.run(["make", "-s", "start", "ASSIGNMENT=a9_nothing"], cwd=course,
                             capture_output=True, text=True)
    assert unknown.returncode != 0 and "choose one of" in unknown.stdout + unknown.stderr


def before_you_submit_command(assignment: str) -> tuple[str, str]:
    """The folder (repository layout) and the command the assignment's "Before you submit" says."""
    notebook = json.loads((ROOT / "assignments" / assignment / f"{assignment}.ipynb").read_text())
    text = next("".join(cell["source"]) for cell in notebook["cells"]
                if "".join(cell["source"]).startswith("## Before you submit"))
    folder = re.search(r"`cd (work/[^`]+)` in the course folder", text).group(1)
    command = re.search(r"run `(nbgrader validate [^`]+)`", text).group(1)
    assert f"`cd {assignment}` on a hub" in text  # the hub's layout: the fetched folder in the home
    return folder, command


@pytest.mark.parametrize("assignment", ["a1_convolution", "a2_pooling", "a3_backprop"])
def test_every_assignment_says_how_to_validate_in_both_layouts(assignment):
    folder, command = before_you_submit_command(assignment)
    assert folder == f"work/{assignment}" and command == f"nbgrader validate {assignment}.ipynb"


@pytest.mark.slow
def test_the_validate_command_works_where_the_assignment_says_and_a_wrong_path_is_an_error(tmp_path):
    assignment = "a2_pooling"
    folder, command = before_you_submit_command(assignment)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
           "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter_config" / "course")}  # what `make lab`'s terminals have
    env.pop("COURSE_GRADEBOOK_URL", None)
    for layout in ("repository", "hub"):
        where = tmp_path / layout / (folder if layout == "repository" else assignment)
        where.mkdir(parents=True)
        shutil.copy(ROOT / "assignments" / assignment / f"{assignment}.ipynb", where)
        ran = subprocess.run(command.split(), cwd=where, env=env, capture_output=True, text=True, timeout=300)
        said = ran.stdout + ran.stderr
        assert "VALIDATION FAILED" in said or "failed" in said.lower(), (layout, said[-2000:])  # a blank notebook
        assert "no notebook at" not in said
    wrong = subprocess.run([sys.executable, "-m", "nbgrader", "validate", f"assignments/{assignment}/{assignment}.ipynb"],
                           cwd=tmp_path / "hub", env=env, capture_output=True, text=True, timeout=300)
    assert wrong.returncode != 0 and "nbgrader validate: no notebook at" in wrong.stdout + wrong.stderr
