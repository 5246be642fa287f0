"""The assignments: names and signatures other tools rely on, and the released student versions.

``assignments/`` is what ``make assignments`` makes from ``solutions/`` (byte for byte), and
``nbgrader validate --invert`` shows that every test cell of every released notebook fails
before the student writes any code.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.instructor import release

ROOT = Path(__file__).resolve().parents[2]

# assignment -> (function, signature, points), in notebook order. Other tools rely on these.
CONTRACT = {
    "a1_convolution": [
        ("output_size", "(n, f, p=0, s=1)", 2),
        ("zero_pad", "(x, pad)", 2),
        ("conv_single_step", "(window, kernel, bias=0.0)", 2),
        ("conv2d", "(x, w, b, stride=1, padding=0)", 4),
    ],
    "a2_pooling": [
        ("relu", "(x)", 2),
        ("max_pool2d", "(x, size, stride=None)", 4),
        ("avg_pool2d", "(x, size, stride=None)", 4),
    ],
    "a3_backprop": [
        ("relu_backward", "(dout, x)", 2),
        ("max_pool2d_backward", "(dout, x, size, stride=None)", 3),
        ("conv2d_backward", "(dout, x, w, b, stride=1, padding=0)", 5),
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


@pytest.mark.parametrize("assignment", sorted(CONTRACT))
def test_solution_and_test_cells_follow_the_naming_contract(assignment):
    cells = nbgrader_cells(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    solutions = [(meta, source) for meta, source in cells if meta.get("solution")]
    tests = [meta for meta, _ in cells if meta.get("grade")]
    assert [(meta["grade_id"], *signature(source)[1:]) for meta, source in solutions] == [
        (name, sig) for name, sig, _ in CONTRACT[assignment]
    ]
    assert all(signature(source)[0] == meta["grade_id"] for meta, source in solutions)
    assert [(meta["grade_id"], meta["points"]) for meta in tests] == [
        (f"test_{name}", points) for name, _, points in CONTRACT[assignment]
    ]
    points = dict((name, p) for name, _, p in CONTRACT[assignment])
    for conv in ("conv2d", "conv2d_backward"):
        if conv in points:
            assert points[conv] == max(points.values()) > min(points.values())


@pytest.mark.parametrize("assignment", sorted(CONTRACT))
def test_test_cells_are_a_line_of_visible_checks_and_a_line_of_hidden_ones(assignment):
    for meta, source in nbgrader_cells(ROOT / "solutions" / assignment / f"{assignment}.ipynb"):
        if meta.get("grade"):
            name = meta["grade_id"].removeprefix("test_")
            assert source.splitlines() == [
                f"grading.check_{name}({name})",
                "### BEGIN HIDDEN TESTS",
                f"grading.check_{name}({name}, hidden=True)",
                "### END HIDDEN TESTS",
            ]


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
