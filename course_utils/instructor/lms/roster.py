"""The course roster: who is enrolled, under which ids, read from a CSV the learning platform gives.

The columns are those of Canvas's gradebook export (Grades -> Export), so that file works as it
is; any other CSV with these headers does too (extra columns are ignored):

    Student,ID,SIS User ID,SIS Login ID,Section
    "Lovelace, Ada",1001,S-0001,ada.lovelace,Group A

``Student``       the name, "Last, First" (Canvas's sortable name) or "First Last"
``ID``            the platform's user id (Canvas's numeric user id)
``SIS User ID``   the institution's student number
``SIS Login ID``  the login
``Section``       optional

``Student`` and at least one of the three id columns are required. Each row's nbgrader student
id is its ``SIS Login ID`` (``CourseRoster.student_id_column`` chooses another column), or the
first non-blank of ``SIS Login ID``, ``SIS User ID``, ``ID``, made a plain name: characters other
than letters, digits, ``.``, ``@``, ``-`` and ``_`` replaced by ``_``, and leading and trailing
punctuation removed (an id is a folder name, never a path: ``..`` is refused). Canvas's "Points Possible" row is skipped.

Configured once for every nbgrader command that reads it (``nbgrader_config.py``):

    c.CourseRoster.path = "roster.csv"       # relative to the course root
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from course_utils.instructor.untrusted.ids import safe_student_id

NAME_COLUMN = "Student"
ID_COLUMNS = ("SIS Login ID", "SIS User ID", "ID")  # the order a blank id column falls back in
COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def safe_id(text: str) -> str:
    """``text`` as an nbgrader student id (a folder name, never a path): ``Ada Lovelace`` ->
    ``Ada_Lovelace``, ``..`` -> ``""`` (:func:`~course_utils.instructor.untrusted.ids.safe_student_id`)."""
    return safe_student_id(text)


def name_tokens(name: str) -> tuple[str, ...]:
    """The words of a name, lower case: ``"Lovelace, Ada"`` -> ``("lovelace", "ada")``."""
    return tuple(re.findall(r"[^\W_]+", name.lower()))


@dataclass(frozen=True)
class RosterEntry:
    """One enrolled student, as the roster gives them."""

    student_id: str  # the nbgrader student id
    name: str = ""
    lms_id: str = ""  # "ID"
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""

    @property
    def keys(self) -> set[str]:
        """Every id this student may appear under in a file name, lower case."""
        return {key.lower() for key in (self.student_id, self.lms_id, self.sis_user_id,
                                        self.sis_login_id) if key}

    @property
    def first_last(self) -> tuple[str, str]:
        """(first name, last name): "Lovelace, Ada" and "Ada Lovelace" both give ("Ada", "Lovelace")."""
        if "," in self.name:
            last, first = self.name.split(",", 1)
            return first.strip(), last.strip()
        first, _, last = self.name.strip().rpartition(" ")
        return first, last

    def described(self) -> str:
        return f"{self.name} ({self.student_id})" if self.name else self.student_id


class Roster:
    """The roster's rows, looked up by id or by name."""

    def __init__(self, entries: list[RosterEntry], source: str = "roster"):
        self.entries = list(entries)
        self.source = source
        seen: dict[str, RosterEntry] = {}
        for entry in self.entries:
            if entry.student_id in seen:
                raise ValueError(
                    f"{source}: two rows have the student id {entry.student_id!r} "
                    f"({seen[entry.student_id].name!r} and {entry.name!r}); every row needs its own id")
            seen[entry.student_id] = entry
        self.by_student_id = seen

    def __len__(self) -> int:
        return len(self.entries)

    def with_key(self, key: str, columns: str = "any") -> list[RosterEntry]:
        """Rows that have ``key`` (any case) as an id; ``columns="ID"``: as their platform user id."""
        key = key.lower()
        if columns == "ID":
            return [entry for entry in self.entries if entry.lms_id.lower() == key]
        return [entry for entry in self.entries if key in entry.keys]

    def with_name(self, name: str) -> list[RosterEntry]:
        """Rows whose name has the same words (any order, case, punctuation), or, for a name run
        together as Canvas writes it in file names ("lovelaceada"), the same letters last name first."""
        tokens = name_tokens(name)
        if not tokens:
            return []
        found = []
        for entry in self.entries:
            words = name_tokens(entry.name)
            if not words:
                continue
            run_together = {"".join(words), "".join(words[-1:] + words[:-1])}
            if sorted(words) == sorted(tokens) or (len(tokens) == 1 and tokens[0] in run_together):
                found.append(entry)
        return found


def read_roster(path: Path, student_id_column: str = "SIS Login ID") -> Roster:
    """The roster in the CSV file ``path`` (see the module docstring for its columns)."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as handle:  # Canvas writes a BOM
        reader = csv.DictReader(handle)
        columns = [column.strip() for column in reader.fieldnames or []]
        reader.fieldnames = columns
        if NAME_COLUMN not in columns or not set(ID_COLUMNS) & set(columns):
            raise ValueError(
                f"{path}: a roster needs the column {NAME_COLUMN!r} and at least one of "
                f"{', '.join(map(repr, ID_COLUMNS))} (it has {columns}); Canvas's gradebook export "
                f"has them all: {','.join(COLUMNS)}")
        if student_id_column not in columns:
            raise ValueError(f"{path}: no column {student_id_column!r} for the student ids "
                             f"(CourseRoster.student_id_column); the columns are {columns}")
        entries = []
        for line, row in enumerate(reader, start=2):
            row = {key: (value or "").strip() for key, value in row.items() if key}
            if row.get(NAME_COLUMN, "") == "Points Possible" or not any(row.values()):
                continue
            ids = [row.get(student_id_column, "")] + [row.get(column, "") for column in ID_COLUMNS]
            given = next((value for value in ids if value), "")
            student_id = safe_id(given)
            if not student_id:
                raise ValueError(f"{path}, line {line}: {row.get(NAME_COLUMN)!r} has no usable id in "
                                 f"any of {', '.join(ID_COLUMNS)} (got {given!r}; an id must be a plain "
                                 "name with a letter or digit, never a path)")
            entries.append(RosterEntry(
                student_id=student_id, name=row.get(NAME_COLUMN, ""), lms_id=row.get("ID", ""),
                sis_user_id=row.get("SIS User ID", ""), sis_login_id=row.get("SIS Login ID", ""),
                section=row.get("Section", ""),
            ))
    return Roster(entries, source=str(path))


class CourseRoster(LoggingConfigurable):
    """The roster setting, shared by the collector and the grade export (``c.CourseRoster.*``)."""

    path = Unicode(
        "",
        help="CSV file of enrolled students (columns Student,ID,SIS User ID,SIS Login ID,Section, "
             "as in Canvas's gradebook export), relative to the course root. Empty: no roster.",
    ).tag(config=True)

    student_id_column = Unicode(
        "SIS Login ID",
        help="The roster column that gives each student's nbgrader id (blank cells fall back to "
             "SIS Login ID, SIS User ID, ID).",
    ).tag(config=True)

    def load_roster(self, course_root: str | Path) -> Roster | None:
        if not self.path:
            return None
        return read_roster(Path(course_root) / self.path, self.student_id_column)
