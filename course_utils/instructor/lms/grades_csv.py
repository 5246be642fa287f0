"""``nbgrader export``'s own ``grades.csv``, the same columns and rows, safe to open in a spreadsheet.

nbgrader writes its CSV by joining fields with commas: a name with a comma shifts every column
after it, and a name or id starting with ``=``, ``+``, ``-``, ``@`` or a tab is a formula to a
spreadsheet. This exporter (``c.ExportApp.plugin_class`` in ``nbgrader_config.py``) writes the
same table with Python's ``csv`` module, every cell through
:func:`~course_utils.instructor.untrusted.spreadsheet.spreadsheet_cell`.
"""

from __future__ import annotations

import csv

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

from course_utils.instructor.untrusted.spreadsheet import spreadsheet_row

COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
           "raw_score", "late_submission_penalty", "score", "max_score")


def grade_rows(gradebook: Gradebook, assignments=(), students=()):
    """nbgrader's rows: every (assignment, student) of the gradebook, 0 where nothing was handed in."""
    for assignment in gradebook.assignments:
        if assignments and assignment.name not in assignments:
            continue
        for student in gradebook.students:
            if students and student.id not in students:
                continue
            row = {"assignment": assignment.name, "duedate": assignment.duedate, "student_id": student.id,
                   "last_name": student.last_name, "first_name": student.first_name, "email": student.email,
                   "max_score": assignment.max_score}
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            else:
                penalty = submission.late_submission_penalty
                row.update(timestamp=submission.timestamp, raw_score=submission.score,
                           late_submission_penalty=penalty, score=max(0.0, submission.score - penalty))
            yield ["" if row[key] is None else str(row[key]) for key in COLUMNS]


class GradesCsvExporter(ExportPlugin):
    """``nbgrader export`` to ``grades.csv`` (or ``--to``), quoted and formula-free."""

    def export(self, gradebook: Gradebook) -> None:
        destination = self.to or "grades.csv"
        self.log.info("Exporting grades to %s", destination)
        with open(destination, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for row in grade_rows(gradebook, [str(a) for a in self.assignment], [str(s) for s in self.student]):
                writer.writerow(spreadsheet_row(row))
