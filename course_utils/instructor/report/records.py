"""What the class report reads: the gradebook, the verdicts recorded at autograde, the submissions.

:func:`read_class` gathers one assignment's :class:`ClassRecords` from

* nbgrader's gradebook: every submission's score, time and lateness, and the class list;
* each autograded notebook (``autograded/<student>/<assignment>/``): the trusted verdicts
  :class:`~course_utils.instructor.trusted.preprocessors.TrustedGrading` recorded in its test
  cells' metadata (:data:`~course_utils.grading.flags.METADATA_KEY`: per function the named
  groups of checks, the failure of each, the seconds, stopped or delegated) and the run's notes;
* ``.autograde/<assignment>/<student>.json`` of ``make grade``: who failed to grade, and why;
* the roster (``c.CourseRoster.path``), if the course has one: who never handed in;
* each submitted notebook (``submitted/<student>/<assignment>/``): the code the similarity check
  compares.

Everything a student handed in is untrusted data: a file is read only if it is a regular file
reached without following a link (:func:`read_json`), a student id is checked to be one plain
folder name before it names a folder, and recorded values are type-checked before they count.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading.flags import METADATA_KEY
from course_utils.instructor.untrusted.files import UnsafeFile, read_regular_file
from course_utils.instructor.untrusted.ids import is_plain_name

#: The largest notebook the report reads (a submission can be anything a student saved).
MAX_NOTEBOOK_BYTES = 64 * 2**20
class ReportError(Exception):
    """The report cannot be made as asked; the message says what to do. ``status`` is the
    command's exit status (2: a bad argument, 1: the course's data)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def read_json(base: Path, *parts: str, limit: int = MAX_NOTEBOOK_BYTES):
    """The JSON in ``base/part/part/...`` (:func:`~course_utils.instructor.untrusted.files.read_regular_file`:
    each part a plain name, no link followed, size-capped); ``None`` if it is not there. Raises
    :class:`ReportError` naming the file if it is not read or not valid JSON."""
    try:
        data = read_regular_file(base, *parts, limit=limit)
    except UnsafeFile as error:
        raise ReportError(f"report: {error}") from None
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ReportError(f"report: {Path(base, *parts)} is not a valid notebook (not valid JSON: {error}); "
                          "grade it again or remove it, then run the report again") from None


@dataclass
class StudentRecord:
    """One autograded submission: the gradebook's numbers and the verdicts recorded at autograde."""

    student: str
    score: float
    max_score: float
    seconds_late: float = 0.0
    penalty: float = 0.0
    cells: list[dict] = field(default_factory=list)  # each test cell's recorded verdict (CellScore.record())
    notes: list[str] = field(default_factory=list)  # the run's notes (notebook metadata)
    sandboxed: bool | None = None  # None: no verdict recorded (graded without the course's pipeline)

    @property
    def functions(self) -> list[dict]:
        return [function for cell in self.cells for function in cell.get("functions", [])]


@dataclass
class ClassRecords:
    """Everything the report knows of one assignment's class."""

    assignment: str
    notebooks: list[str]
    students: list[StudentRecord]
    enrolled: list[str]  # every student the gradebook (and the roster) knows
    missing: list[str]  # enrolled, nothing handed in
    failed: dict[str, str]  # student -> why make grade could not grade them
    names: list[str] = field(default_factory=list)  # students' names (for anonymising examples)
    duedate: str | None = None

    @property
    def verdicts_recorded(self) -> bool:
        return any(student.sandboxed is not None for student in self.students)


def cell_records(notebook: dict, grade_ids: set[str]) -> list[dict]:
    """The verdicts recorded in ``notebook``'s test cells (only the gradebook's graded cells:
    any other cell's metadata is not the grader's), type-checked."""
    found = []
    for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
        metadata = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        grade_id = metadata.get("nbgrader", {}).get("grade_id") if isinstance(metadata.get("nbgrader"), dict) else None
        record = metadata.get(METADATA_KEY)
        if grade_id in grade_ids and isinstance(record, dict) and isinstance(record.get("functions", []), list):
            found.append({**record, "grade_id": grade_id,
                          "functions": [f for f in record.get("functions", []) if _is_function_record(f)]})
    return found


def _is_function_record(value) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("function"), str)
            and isinstance(value.get("groups", []), list)
            and all(isinstance(group, dict) and isinstance(group.get("group"), str)
                    for group in value.get("groups", [])))


