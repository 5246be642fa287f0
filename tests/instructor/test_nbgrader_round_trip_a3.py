"""The nbgrader cycle for ``a3_backprop``: release, autograde four fake students, read the gradebook.

Lean on purpose (the whole instructor cycle, with zip collection, feedback and export, is
``test_nbgrader_round_trip.py``): a temporary course holding only a3, the submissions put where
``nbgrader collect`` would, one ``nbgrader autograde a3_backprop``.

==========  ==================================================================================
student     a3_backprop
==========  ==================================================================================
solution    the instructor's solution: 10 / 10
blank       the release as is: 0
bug         conv2d_backward resets dw for every image (forgot to sum over the batch): loses the
            groups of dw that have several images (partial credit), keeps the other 5 points
delegate    conv2d_backward gets its gradients from torch autograd: 0 for it, the rest full marks
==========  ==================================================================================
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from nbgrader_course import (
    COURSE_ID,
    ROOT,
    autograded_notebook,
    cell_text,
    mutate,
    solution_points,
    nbgrader,
    solution_code,
    submission,
    submit,
)

from course_utils.instructor import release

pytestmark = pytest.mark.slow

ASSIGNMENT = "a3_backprop"
POINTS = solution_points(ASSIGNMENT)  # function -> points, as the instructor set them

AUTOGRAD = '''def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    import torch
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(torch.tensor(dout))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()
'''


def students(course: Path) -> dict[str, dict]:
    code = solution_code(ASSIGNMENT)
    batch_bug = mutate(code["conv2d_backward"], "    for n in range(n_images):\n",
                       "    for n in range(n_images):\n        dw = np.zeros_like(w)\n")
    return {
        "solution": submission(course, ASSIGNMENT),
        "blank": submission(course, ASSIGNMENT, solved=False),
        "bug": submission(course, ASSIGNMENT, code={"conv2d_backward": batch_bug}),
        "delegate": submission(course, ASSIGNMENT, code={"conv2d_backward": AUTOGRAD}),
    }


EXPECTED = {
    "solution": POINTS,
    "blank": dict.fromkeys(POINTS, 0),
    # dx and db are right; dw is right only with one image: 3 of its 6 groups fail
    # (batch and channels, stride and padding, non-square), each gradient a third of the points
    "bug": {**POINTS, "conv2d_backward": 5 * (6 + 3 + 6) / 18},
    "delegate": {**POINTS, "conv2d_backward": 0},
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Release a3 in a fresh course, submit the students, autograde once; return path and timing."""
    course = tmp_path_factory.mktemp("course_a3")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    release.generate(course, [ASSIGNMENT], db_url=f"sqlite:///{course / 'gradebook.db'}")
    notebooks = students(course)
    submit(course, ASSIGNMENT, notebooks)
    start = time.perf_counter()
    nbgrader(course, "autograde", ASSIGNMENT)
    seconds = time.perf_counter() - start
    print(f"\nautograde {ASSIGNMENT}: {seconds:.1f} s for {len(notebooks)} submissions, "
          f"{seconds / len(notebooks):.1f} s per submission (kernel start included)")
    return {"path": course, "seconds": seconds, "students": sorted(notebooks)}


def scores(course, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course['path'] / 'gradebook.db'}", course_id=COURSE_ID) as gb:
        return {function: gb.find_grade(f"test_{function}", ASSIGNMENT, ASSIGNMENT, student).score
                for function in POINTS}


def autograded_output(course, student: str, function: str) -> str:
    notebook = autograded_notebook(course["path"], student, ASSIGNMENT)
    [cell] = [c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == f"test_{function}"]
    return " ".join(cell_text(cell).split())  # the words, whatever the line breaks


def test_solution_scores_full_marks_and_blank_scores_zero(course):
    assert scores(course, "solution") == EXPECTED["solution"]
    assert scores(course, "blank") == EXPECTED["blank"]


def test_a_typical_bug_loses_only_its_function_and_says_why(course):
    assert scores(course, "bug") == pytest.approx(EXPECTED["bug"], abs=1e-3)
    output = autograded_output(course, "bug", "conv2d_backward")
    assert "[dw]': wrong values" in output
    assert "Probably: you forgot to sum over the batch for dw" in output


def test_gradients_from_torch_autograd_score_zero(course):
    assert scores(course, "delegate") == EXPECTED["delegate"]
    output = autograded_output(course, "delegate", "conv2d_backward")
    assert "DelegationError" in output and "`import torch`" in output


def test_grading_time_per_submission(course):
    per_submission = course["seconds"] / len(course["students"])
    assert per_submission < 15, f"{ASSIGNMENT}: {per_submission:.1f} s per submission"
