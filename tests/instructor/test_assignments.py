"""The assignments: names and signatures other tools rely on, and the released student versions.

``assignments/`` is what ``make assignments`` makes from ``solutions/`` (byte for byte), and
``nbgrader validate --invert`` shows that every test cell of every released notebook fails
before the student writes any code.

What an instructor may change without touching a test: points, prose, the visible and hidden
check lines' surroundings, more cells. What the tests require (docs/instructors/release.md): every
function's solution cell has ``grade_id`` = the function's name and the signature below, its
test cell ``test_<name>`` calls ``grading.check_<name>(<name>)`` and, between the hidden-tests
markers, ``grading.check_<name>(<name>, hidden=True)``; the text says how the points are split.
Points are read from ``solutions/`` wherever a test needs them.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.instructor import release

ROOT = Path(__file__).resolve().parents[2]

# assignment -> (function, signature), in notebook order. Other tools rely on these.
CONTRACT = {
    "a1_convolution": [
        ("output_size", "(n, f, p=0, s=1)"),
        ("zero_pad", "(x, pad)"),
        ("conv_single_step", "(window, kernel, bias=0.0)"),
        ("conv2d", "(x, w, b, stride=1, padding=0)"),
    ],
    "a2_pooling": [
        ("relu", "(x)"),
        ("max_pool2d", "(x, size, stride=None)"),
        ("avg_pool2d", "(x, size, stride=None)"),
    ],
    "a3_backprop": [
        ("relu_backward", "(dout, x)"),
        ("max_pool2d_backward", "(dout, x, size, stride=None)"),
        ("conv2d_backward", "(dout, x, w, b, stride=1, padding=0)"),
    ],
}


def nbgrader_cells(path: Path) -> list[tuple[dict, str]]:
    notebook = json.loads(path.read_text())
    return [(cell["metadata"]["nbgrader"], "".join(cell["source"]))
            for cell in notebook["cells"] if "nbgrader" in cell["metadata"]]


def signature(source: str) -> tuple[str, str]:
    function = next(node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef))
    return function.name, f"({ast.unparse(function.args)})"


def test_every_solution_is_listed_in_the_contract():
    assert release.assignment_ids(ROOT) == sorted(CONTRACT)


def check_naming_contract(root: Path, assignment: str) -> None:
    cells = nbgrader_cells(root / "solutions" / assignment / f"{assignment}.ipynb")
    solutions = [(meta, source) for meta, source in cells if meta.get("solution")]
    tests = [meta for meta, _ in cells if meta.get("grade")]
    assert [(meta["grade_id"], *signature(source)[1:]) for meta, source in solutions] == list(CONTRACT[assignment])
    assert all(signature(source)[0] == meta["grade_id"] for meta, source in solutions)
    assert [meta["grade_id"] for meta in tests] == [f"test_{name}" for name, _ in CONTRACT[assignment]]
    assert all(float(meta["points"]) > 0 for meta in tests)


def check_test_cells(root: Path, assignment: str) -> None:
    """Each test cell calls its check on the visible cases, and on the hidden ones between the
    hidden-tests markers (the trusted grader reads which function each cell checks from these)."""
    for meta, source in nbgrader_cells(root / "solutions" / assignment / f"{assignment}.ipynb"):
        if meta.get("grade"):
            name = meta["grade_id"].removeprefix("test_")
            lines = [line.strip() for line in source.splitlines()]
            assert f"grading.check_{name}({name})" in lines, (assignment, name, source)
            begin, end = lines.index("### BEGIN HIDDEN TESTS"), lines.index("### END HIDDEN TESTS")
            assert f"grading.check_{name}({name}, hidden=True)" in lines[begin:end], (assignment, name, source)


def check_points_split_is_told(root: Path, assignment: str) -> None:
    """The text above each function says how its points are split: its check's groups, in order."""
    from course_utils.grading.cases import CHECKS
    from course_utils.grading.specs import DTYPE, INPUT_UNCHANGED

    label = {DTYPE: "dtype (float32 in, float32 out)", INPUT_UNCHANGED: "input left unchanged"}
    notebook = json.loads((root / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    text = " ".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    for name, _ in CONTRACT[assignment]:
        groups = " · ".join(label.get(group, group) for group in CHECKS[name].groups)
        assert "groups of checks" in text and groups in text, (assignment, name, groups)


@pytest.mark.parametrize("assignment", sorted(CONTRACT))
def test_solution_and_test_cells_follow_the_naming_contract(assignment):
    check_naming_contract(ROOT, assignment)


@pytest.mark.parametrize("assignment", sorted(CONTRACT))
def test_test_cells_call_the_visible_and_the_hidden_checks(assignment):
    check_test_cells(ROOT, assignment)


@pytest.mark.parametrize("assignment", sorted(CONTRACT))
def test_the_text_says_how_each_functions_points_are_split(assignment):
    check_points_split_is_told(ROOT, assignment)


@pytest.mark.slow
def test_an_instructor_who_changes_points_and_adds_checks_keeps_the_tests_passing(tmp_path):
    """What an instructor does between two terms: more points for conv2d, an extra assert in its
    test cell, a new note in the text; released again, every contract above still holds."""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    path = course / "solutions" / "a1_convolution" / "a1_convolution.ipynb"
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade_id") == "test_conv2d":
            meta["points"] = 6
            cell["source"] = ["assert callable(conv2d)\n", *cell["source"]]
    notebook["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": ["Due Friday."]})
    path.write_text(json.dumps(notebook, indent=1))
    release.generate(course, ["a1_convolution"], db_url=f"sqlite:///{course / 'gradebook.db'}")
    check_naming_contract(course, "a1_convolution")
    check_test_cells(course, "a1_convolution")
    check_points_split_is_told(course, "a1_convolution")
    from nbgrader_course import solution_points

    assert solution_points("a1_convolution", course)["conv2d"] == 6


@pytest.mark.parametrize("assignment", sorted(CONTRACT))
def test_the_release_has_no_solutions_and_no_hidden_tests(assignment):
    path = ROOT / "assignments" / assignment / f"{assignment}.ipynb"
    text = path.read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text
    stubs = [source for meta, source in nbgrader_cells(path) if meta.get("solution")]
    assert len(stubs) == len(CONTRACT[assignment])
    assert all(source.rstrip().endswith("# YOUR CODE HERE\n    raise NotImplementedError()") for source in stubs)


@pytest.mark.slow
def test_assignments_folder_is_up_to_date_with_solutions():
    problems = release.stale_files(ROOT)
    assert not problems, "\n".join(problems) + "\nRun `make assignments` and commit the result."


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(CONTRACT))
def test_every_test_of_the_released_notebook_fails_before_the_student_writes_code(assignment):
    env = {key: value for key, value in os.environ.items() if key != "COURSE_GRADEBOOK_URL"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", "--invert",
         f"assignments/{assignment}/{assignment}.ipynb"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Success! The notebook does not pass any tests." in result.stdout, result.stdout[-3000:]
