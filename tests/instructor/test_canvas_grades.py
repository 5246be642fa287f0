"""``nbgrader export --exporter=...CanvasGradesExporter``: Canvas's import CSV from a graded course.

A throwaway course with both assignments, autograded by ``nbgrader autograde``:

=======  ===========================  ============================  =====================
student  a1_convolution               a2_pooling                    roster
=======  ===========================  ============================  =====================
ada      solution: 10                 solution: 10                  yes (Canvas id 1001)
bob      zero_pad bug: 4              nothing handed in -> blank    yes (Canvas id 1002)
cy       nothing -> blank             nothing -> blank              yes (Canvas id 1003)
dee      the blank release: 0         nothing -> blank              no (gradebook only)
=======  ===========================  ============================  =====================
"""

from __future__ import annotations

import csv

import pytest
from nbgrader_course import POINTS, mutate, nbgrader, new_course, solution_code, submission, submit

pytestmark = pytest.mark.slow

EXPORTER = "course_utils.instructor.lms.canvas_grades.CanvasGradesExporter"
ROSTER = [
    ("Student", "ID", "SIS User ID", "SIS Login ID", "Section"),
    ("Lovelace, Ada", "1001", "S001", "ada", "Group A"),
    ("Babbage, Bob", "1002", "S002", "bob", "Group A"),
    ("Young, Cy", "1003", "S003", "cy", "Group B"),
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("canvas") / "course")
    with open(course / "roster.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(ROSTER)
    a1 = solution_code("a1_convolution")
    submit(course, "a1_convolution", {
        "ada": submission(course, "a1_convolution"),
        "bob": submission(course, "a1_convolution", code={
            "zero_pad": mutate(a1["zero_pad"], "(pad, pad), (pad, pad)", "(1, 1), (1, 1)")}),
        "dee": submission(course, "a1_convolution", solved=False),
    })
    submit(course, "a2_pooling", {"ada": submission(course, "a2_pooling")})
    for assignment in ("a1_convolution", "a2_pooling"):
        nbgrader(course, "autograde", assignment)
    nbgrader(course, "export", f"--exporter={EXPORTER}", "--CanvasGradesExporter.questions=True",
             "--to", "canvas.csv")
    nbgrader(course, "export")  # nbgrader's own CSV is still there
    with open(course / "canvas.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    return {"course": course, "header": rows[0], "rows": rows[1:]}


def by_student(exported) -> dict[str, dict[str, str]]:
    return {row[3]: dict(zip(exported["header"], row)) for row in exported["rows"][1:]}


def test_canvas_columns_then_one_per_assignment_and_question(exported):
    a1_questions = [f"a1_convolution: {name}" for name in POINTS["a1_convolution"]]
    a2_questions = [f"a2_pooling: {name}" for name in POINTS["a2_pooling"]]
    assert exported["header"] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                                  "a1_convolution", *a1_questions, "a2_pooling", *a2_questions]


def test_the_first_row_gives_the_points_possible(exported):
    first = dict(zip(exported["header"], exported["rows"][0]))
    assert first["Student"] == "Points Possible"
    assert first["a1_convolution"] == first["a2_pooling"] == "10"
    for assignment, points in POINTS.items():
        for name, top in points.items():
            assert first[f"{assignment}: {name}"] == str(top)


def test_lms_ids_and_names_come_from_the_roster_in_its_order(exported):
    rows = exported["rows"][1:]
    assert [row[:5] for row in rows[:3]] == [list(row) for row in ROSTER[1:]]
    assert rows[3][:5] == ["dee", "", "", "dee", ""]  # in the gradebook, not on the roster


def test_a_missing_submission_is_blank_not_zero(exported):
    students = by_student(exported)
    assert all(value == "" for key, value in students["cy"].items() if key.startswith("a"))
    assert students["bob"]["a2_pooling"] == "" and students["bob"]["a2_pooling: relu"] == ""
    assert students["dee"]["a1_convolution"] == "0"  # handed in and scored 0: a real zero
    assert students["dee"]["a1_convolution: conv2d"] == "0"


def test_question_columns_add_up_to_the_assignment_total(exported):
    students = by_student(exported)
    assert students["ada"]["a1_convolution"] == students["ada"]["a2_pooling"] == "10"
    # zero_pad padded by 1 whatever pad says: 3 of its 5 groups of checks (partial credit)
    assert students["bob"]["a1_convolution: zero_pad"] == "1.2"
    assert students["bob"]["a1_convolution"] == "5.2"
    for student in students.values():
        for assignment in POINTS:
            if student[assignment]:
                total = sum(float(student[f"{assignment}: {name}"]) for name in POINTS[assignment])
                assert total == pytest.approx(float(student[assignment]))


def test_nbgrader_export_still_writes_its_own_csv(exported):
    with open(exported["course"] / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["student_id"] for row in rows} == {"ada", "bob", "dee"}
