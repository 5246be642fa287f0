"""``nbgrader export --exporter=...CanvasGradesExporter``: Canvas's import CSV from the graded test
class (``graded_class``; ``class_submissions.py``), with a roster of three:

=========  ====================  =======================================================
student    roster                handed in (see class_submissions.py)
=========  ====================  =======================================================
solution   Lovelace, Ada (1001)  a1, a2, a3: the instructor's solution, 10 each
bug        Babbage, Bob (1002)   a1, a2, a3 with one bug each (partial credit)
cy         Young, Cy (1003)      nothing: every cell blank
blank...   not on the roster     in the gradebook only: listed after the roster's rows
=========  ====================  =======================================================
"""

from __future__ import annotations

import csv

import pytest
from class_submissions import EXPECTED
from nbgrader_course import POINTS, nbgrader

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sandbox_works")]

EXPORTER = "course_utils.instructor.lms.canvas_grades.CanvasGradesExporter"
ROSTER = [
    ("Student", "ID", "SIS User ID", "SIS Login ID", "Section"),
    ("Lovelace, Ada", "1001", "S001", "solution", "Group A"),
    ("Babbage, Bob", "1002", "S002", "bug", "Group A"),
    ("Young, Cy", "1003", "S003", "cy", "Group B"),
]


@pytest.fixture(scope="module")
def exported(graded_class):
    course = graded_class["path"]
    with open(course / "canvas_roster.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(ROSTER)
    nbgrader(course, "export", f"--exporter={EXPORTER}", "--CanvasGradesExporter.questions=True",
             "--CourseRoster.path=canvas_roster.csv", "--to", "canvas.csv")
    with open(course / "canvas.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    return {"course": course, "header": rows[0], "rows": rows[1:], "class": graded_class}


def by_student(exported) -> dict[str, dict[str, str]]:
    return {row[3]: dict(zip(exported["header"], row)) for row in exported["rows"][1:]}


def test_canvas_columns_then_one_per_assignment_and_question(exported):
    columns = []
    for assignment in POINTS:
        columns += [assignment, *(f"{assignment}: {name}" for name in POINTS[assignment])]
    assert exported["header"] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *columns]


def test_the_first_row_gives_the_points_possible(exported):
    first = dict(zip(exported["header"], exported["rows"][0]))
    assert first["Student"] == "Points Possible"
    assert first["a1_convolution"] == first["a2_pooling"] == first["a3_backprop"] == "10"
    for assignment, points in POINTS.items():
        for name, top in points.items():
            assert first[f"{assignment}: {name}"] == str(top)


def test_lms_ids_and_names_come_from_the_roster_in_its_order(exported):
    rows = exported["rows"][1:]
    assert [row[:5] for row in rows[:3]] == [list(row) for row in ROSTER[1:]]
    students = sorted({student for students in exported["class"]["students"].values() for student in students})
    not_on_roster = [student for student in students if student not in ("solution", "bug")]
    # in the gradebook, not on the roster: after the roster's rows, the nbgrader id as login
    assert [row[:5] for row in rows[3:]] == [[student, "", "", student, ""] for student in not_on_roster]


def test_a_missing_submission_is_blank_not_zero(exported):
    students = by_student(exported)
    assert all(value == "" for key, value in students["cy"].items() if key.startswith("a"))
    # delegate handed in a3 only; hang handed in a1 and a2 only
    assert students["delegate"]["a1_convolution"] == "" and students["delegate"]["a1_convolution: conv2d"] == ""
    assert students["hang"]["a3_backprop"] == "" and students["hang"]["a3_backprop: relu_backward"] == ""
    assert students["blank"]["a1_convolution"] == "0"  # handed in and scored 0: a real zero
    assert students["blank"]["a1_convolution: conv2d"] == "0"


def test_question_columns_add_up_to_the_assignment_total(exported):
    students = by_student(exported)
    assert students["solution"]["a1_convolution"] == students["solution"]["a3_backprop"] == "10"
    # zero_pad padded by 1 whatever pad says: 3 of its 5 groups of checks (partial credit)
    assert students["bug"]["a1_convolution: zero_pad"] == "1.2"
    assert students["bug"]["a1_convolution"] == "5.2"
    for assignment, expected in EXPECTED.items():
        for student, points in expected.items():
            assert float(students[student][assignment]) == pytest.approx(sum(points.values()), abs=0.01)
    for student in students.values():
        for assignment in POINTS:
            if student[assignment]:
                total = sum(float(student[f"{assignment}: {name}"]) for name in POINTS[assignment])
                assert total == pytest.approx(float(student[assignment]))


def test_nbgrader_export_still_writes_its_own_csv(exported):
    with open(exported["course"] / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    handed_in = {(assignment, student) for assignment, students in EXPECTED.items() for student in students}
    assert handed_in < {(row["assignment"], row["student_id"]) for row in rows}
