"""Grades as Canvas imports them: an nbgrader export plugin writing Canvas's gradebook CSV.

    nbgrader export --exporter=course_utils.instructor.lms.canvas_grades.CanvasGradesExporter
    nbgrader export --exporter=course_utils.instructor.lms.canvas_grades.CanvasGradesExporter \\
        --CanvasGradesExporter.questions=True --to canvas_grades.csv

One row per student, in Canvas's layout (Grades -> Import):

    Student,ID,SIS User ID,SIS Login ID,Section,a1_convolution,a1_convolution: output_size,...
    Points Possible,,,,,10,2,...
    "Lovelace, Ada",1001,S-0001,ada.lovelace,Group A,9,2,...
    "Turing, Alan",1002,S-0002,alan.turing,Group A,,,...          <- nothing handed in: blank

* a column per assignment: the score after nbgrader's late penalty, blank when the student has
  no graded submission (Canvas leaves a blank cell alone; a 0 would be a grade);
* ``questions=True``: after each assignment's column, one per graded cell (``a1_convolution:
  conv2d``: the cell's grade id without ``test_``; with several notebooks ``<notebook>/<cell>``),
  in the notebook's order; they add up to the assignment's column when there is no late penalty.
  Canvas offers to create each new column as an assignment or to ignore it;
* the first data row, ``Points Possible``, gives each column's maximum;
* the students and their ids come from the roster (``c.CourseRoster.path``), every roster row in
  its order, then anyone in the gradebook the roster lacks; without a roster, from the gradebook
  (name, ``lms_user_id`` as ID, the nbgrader id as SIS Login ID);
* ``assignment_columns`` renames assignment columns, e.g. to Canvas's ``"A1 Convolution (4321)"``
  so that the import fills that existing assignment;
* no cell is ever a formula (a name starting with ``=`` gets a leading ``'``).

Reads the gradebook only through nbgrader's API (``Gradebook``) that ``nbgrader export`` opens.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Bool, Dict, Unicode

from course_utils.instructor.lms.roster import COLUMNS, CourseRoster, Roster
from course_utils.instructor.untrusted.spreadsheet import spreadsheet_row


def points(value: float | None) -> str:
    """A score as Canvas reads it: ``10.0`` -> ``"10"``, ``2.5`` -> ``"2.5"``, None -> ``""``."""
    if value is None:
        return ""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def graded_cells(assignment, cell_order=None) -> list[tuple[str, str, str, float]]:
    """(column label, notebook, cell name, max score) for each graded cell of ``assignment``
    (an nbgrader ``Assignment``), in ``cell_order(assignment name, notebook name)`` order when given."""
    several = len(assignment.notebooks) > 1
    cells = []
    for notebook in assignment.notebooks:
        graded = notebook.grade_cells + notebook.task_cells
        order = (cell_order(assignment.name, notebook.name) if cell_order else None) or []
        graded.sort(key=lambda cell: (order.index(cell.name) if cell.name in order else len(order), cell.name))
        for cell in graded:
            short = cell.name.removeprefix("test_") or cell.name
            cells.append((f"{notebook.name}/{short}" if several else short, notebook.name, cell.name, cell.max_score))
    labels = [label for label, *_ in cells]
    if len(set(labels)) < len(labels):  # "test_x" and "x" both graded: keep the full names
        cells = [(f"{nb}/{name}" if several else name, nb, name, top) for _, nb, name, top in cells]
    return [(f"{assignment.name}: {label}", nb, name, top) for label, nb, name, top in cells]


def _people(gradebook: Gradebook, roster: Roster | None, only: list[str]) -> list[tuple[list[str], str | None]]:
    """(the five identity columns, nbgrader student id or None) for every row of the CSV."""
    students = {student.id: student for student in gradebook.students}
    by_lms_id = {student.lms_user_id: student.id for student in students.values() if student.lms_user_id}
    rows, seen = [], set()
    for entry in roster.entries if roster is not None else ():
        student_id = entry.student_id if entry.student_id in students else by_lms_id.get(entry.lms_id)
        seen.add(student_id)
        rows.append(([entry.name, entry.lms_id, entry.sis_user_id, entry.sis_login_id, entry.section], student_id))
    for student_id in sorted(set(students) - seen):
        student = students[student_id]
        name = ", ".join(part for part in (student.last_name, student.first_name) if part) or student_id
        rows.append(([name, student.lms_user_id or "", "", student_id, ""], student_id))
    return [(columns, student_id) for columns, student_id in rows if not only or student_id in only]


def grade_table(gradebook: Gradebook, *, roster: Roster | None = None, assignments=(), students=(),
                questions: bool = False, columns: dict[str, str] | None = None,
                cell_order=None) -> list[list[str]]:
    """The CSV's rows: header, Points Possible, one per student (see the module docstring)."""
    columns = columns or {}
    chosen = [assignment for assignment in gradebook.assignments
              if not assignments or assignment.name in assignments]
    cells = {assignment.name: graded_cells(assignment, cell_order) if questions else [] for assignment in chosen}
    header, maximum = list(COLUMNS), ["Points Possible"] + [""] * (len(COLUMNS) - 1)
    for assignment in chosen:
        header.append(columns.get(assignment.name, assignment.name))
        maximum.append(points(assignment.max_score))
        header += [label for label, *_ in cells[assignment.name]]
        maximum += [points(top) for *_, top in cells[assignment.name]]
    table = [header, maximum]
    for identity, student_id in _people(gradebook, roster, list(students)):
        row = list(identity)
        for assignment in chosen:
            try:
                submission = gradebook.find_submission(assignment.name, student_id) if student_id else None
            except MissingEntry:
                submission = None
            if submission is None:
                row += [""] * (1 + len(cells[assignment.name]))
                continue
            row.append(points(max(0.0, submission.score - submission.late_submission_penalty)))
            scores = {(notebook.name, grade.name): grade.score
                      for notebook in submission.notebooks for grade in notebook.grades}
            row += [points(scores.get((nb, name))) for _, nb, name, _ in cells[assignment.name]]
        table.append(row)
    return table


