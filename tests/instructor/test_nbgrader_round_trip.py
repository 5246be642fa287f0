"""The whole nbgrader cycle, in a temporary course directory, with a handful of fake students.

One module-scoped run (slow: a kernel per submission) does what an instructor does -- generate
the assignments from ``solutions/``, collect the submissions from a learning-platform zip with
``nbgrader zip_collect``, ``nbgrader autograde`` both assignments, ``generate_feedback``,
``export`` -- using the repository's own ``nbgrader_config.py``. Each student is one targeted
case; the tests below read the gradebook, the autograded notebooks, the feedback and the CSV.

=========  =====================================================  ==========================
student    a1_convolution                                         a2_pooling
=========  =====================================================  ==========================
solution   the instructor's solution                              the instructor's solution
blank      the release as is                                      the release as is
bug        zero_pad hard-codes the padding (conv2d calls it)      max_pool2d forgets stride
           (partial credit: the groups of checks it passes)
hang       conv2d never returns (stopped by the timeouts)         the release as is
tamper     output_size is wrong and its test cell deleted;        relu modifies x in place and
           conv2d delegates to course_utils.reference and its     its test cell is edited;
           test cell is edited to pass                            max_pool2d delegates
warns      the instructor's solution                              relu is right but a leftover
                                                                  line warns (RuntimeWarning)
=========  =====================================================  ==========================
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from nbgrader_course import (
    ASSIGNMENTS,
    COURSE_ID,
    POINTS,
    cell_text,
    lms_download,
    mutate,
    nbgrader,
    new_course,
    solution_code,
    submission,
)

pytestmark = pytest.mark.slow


# --- the students ---------------------------------------------------------------------------

def submissions(course: Path) -> dict[str, dict[str, dict]]:
    """student -> assignment -> notebook: the cases in the module docstring."""
    a1, a2 = solution_code("a1_convolution"), solution_code("a2_pooling")
    return {
        "solution": {name: submission(course, name) for name in ASSIGNMENTS},
        "blank": {name: submission(course, name, solved=False) for name in ASSIGNMENTS},
        "bug": {
            "a1_convolution": submission(course, "a1_convolution", code={
                "zero_pad": mutate(a1["zero_pad"], "(pad, pad), (pad, pad)", "(1, 1), (1, 1)")}),
            "a2_pooling": submission(course, "a2_pooling", code={
                "max_pool2d": mutate(a2["max_pool2d"], "top, left = y * stride, x_ * stride", "top, left = y, x_")}),
        },
        "hang": {
            "a1_convolution": submission(course, "a1_convolution", code={
                "conv2d": mutate(a1["conv2d"], "    n_images, _, height, width = x.shape",
                                 "    while True:\n        pass\n    n_images, _, height, width = x.shape")}),
            "a2_pooling": submission(course, "a2_pooling", solved=False),
        },
        "tamper": {
            "a1_convolution": submission(
                course, "a1_convolution",
                code={
                    "output_size": mutate(a1["output_size"], "// s + 1", "// s"),
                    "conv2d": a1["conv2d"].split("    n_images")[0]
                    + "    from course_utils.reference import conv2d as fast\n"
                    + "    return fast(x, w, b, stride=stride, padding=padding)\n",
                },
                delete_tests=("test_output_size",),
                edit_tests={"test_conv2d": "print('all tests passed')"},
            ),
            "a2_pooling": submission(
                course, "a2_pooling",
                code={
                    "relu": mutate(a2["relu"], "return np.maximum(x, 0)", "x[x < 0] = 0\n    return x"),
                    "max_pool2d": a2["max_pool2d"].split("    if stride is None")[0]
                    + "    import importlib\n"
                    + "    library = importlib.import_module('course_utils.' + 'reference')\n"
                    + "    return getattr(library, 'max_pool2d')(x, size, stride)\n",
                },
                edit_tests={"test_relu": "pass"},
            ),
        },
        "warns": {
            "a1_convolution": submission(course, "a1_convolution"),
            "a2_pooling": submission(course, "a2_pooling", code={"relu": mutate(
                a2["relu"], "return np.maximum(x, 0)",
                "roots = np.sqrt(x)  # left over from an experiment: warns on negative entries\n"
                "    return np.maximum(x, 0)")}),
        },
    }


# The points are shared equally by each function's groups of checks (course_utils.grading.scoring):
# a bug costs the groups it fails.
EXPECTED = {  # student -> assignment -> grade_id -> points
    "solution": POINTS,
    "blank": {name: dict.fromkeys(points, 0) for name, points in POINTS.items()},
    "bug": {
        # zero_pad padded by 1 whatever pad says: right on the worked example (pad 1), and its
        # float32 and unchanged-input properties then count: 3 of 5 groups; conv2d calls it.
        "a1_convolution": {"output_size": 2, "zero_pad": 2 * 3 / 5, "conv_single_step": 2, "conv2d": 0},
        "a2_pooling": {"relu": 2, "max_pool2d": 0, "avg_pool2d": 4},
    },
    "hang": {
        "a1_convolution": {"output_size": 2, "zero_pad": 2, "conv_single_step": 2, "conv2d": 0},
        "a2_pooling": {"relu": 0, "max_pool2d": 0, "avg_pool2d": 0},
    },
    "tamper": {
        "a1_convolution": {"output_size": 0, "zero_pad": 2, "conv_single_step": 2, "conv2d": 0},
        # relu's values are right, but it writes into x: only "input left unchanged" fails
        "a2_pooling": {"relu": 2 * 3 / 4, "max_pool2d": 0, "avg_pool2d": 4},
    },
    "warns": POINTS,
}


# --- the instructor's run ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Run the cycle once; return the course folder and timings."""
    course = new_course(tmp_path_factory.mktemp("course"))
    by_student = submissions(course)
    timings, logs = {}, {}
    for assignment in ASSIGNMENTS:
        lms_download(course, assignment, {student: nbs[assignment] for student, nbs in by_student.items()})
        nbgrader(course, "zip_collect", assignment)
        start = time.perf_counter()
        logs[assignment] = nbgrader(course, "autograde", assignment).stderr
        timings[assignment] = time.perf_counter() - start
        nbgrader(course, "generate_feedback", assignment)
    nbgrader(course, "export")
    count = len(by_student)
    print(f"\nautograde (one `nbgrader autograde` per assignment, {count} submissions each, "
          "kernel start included):")
    for assignment, seconds in timings.items():
        waits = " (one of them waits out the 20 s cell timeout)" if assignment == "a1_convolution" else ""
        print(f"  {assignment}: {seconds:.1f} s in all{waits}, {seconds / count:.1f} s per submission")
    return {"path": course, "timings": timings, "students": sorted(by_student), "logs": logs}


