"""Honest students are never punished: through ``nbgrader autograde`` and ``make grade``, a right
answer scores full marks whatever ordinary things its notebook also does, and nobody suspects
tampering.

=================  ============================================================================
student            a1_convolution, handed in: the instructor's solution, and
=================  ============================================================================
solution           nothing else (the control)
slow_exploration   above conv2d's test cell, a cell that times conv2d on a bigger input for
                   about 9.6 s (the kernel allows a cell 20 s; the trusted check once gave the
                   cells and the cases 6 s in all)
pasted_data        a cell holding a pasted list of 5 million characters
ordinary_tools     cells that plot with matplotlib, show the lesson photo with course_utils,
                   loop with tqdm, run ``!ls`` and ``%timeit``
tqdm_inside        conv2d loops over the images with ``tqdm`` inside the function
gradeless_cell     a markdown cell marked graded (solution, grade, 50 points) with no grade_id
cell_magics        conv2d's cell starts with ``%%time``, zero_pad's with ``%%capture``, and a
                   cell above conv2d's test cell times it with ``%time out = conv2d(...)``
=================  ============================================================================

Graded beside them, not honest in the same way: ``helper_module`` imports conv2d from
``helpers.py`` beside its notebook. The kernel finds it; the grader cannot check it, and says so
plainly (conv2d scores 0, nobody is suspected of tampering).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import pytest
from nbgrader_course import (
    POINTS,
    cell_text,
    cell_with_grade_id,
    copy_course,
    course_env,
    gradebook_scores,
    solution_code,
    submission,
    submit,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sandbox_works")]

A1 = "a1_convolution"
SLOW = """import time
import numpy as np
big = np.random.default_rng(0).standard_normal((1, 1, 40, 40))
kernel = np.ones((1, 1, 3, 3))
started = time.perf_counter()
runs = 0
while time.perf_counter() - started < 9.6:  # how long does my loop conv2d take on a bigger input?
    conv2d(big, kernel, np.zeros(1))
    runs += 1
