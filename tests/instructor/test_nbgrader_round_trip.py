"""The whole nbgrader cycle on the test class (``graded_class``; its students are in
``class_submissions.py``): what an instructor does -- release the assignments from
``solutions/``, collect the submissions from a learning platform's zip with ``nbgrader
zip_collect``, ``nbgrader autograde``, ``generate_feedback``, ``export`` -- with the repository's
own ``nbgrader_config.py``. The tests read the gradebook, the autograded notebooks, the feedback
and the CSV.
"""

from __future__ import annotations

import csv
import json

import pytest
from class_submissions import EXPECTED
from nbgrader_course import COURSE_ID, POINTS, cell_text, cell_with_grade_id

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sandbox_works")]
ASSIGNMENTS = tuple(EXPECTED)


@pytest.fixture(scope="module")
def course(graded_class):
    return graded_class


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
    return cell_with_grade_id(json.loads(path.read_text()), grade_id)


def words(cell: dict) -> str:
    """A cell's output as words, whatever the line breaks."""
    return " ".join(cell_text(cell).split())


# --- the tests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_student_scores_what_their_code_earns(course, assignment):
    for student, expected in EXPECTED[assignment].items():
        assert scores(course, student, assignment) == pytest.approx(expected, abs=1e-3), student


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_scores_full_marks(course, assignment):
    assert scores(course, "solution", assignment) == POINTS[assignment]
    with gradebook(course) as gb:
        submission = gb.find_submission(assignment, "solution")
        assert submission.score == submission.max_score == 10


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_release_scores_zero_and_the_batch_finishes(course, assignment):
    assert scores(course, "blank", assignment) == EXPECTED[assignment]["blank"]
    for student in course["students"][assignment]:  # everyone after "blank" (alphabetically) was graded too
        assert (course["path"] / "autograded" / student / assignment / f"{assignment}.ipynb").exists()


def test_a_bug_loses_only_its_function_and_the_functions_that_call_it(course):
    for assignment in ASSIGNMENTS:
        assert scores(course, "bug", assignment) == pytest.approx(EXPECTED[assignment]["bug"], abs=1e-3)
    zero_pad_output = words(autograded_cell(course, "bug", "a1_convolution", "test_zero_pad"))
    assert "Probably: the padding looks hard-coded to 1" in zero_pad_output
    max_pool_output = words(autograded_cell(course, "bug", "a2_pooling", "test_max_pool2d"))
    assert "Probably: you forgot the stride when placing the window" in max_pool_output
    backward_output = words(autograded_cell(course, "bug", "a3_backprop", "test_conv2d_backward"))
    assert "[dw]': wrong values" in backward_output
    assert "Probably: you forgot to sum over the batch for dw" in backward_output


def test_a_function_that_never_returns_is_stopped_by_the_timeout_and_the_rest_grades(course):
    assert scores(course, "hang", "a1_convolution") == EXPECTED["a1_convolution"]["hang"]
    output = words(autograded_cell(course, "hang", "a1_convolution", "test_conv2d"))
    # one plain line: which function, how long, what to look for -- no traceback into numpy
    assert "conv2d was stopped: still running after 6 s" in output
    assert "look for a loop that never ends" in output and "KeyboardInterrupt" not in output
    assert scores(course, "tamper", "a1_convolution") == EXPECTED["a1_convolution"]["tamper"]  # graded after


def test_edited_and_deleted_test_cells_are_graded_with_the_original_tests(course):
    # output_size is wrong and its test cell was deleted: the original test is back and fails.
    restored = autograded_cell(course, "tamper", "a1_convolution", "test_output_size")
    assert "grading.check_output_size(output_size, hidden=True)" in "".join(restored["source"])
    assert scores(course, "tamper", "a1_convolution")["output_size"] == 0
    # relu modifies x in place and its test cell was edited to `pass`: the original test runs.
    relu_output = words(autograded_cell(course, "tamper", "a2_pooling", "test_relu"))
    assert "modified its input in place" in relu_output
    assert scores(course, "tamper", "a2_pooling")["relu"] == pytest.approx(EXPECTED["a2_pooling"]["tamper"]["relu"])
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
    assert set(pieces) == set(course["students"][assignment])
    for student, text in pieces.items():
        changed = [line for line in text.splitlines() if "has changed" in line]
        if student == "tamper":
            assert changed, text[-2000:]
        else:
            assert not changed, f"{student}: {changed}"