def run_record(notebook: dict) -> tuple[bool | None, list[str]]:
    """(sandboxed, notes) of the run that graded ``notebook``; (None, []) if none is recorded."""
    recorded = notebook.get("metadata", {}).get(METADATA_KEY) if isinstance(notebook, dict) else None
    if not isinstance(recorded, dict):
        return None, []
    notes = recorded.get("notes", [])
    return bool(recorded.get("sandboxed")), [str(note) for note in notes] if isinstance(notes, list) else []


def read_class(root: Path, assignment: str, db_url: str, course_id: str, autograded: str = "autograded",
               roster_ids: list[str] | None = None, roster_names: list[str] | None = None) -> ClassRecords:
    """``assignment``'s :class:`ClassRecords` from the gradebook at ``db_url`` and the
    autograded notebooks under ``root/autograded`` (nbgrader's folder name, ``autograded``)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id=course_id) as gradebook:
        try:
            found = gradebook.find_assignment(assignment)
        except MissingEntry:
            known = ", ".join(sorted(a.name for a in gradebook.assignments)) or "none yet: run make assignments"
            raise ReportError(f"report: assignment must be one the gradebook knows ({known}), got {assignment!r}",
                              status=2) from None
        notebooks = [notebook.name for notebook in found.notebooks]
        grade_ids = {cell.name for notebook in found.notebooks for cell in notebook.grade_cells}
        duedate = found.duedate.isoformat(sep=" ", timespec="minutes") if found.duedate else None
        enrolled = sorted({student.id for student in gradebook.students} | set(roster_ids or ()))
        names = [name for student in gradebook.students for name in (student.first_name, student.last_name) if name]
        submitted = [(s.student_id, float(s.score or 0), float(s.max_score or 0), float(s.total_seconds_late or 0),
                      float(s.late_submission_penalty or 0)) for s in found.submissions]
    students = []
    for student, score, max_score, late, penalty in sorted(submitted):
        record = StudentRecord(student, score, max_score, late, penalty)
        if is_plain_name(student):
            for notebook_name in notebooks:
                notebook = read_json(root / autograded, student, assignment, f"{notebook_name}.ipynb")
                if notebook is None:
                    continue
                record.cells += cell_records(notebook, grade_ids)
                sandboxed, notes = run_record(notebook)
                record.notes += notes
                if sandboxed is not None:
                    record.sandboxed = bool(record.sandboxed or record.sandboxed is None) and sandboxed
        students.append(record)
    failed = grading_failures(root, assignment)
    handed_in = {student.student for student in students} | set(failed)
    handed_in |= set(submitted_students(root, assignment))
    if not students:
        raise ReportError(
            f"report: no submission of {assignment} has been autograded yet (the gradebook has none"
            f"{f'; {len(failed)} failed to grade' if failed else ''}): run `make grade ASSIGNMENT={assignment}` first")
    return ClassRecords(assignment, notebooks, students, enrolled,
                        missing=[s for s in enrolled if s not in handed_in], failed=failed,
                        names=names + list(roster_names or ()), duedate=duedate)


def grading_failures(root: Path, assignment: str) -> dict[str, str]:
    """student -> reason, for every ``make grade`` record of ``assignment`` whose status is failed."""
    folder = root / ".autograde" / assignment
    failures = {}
    if not folder.is_dir() or folder.is_symlink():
        return failures
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not entry.name.endswith(".json") or not entry.is_file(follow_symlinks=False):
            continue
        try:
            record = read_json(folder, entry.name, limit=2**20)
        except ReportError:
            continue  # the grader's own file, half written by an interrupted run: it grades again
        if isinstance(record, dict) and record.get("status") == "failed":
            failures[str(record.get("student", entry.name[:-5]))] = str(record.get("reason", ""))
    return failures


def submitted_students(root: Path, assignment: str, submitted: str = "submitted") -> list[str]:
    """Students with a folder ``submitted/<student>/<assignment>/`` (real folders, no links)."""
    base = root / submitted
    if not base.is_dir():
        return []
    found = []
    for entry in sorted(os.scandir(base), key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False) and is_plain_name(entry.name):
            inner = Path(entry.path) / assignment
            if inner.is_dir() and not inner.is_symlink():
                found.append(entry.name)
    return found


def submitted_notebooks(root: Path, assignment: str, notebooks: list[str],
                        submitted: str = "submitted") -> dict[str, list[dict]]:
    """student -> their submitted notebooks of ``assignment`` (as JSON), read safely."""
    found = {}
    for student in submitted_students(root, assignment, submitted):
        read = [read_json(root / submitted, student, assignment, f"{name}.ipynb") for name in notebooks]
        found[student] = [notebook for notebook in read if notebook is not None]
    return found
