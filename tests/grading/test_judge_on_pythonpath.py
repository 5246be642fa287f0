"""A student environment where course_utils is only on PYTHONPATH (not installed) still scores
right answers as right.

The checks' judge runs as ``python -I``, which ignores PYTHONPATH; it used to fail to import
course_utils there, and every correct answer scored 0. The judge now puts the folder of the
course_utils the kernel imported first on its path. Here a fresh venv sees this venv's packages
(numpy, nbgrader, ...) through a ``.pth`` file but not course_utils, which comes from
``PYTHONPATH=<this checkout>`` only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pythonpath_only_python(tmp_path_factory) -> Path:
    """A venv with every package of this one except course_utils; returns its python."""
    folder = tmp_path_factory.mktemp("pythonpath-only")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")], check=True)
    python = folder / "venv" / "bin" / "python"
    site_packages = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        check=True, capture_output=True, text=True).stdout.strip())
    # This venv's packages through a folder of links that leaves course_utils out, whether it is
    # installed as a folder or editable (a finder .pth, which a plain path in a .pth never runs).
    packages = folder / "packages"
    packages.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower().replace("-", "_")
        if not (name.startswith("course_utils") or "course_utils" in name and name.startswith("__editable__")):
            (packages / entry.name).symlink_to(entry)
    (site_packages / "packages.pth").write_text(f"{packages}\n")
    return python


def run(python: Path, code: str, *, isolated: bool = False, cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "NBGRADER_EXECUTION")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([str(python), *(["-I"] if isolated else []), "-c", code], cwd=cwd, env=env,
                          check=False, capture_output=True, text=True, timeout=300)


def test_the_environment_has_course_utils_on_pythonpath_only(pythonpath_only_python, tmp_path):
    isolated = run(pythonpath_only_python, "import course_utils", isolated=True, cwd=tmp_path)
    assert isolated.returncode != 0 and "No module named 'course_utils'" in isolated.stderr
    found = run(pythonpath_only_python, "import course_utils, numpy; print(course_utils.__file__)", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()).is_relative_to(ROOT)


def test_a_right_answer_passes_and_a_wrong_one_fails_there(pythonpath_only_python, tmp_path):
    code = """
import json
from course_utils import grading

def output_size(n, f, p=0, s=1):
    return (n + 2 * p - f) // s + 1

def output_size_without_stride(n, f, p=0, s=1):
    return n + 2 * p - f + 1

verdicts = {}
for name, function in [("right", output_size), ("wrong", output_size_without_stride)]:
    try:
        grading.check_output_size(function)
        grading.check_output_size(function, hidden=True)
        verdicts[name] = "passed"
    except grading.CheckFailed as failed:
        verdicts[name] = "CheckFailed: " + str(failed).splitlines()[0]
print(json.dumps(verdicts))
"""
    result = run(pythonpath_only_python, code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    verdicts = json.loads(result.stdout.strip().splitlines()[-1])
    assert verdicts["right"] == "passed"
    assert verdicts["wrong"].startswith("CheckFailed: output_size failed the check")


@pytest.mark.slow
def test_nbgrader_validate_passes_a_right_notebook_there(pythonpath_only_python, tmp_path):
    """The student's path: nbgrader validate starts a kernel from that venv (PYTHONPATH inherited)."""
    released = json.loads((ROOT / "assignments" / "a1_convolution" / "a1_convolution.ipynb").read_text())
    solutions = json.loads((ROOT / "solutions" / "a1_convolution" / "a1_convolution.ipynb").read_text())
    answers = {cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"])
               for cell in solutions["cells"] if cell["metadata"].get("nbgrader", {}).get("solution")}
    for cell in released["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cell["metadata"].get("nbgrader", {}).get("solution") and grade_id in answers:
            cell["source"] = "\n".join(line for line in answers[grade_id].split("\n") if "### " not in line)
    (tmp_path / "a1_convolution.ipynb").write_text(json.dumps(released))
    result = run(pythonpath_only_python, "import runpy, sys; sys.argv = ['nbgrader', 'validate', "
                 "'a1_convolution.ipynb']; runpy.run_module('nbgrader', run_name='__main__')", cwd=tmp_path)
    assert "Success! Your notebook passes all the tests." in result.stdout, \
        result.stdout[-3000:] + result.stderr[-3000:]