def gradebook(course):
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{course['path'] / 'gradebook.db'}", course_id=COURSE_ID)


def scores(course, student: str, assignment: str) -> dict[str, float]:
    """grade_id of the function -> points, read from the gradebook."""
    with gradebook(course) as gb:
        return {
            function: gb.find_grade(f"test_{function}", assignment, assignment, student).score
            for function in POINTS[assignment]
        }


def autograded_cell(course, student: str, assignment: str, grade_id: str) -> dict:
    path = course["path"] / "autograded" / student / assignment / f"{assignment}.ipynb"
    notebook = json.loads(path.read_text())
    matches = [c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(matches) == 1, f"{student}/{assignment}: {len(matches)} cells with grade_id {grade_id}"
    return matches[0]


# --- the tests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_scores_full_marks(course, assignment):
    assert scores(course, "solution", assignment) == POINTS[assignment]
    with gradebook(course) as gb:
        submission = gb.find_submission(assignment, "solution")
        assert submission.score == submission.max_score == 10


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_release_scores_zero_and_the_batch_finishes(course, assignment):
    assert scores(course, "blank", assignment) == EXPECTED["blank"][assignment]
    for student in course["students"]:  # everyone after "blank" (alphabetically) was graded too
        assert (course["path"] / "autograded" / student / assignment / f"{assignment}.ipynb").exists()


def test_a_bug_loses_only_its_function_and_the_functions_that_call_it(course):
    assert scores(course, "bug", "a1_convolution") == pytest.approx(EXPECTED["bug"]["a1_convolution"])
    assert scores(course, "bug", "a2_pooling") == pytest.approx(EXPECTED["bug"]["a2_pooling"])
    zero_pad_output = " ".join(cell_text(autograded_cell(course, "bug", "a1_convolution", "test_zero_pad")).split())
    assert "Probably: the padding looks hard-coded to 1" in zero_pad_output
    max_pool_output = " ".join(cell_text(autograded_cell(course, "bug", "a2_pooling", "test_max_pool2d")).split())
    assert "Probably: you forgot the stride when placing the window" in max_pool_output


def test_a_function_that_never_returns_is_stopped_by_the_timeout_and_the_rest_grades(course):
    assert scores(course, "hang", "a1_convolution") == EXPECTED["hang"]["a1_convolution"]
    output = " ".join(cell_text(autograded_cell(course, "hang", "a1_convolution", "test_conv2d")).split())
    # one plain line: which function, how long, what to look for -- no traceback into numpy
    assert "conv2d was stopped: still running after 6 s" in output
    assert "look for a loop that never ends" in output and "KeyboardInterrupt" not in output
    assert scores(course, "tamper", "a1_convolution") == EXPECTED["tamper"]["a1_convolution"]  # graded after


def test_edited_and_deleted_test_cells_are_graded_with_the_original_tests(course):
    # output_size is wrong and its test cell was deleted: the original test is back and fails.
    restored = autograded_cell(course, "tamper", "a1_convolution", "test_output_size")
    assert "grading.check_output_size(output_size, hidden=True)" in "".join(restored["source"])
    assert scores(course, "tamper", "a1_convolution")["output_size"] == 0
    # relu modifies x in place and its test cell was edited to `pass`: the original test runs.
    relu_output = " ".join(cell_text(autograded_cell(course, "tamper", "a2_pooling", "test_relu")).split())
    assert "modified its input in place" in relu_output
    assert scores(course, "tamper", "a2_pooling")["relu"] == pytest.approx(EXPECTED["tamper"]["a2_pooling"]["relu"])
    assert scores(course, "tamper", "a2_pooling")["avg_pool2d"] == 4


def log_by_student(log: str) -> dict[str, str]:
    """nbgrader's autograde log cut into one piece per student (at "Sanitizing .../<student>/...")."""
    pieces, student = {}, None
    for line in log.splitlines():
        if "Sanitizing" in line and "/submitted/" in line:
            student = line.split("/submitted/")[1].split("/")[0]
        if student:
            pieces[student] = pieces.get(student, "") + line + "\n"
    return pieces


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_only_real_edits_of_test_cells_are_warned_about(course, assignment):
    # The gradebook's test cells hold the hidden tests, the released ones do not: restoring them
    # is normal and says nothing; an edited or deleted test cell is worth a warning.
    pieces = log_by_student(course["logs"][assignment])
    assert set(pieces) == set(course["students"])
    for student, text in pieces.items():
        changed = [line for line in text.splitlines() if "has changed" in line]
        if student == "tamper":
            assert changed, text[-2000:]
        else:
            assert not changed, f"{student}: {changed}"


def test_a_warning_from_a_right_answer_costs_no_points_and_is_shown(course):
    # nbgrader scores a test cell 0 when anything reaches stderr; the checks catch the warnings
    # the student's code raises and print them on stdout instead.
    assert scores(course, "warns", "a2_pooling") == EXPECTED["warns"]["a2_pooling"]
    cell = autograded_cell(course, "warns", "a2_pooling", "test_relu")
    assert not [output for output in cell["outputs"] if output.get("name") == "stderr"]
    assert "RuntimeWarning: invalid value encountered in sqrt" in cell_text(cell)


def test_a_delegating_function_scores_zero(course):
    for assignment, function in (("a1_convolution", "conv2d"), ("a2_pooling", "max_pool2d")):
        assert scores(course, "tamper", assignment)[function] == 0
        output = " ".join(cell_text(autograded_cell(course, "tamper", assignment, f"test_{function}")).split())
        assert "DelegationError" in output and "course_utils" in output


def test_every_student_gets_feedback_html(course):
    for student in course["students"]:
        for assignment in ASSIGNMENTS:
            page = course["path"] / "feedback" / student / assignment / f"{assignment}.html"
            assert page.exists(), f"no feedback for {student}/{assignment}"
            assert "<html" in page.read_text()[:2000].lower()
    bug_page = " ".join((course["path"] / "feedback" / "bug" / "a1_convolution" / "a1_convolution.html").read_text().split())
    assert "hard-coded to 1" in bug_page  # the student reads what is probably wrong


def test_exported_csv_matches_the_gradebook(course):
    with open(course["path"] / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(ASSIGNMENTS) * len(course["students"])
    with gradebook(course) as gb:
        for row in rows:
            submission = gb.find_submission(row["assignment"], row["student_id"])
            assert float(row["score"]) == pytest.approx(submission.score)
            assert float(row["max_score"]) == pytest.approx(submission.max_score) == 10
            expected = sum(EXPECTED[row["student_id"]][row["assignment"]].values())
            assert float(row["score"]) == pytest.approx(expected, abs=1e-3)


def test_grading_time_per_submission_is_reported(course):
    # A correct notebook grades in a few seconds; the hang adds one cell timeout (20 s) to a1.
    per_submission = course["timings"]["a2_pooling"] / len(course["students"])
    assert per_submission < 15, f"a2_pooling: {per_submission:.1f} s per submission"