print(f"{runs} runs in {time.perf_counter() - started:.1f} s")
"""
PASTED = "pasted = [" + ", ".join("0.1234567" for _ in range(480_000)) + "]\nprint(len(pasted))\n"
TOOLS = [
    "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.title('my check')\nplt.show()",
    "from course_utils import images\nphoto = images.photo()\nprint(photo.shape)",
    "from tqdm.auto import tqdm\nfor step in tqdm(range(3)):\n    pass",
    "!ls\n%timeit 1 + 1",
]


def with_cells(notebook: dict, before: str, sources) -> dict:
    """``notebook`` with code cells holding ``sources`` inserted just before the cell ``before``."""
    index = notebook["cells"].index(cell_with_grade_id(notebook, before))
    for offset, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        notebook["cells"].insert(index + offset, json.loads(nbformat.writes(nbformat.v4.new_notebook(
            cells=[cell])))["cells"][0])
    return notebook


def notebooks(course) -> dict[str, dict]:
    code = solution_code(A1)
    tqdm_conv2d = code["conv2d"].replace("    n_images, _, height, width = x.shape",
                                         "    from tqdm import tqdm\n    n_images, _, height, width = x.shape")
    tqdm_conv2d = re.sub(r"for n in range\(n_images\):", "for n in tqdm(range(n_images)):", tqdm_conv2d)
    assert "tqdm(range(n_images))" in tqdm_conv2d, "the solution changed: update tqdm_inside"
    gradeless = submission(course, A1)
    gradeless["cells"].insert(2, {"cell_type": "markdown", "id": "gradeless", "source": "My notes.",
                                  "metadata": {"nbgrader": {"solution": True, "grade": True, "points": 50,
                                                            "schema_version": 3}}})
    return {
        "solution": submission(course, A1),
        "slow_exploration": with_cells(submission(course, A1), "test_conv2d", [SLOW]),
        "pasted_data": with_cells(submission(course, A1), "test_zero_pad", [PASTED]),
        "ordinary_tools": with_cells(submission(course, A1), "test_conv2d", TOOLS),
        "tqdm_inside": submission(course, A1, code={"conv2d": tqdm_conv2d}),
        "gradeless_cell": gradeless,
        "cell_magics": with_cells(submission(course, A1, code={
            "conv2d": "%%time\n" + code["conv2d"], "zero_pad": "%%capture\n" + code["zero_pad"]}),
            "test_conv2d", [TIMED]),
    }


TIMED = "%time out = conv2d(np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3)), np.zeros(1))\nprint(out.shape)"
HELPERS = "import numpy as np\n\n\n{conv2d}"


def helper_module(course) -> dict:
    """conv2d imported from helpers.py beside the notebook (written by :func:`plant_helpers`)."""
    return submission(course, A1, code={"conv2d": "from helpers import conv2d\n"})


def plant_helpers(course) -> None:
    code = solution_code(A1)
    body = "\n\n".join(code[name] for name in ("zero_pad", "conv_single_step", "output_size", "conv2d"))
    (course / "submitted" / "helper_module" / A1 / "helpers.py").write_text(HELPERS.format(conv2d=body))


@pytest.fixture(scope="module", params=["nbgrader", "course_utils"])
def graded(request, released_course, tmp_path_factory):
    course = copy_course(released_course, tmp_path_factory.mktemp(request.param) / "course")
    students = notebooks(course)
    submit(course, A1, {**students, "helper_module": helper_module(course)})
    plant_helpers(course)
    command = ([sys.executable, "-m", "nbgrader", "autograde", A1] if request.param == "nbgrader"
               else [sys.executable, "-m", "course_utils.instructor.autograde", A1, "--jobs", "2"])
    result = subprocess.run(command, cwd=course, env=course_env(), capture_output=True, text=True, timeout=1200)
    return request.param, course, result, sorted(students)


def autograded(course, student) -> dict:
    return json.loads((course / "autograded" / student / A1 / f"{A1}.ipynb").read_text())


def test_every_honest_student_scores_full_marks_and_nobody_is_suspected(graded):
    command, course, result, students = graded
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    scores = gradebook_scores(f"sqlite:///{course / 'gradebook.db'}", students, A1)
    assert scores == {student: POINTS[A1] for student in students}, output[-4000:]
    assert "tampering suspected" not in output and "FAILED" not in output
    assert "KeyError" not in output


def test_the_feedback_never_shows_an_error_the_student_did_not_make(graded):
    command, course, _, students = graded
    for student in students:
        notebook = autograded(course, student)
        tests = [cell for cell in notebook["cells"]
                 if cell["metadata"].get("nbgrader", {}).get("grade") and not cell["metadata"]["nbgrader"].get("solution")]
        text = "\n".join(cell_text(cell) for cell in tests)
        for word in ("DelegationError", "ModuleNotFoundError", "NameError", "tampering", "was stopped",
                     "look for a loop", "could not be checked"):
            assert word not in text, (student, word, text[:3000])
        quiet = text.count("use plotting or course tools, which the grader skips")
        quiet += text.count("uses plotting or course tools, which the grader skips")
        assert quiet == (1 if student == "ordinary_tools" else 0), (student, text[:2000])


def test_the_slow_exploration_cell_ran_as_long_as_in_the_kernel(graded):
    command, course, _, _ = graded
    notebook = autograded(course, "slow_exploration")
    slow = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code" and "9.6" in "".join(cell["source"]))
    assert re.search(r"\d+ runs in 9\.\d s", cell_text(slow)), cell_text(slow)
    recorded = cell_with_grade_id(notebook, "test_conv2d")["metadata"]["course_grading"]
    assert recorded["score"] == POINTS[A1]["conv2d"] and recorded["mismatch"] is None, recorded


def test_a_graded_cell_without_a_grade_id_is_an_ordinary_cell_worth_nothing(graded):
    command, course, result, _ = graded
    notebook = autograded(course, "gradeless_cell")
    mine = next(cell for cell in notebook["cells"] if "".join(cell["source"]).strip().endswith("My notes.</p>")
                or "".join(cell["source"]).strip() == "My notes.")
    assert "nbgrader" not in mine["metadata"] or not mine["metadata"]["nbgrader"]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="cnn_course") as gradebook:
        assert gradebook.find_submission(A1, "gradeless_cell").max_score == 10
    assert "is marked as an nbgrader cell but has no grade_id" in result.stdout + result.stderr or command == "course_utils"


def test_a_function_imported_from_a_file_beside_the_notebook_costs_it_with_a_plain_reason(graded):
    command, course, result, _ = graded
    output = result.stdout + result.stderr
    got = gradebook_scores(f"sqlite:///{course / 'gradebook.db'}", ["helper_module"], A1)["helper_module"]
    assert got == {**POINTS[A1], "conv2d": 0}, output[-3000:]
    test_cell = cell_with_grade_id(autograded(course, "helper_module"), "test_conv2d")
    recorded = test_cell["metadata"]["course_grading"]
    assert recorded["kernel_score"] == POINTS[A1]["conv2d"]  # the kernel found helpers.py
    assert recorded["mismatch"] == ("test cell test_conv2d passed in the kernel; in the trusted check conv2d is "
                                    f"imported from a module the checking process does not offer (0/{POINTS[A1]['conv2d']:g})")
    assert "tampering suspected" not in output
    assert "Define it in the notebook itself" in re.sub(r"\s+", " ", cell_text(test_cell))