def test_a_warning_from_a_right_answer_costs_no_points_and_is_shown(course):
    # nbgrader scores a test cell 0 when anything reaches stderr; the checks catch the warnings
    # the student's code raises and print them on stdout instead.
    assert scores(course, "warns", "a2_pooling") == EXPECTED["a2_pooling"]["warns"]
    cell = autograded_cell(course, "warns", "a2_pooling", "test_relu")
    assert not [output for output in cell["outputs"] if output.get("name") == "stderr"]
    assert "RuntimeWarning: invalid value encountered in sqrt" in cell_text(cell)


def test_a_delegating_function_scores_zero(course):
    for assignment, function in (("a1_convolution", "conv2d"), ("a2_pooling", "max_pool2d")):
        assert scores(course, "tamper", assignment)[function] == 0
        output = words(autograded_cell(course, "tamper", assignment, f"test_{function}"))
        assert "DelegationError" in output and "course_utils" in output
    # gradients from PyTorch's autograd: 0 for that function, the rest full marks
    assert scores(course, "delegate", "a3_backprop") == EXPECTED["a3_backprop"]["delegate"]
    output = words(autograded_cell(course, "delegate", "a3_backprop", "test_conv2d_backward"))
    assert "DelegationError" in output and "`import torch`" in output


def test_every_student_gets_feedback_html(course):
    for assignment in ASSIGNMENTS:
        for student in course["students"][assignment]:
            page = course["path"] / "feedback" / student / assignment / f"{assignment}.html"
            assert page.exists(), f"no feedback for {student}/{assignment}"
            text = page.read_text()
            assert "<html" in text[:2000].lower()
            # the test cells as the student got them: never the hidden tests' block
            assert "BEGIN HIDDEN TESTS" not in text and "hidden</span><span class=\"o\">=" not in text
    bug_page = " ".join((course["path"] / "feedback" / "bug" / "a1_convolution" / "a1_convolution.html").read_text().split())
    assert "hard-coded to 1" in bug_page  # the student reads what is probably wrong


def test_exported_csv_matches_the_gradebook(course):
    with open(course["path"] / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    students = sorted({student for names in course["students"].values() for student in names})
    assert sorted((row["assignment"], row["student_id"]) for row in rows) == sorted(
        (assignment, student) for assignment in ASSIGNMENTS for student in students)
    with gradebook(course) as gb:
        for row in rows:
            assert float(row["max_score"]) == 10
            if row["student_id"] not in course["students"][row["assignment"]]:
                assert float(row["score"]) == 0 and not row["timestamp"]  # nothing handed in
                continue
            submission = gb.find_submission(row["assignment"], row["student_id"])
            assert float(row["score"]) == pytest.approx(submission.score)
            expected = sum(EXPECTED[row["assignment"]][row["student_id"]].values())
            assert float(row["score"]) == pytest.approx(expected, abs=1e-3)


def test_grading_time_per_submission_is_reported(course, capsys):
    # A correct notebook grades in a few seconds; the hang adds a few seconds to a1.
    with capsys.disabled():
        print("\nautograde (one `nbgrader autograde` per assignment, kernel start included):")
        for assignment, seconds in course["timings"].items():
            count = len(course["students"][assignment])
            print(f"  {assignment}: {seconds:.1f} s for {count} submissions, {seconds / count:.1f} s per submission")
    for assignment in ("a2_pooling", "a3_backprop"):
        per_submission = course["timings"][assignment] / len(course["students"][assignment])
        assert per_submission < 15, f"{assignment}: {per_submission:.1f} s per submission"