def released_cell_order(release_folder: Path):
    """``cell_order`` from the released notebooks: ``release_folder/<assignment>/<notebook>.ipynb``."""
    def order(assignment: str, notebook: str) -> list[str]:
        path = release_folder / assignment / f"{notebook}.ipynb"
        if not path.exists():
            return []
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return [cell["metadata"]["nbgrader"]["grade_id"] for cell in cells
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")]
    return order


class CanvasGradesExporter(CourseRoster, ExportPlugin):
    """``nbgrader export`` to Canvas's gradebook CSV (see the module docstring)."""

    questions = Bool(
        False, help="Also one column per graded cell after each assignment's column.",
    ).tag(config=True)

    assignment_columns = Dict(
        key_trait=Unicode(), value_trait=Unicode(),
        help="Column header per nbgrader assignment, e.g. {'a1_convolution': 'A1 Convolution (4321)'} "
             "(Canvas fills the assignment whose id is in parentheses).",
    ).tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        destination = self.to or "canvas_grades.csv"
        coursedir = getattr(self.parent, "coursedir", None)
        root = Path(coursedir.root) if coursedir else Path.cwd()
        release = Path(coursedir.format_path(coursedir.release_directory, ".", ".")) if coursedir else root
        table = grade_table(
            gradebook, roster=self.load_roster(root), assignments=[str(a) for a in self.assignment],
            students=[str(s) for s in self.student], questions=self.questions,
            columns=dict(self.assignment_columns), cell_order=released_cell_order(release),
        )
        with open(destination, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(spreadsheet_row(row) for row in table)  # never a formula
        self.log.info("Wrote %d students' grades in Canvas's import format to %s", len(table) - 2, destination)
