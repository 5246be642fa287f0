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
