"""What the class got wrong, in numbers: computed from :class:`~.records.ClassRecords`, drawn elsewhere.

* :func:`group_failures`: for each function and each named group of checks, how many students
  failed it (a function stopped or delegated fails every group);
* :func:`common_mistakes`: the failure messages grouped by what they say (the headline and the
  "Probably: ..." diagnosis, without the case's numbers), how many students got each, and one
  anonymised example (:func:`anonymise`);
* :func:`check_times`: the seconds each function took in the trusted check;
* :func:`class_statistics`: all of it, with the score distribution, late, missing, failed,
  tampering-suspected and delegation counts.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from course_utils.grading.flags import TAMPERING_SUSPECTED
from course_utils.instructor.report.records import ClassRecords, StudentRecord

#: The longest example message the report shows (a student's exception text can be anything).
EXAMPLE_CHARACTERS = 600
#: How many kinds of failure message the report lists.
TOP_MESSAGES = 12


@dataclass(frozen=True)
class GroupFailure:
    """One named group of checks of one function (``output``: dx, dw, db, or ""), and how many of
    the ``graded`` students failed it."""

    function: str
    output: str
    group: str
    failed: int
    graded: int

    @property
    def share(self) -> float:
        return self.failed / self.graded if self.graded else 0.0

    @property
    def label(self) -> str:
        return f"{self.output}: {self.group}" if self.output else self.group


@dataclass(frozen=True)
class Mistake:
    """One kind of failure message: ``students`` got it in ``function``; ``example`` is one
    student's message, anonymised and cut."""

    function: str
    kind: str
    students: int
    example: str


@dataclass(frozen=True)
class CheckTime:
    """Seconds ``function`` took in the trusted check, over the students whose check ran."""

    function: str
    median: float
    slowest: float
    total: float
    stopped: int  # students whose function the checking process stopped (a hang)
    students: int


@dataclass
class ClassStatistics:
    assignment: str
    scores: list[float]  # gradebook score of each graded student
    max_score: float
    groups: list[GroupFailure]
    mistakes: list[Mistake]
    times: list[CheckTime]
    enrolled: int
    late: list[str]
    missing: list[str]
    failed: dict[str, str]
    tampering: list[str]  # students with a test cell the kernel passed and the trusted check failed
    delegated: dict[str, list[str]]  # function -> students whose function reached a banned library
    without_sandbox: int
    verdicts_recorded: bool
    duedate: str | None = None
    notes: Counter = field(default_factory=Counter)  # what the runs noticed, student-free
    people: list[str] = field(default_factory=list)  # ids and names, kept out of the page without --names


def group_failures(records: ClassRecords) -> list[GroupFailure]:
    """Every (function, output, group) in the order the notebooks check them."""
    graded = [student for student in records.students if student.cells]
    order: dict[tuple[str, str, str], int] = {}
    failed: Counter = Counter()
    for student in graded:
        for function in student.functions:
            mine = set()
            for group in function.get("groups", []):
                key = (function["function"], str(group.get("output", "")), group["group"])
                order.setdefault(key, len(order))
                if group.get("passed") is not True:
                    mine.add(key)
            failed.update(mine)
    return [GroupFailure(*key, failed[key], len(graded)) for key in sorted(order, key=order.get)]


_CHECK = re.compile(r"^(?P<function>\w+) failed the check '.*?': (?P<what>[^.]*)\.\s*(?P<rest>.*?)\s*(called:.*)?$")
_RAISED = re.compile(r"^(?P<function>\w+) raised (?P<type>[\w.]+)")
_NUMBER = re.compile(r"(?<![A-Za-z_\d])-?\d+(\.\d+)?(e[-+]?\d+)?")


def message_kind(failure: str) -> str:
    """What a failure message says, without what differs between students and cases: the
    headline (``wrong values``, ``raised IndexError``, ``was stopped``, ...) and the diagnosis
    (``Probably: ...``), numbers masked. Messages are wrapped at 80 characters: read as one line."""
    text = " ".join(failure.split())
    if not text:
        return "no message"
    if match := _CHECK.match(text):
        kind = match["what"] + (f". {match['rest']}" if match["rest"] else "")
        return _NUMBER.sub("N", kind)[:300]
    if match := _RAISED.match(text):
        return f"raised {match['type']}"
    if text.startswith("DelegationError"):
        return "delegates to a banned library instead of computing"
    if " was stopped: " in text:
        return "was stopped: still running after the time limit (a loop that never ends?)"
    return _NUMBER.sub("N", text.split(". ")[0])[:200]


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][\w.@~+-]+){2,}[/\\]?")


def anonymise(text: str, people: list[str], limit: int = EXAMPLE_CHARACTERS) -> str:
    """``text`` with every student id and name in ``people`` replaced by ``<student>``, every
    file path by ``<path>``, cut to ``limit`` characters."""
    text = without_people(_PATH.sub("<path>", text), people)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"


def without_people(text: str, people: list[str]) -> str:
    """``text`` with every word of ``people`` (ids, names) replaced by ``<student>``."""
    for word in sorted({p.strip() for p in people if p and p.strip()}, key=len, reverse=True):
        text = re.sub(rf"(?<![\w]){re.escape(word)}(?![\w])", "<student>", text, flags=re.IGNORECASE)
    return text


def common_mistakes(records: ClassRecords, top: int = TOP_MESSAGES) -> list[Mistake]:
    """The ``top`` kinds of failure message by how many students got them (each student once per
    function and kind), each with the first student's message (by a stable order) anonymised."""
    students: dict[tuple[str, str], set[str]] = {}
    examples: dict[tuple[str, str], str] = {}
    for student in records.students:
        for function in student.functions:
            for group in function.get("groups", []):
                failure = group.get("failure")
                if group.get("passed") is True or not isinstance(failure, str) or not failure.strip():
                    continue
                if failure.startswith("counts only once") or failure.startswith("no answer had the right"):
                    continue  # a property group that could not count: the case groups say why
                key = (function["function"], message_kind(failure))
                students.setdefault(key, set()).add(student.student)
                examples.setdefault(key, failure)
    people = people_of(records)
    ranked = sorted(students, key=lambda key: (-len(students[key]), key))
    return [Mistake(function, kind, len(students[(function, kind)]), anonymise(examples[(function, kind)], people))
            for function, kind in ranked[:top]]


def people_of(records: ClassRecords) -> list[str]:
    """Every student id and name the report knows: what an anonymised text must not contain."""
    return records.enrolled + [s.student for s in records.students] + list(records.failed) + records.names


def check_times(records: ClassRecords) -> list[CheckTime]:
    seconds: dict[str, list[float]] = {}
    stopped: Counter = Counter()
    for student in records.students:
        for function in student.functions:
            value = function.get("seconds")
            if isinstance(value, (int, float)):
                seconds.setdefault(function["function"], []).append(float(value))
            if function.get("stopped"):
                stopped[function["function"]] += 1
    return [CheckTime(name, statistics.median(values), max(values), sum(values), stopped[name], len(values))
            for name, values in seconds.items()]


def _tampering(student: StudentRecord) -> bool:
    return any(isinstance(cell.get("mismatch"), str) and cell["mismatch"].startswith(TAMPERING_SUSPECTED)
               for cell in student.cells)


def run_notes(records: ClassRecords) -> Counter:
    """What the runs noticed, as kinds (``stopped by the cell timeout``, ``output cut``, ``the
    kernel died``), counted once per student."""
    kinds: Counter = Counter()
    for student in records.students:
        mine = set()
        for note in student.notes:
            if note.startswith(TAMPERING_SUSPECTED):
                continue
            mine.add(_NUMBER.sub("N", note.split(": ", 1)[-1].split(";")[0])[:120])
        kinds.update(mine)
    return kinds


def class_statistics(records: ClassRecords) -> ClassStatistics:
    delegated: dict[str, list[str]] = {}
    for student in records.students:
        for function in student.functions:
            if function.get("delegated") is True:
                delegated.setdefault(function["function"], []).append(student.student)
    return ClassStatistics(
        assignment=records.assignment,
        scores=[student.score for student in records.students],
        max_score=max((student.max_score for student in records.students), default=0.0),
        groups=group_failures(records),
        mistakes=common_mistakes(records),
        times=check_times(records),
        enrolled=len(set(records.enrolled) | {s.student for s in records.students}),
        late=[student.student for student in records.students if student.seconds_late > 0],
        missing=list(records.missing),
        failed=dict(records.failed),
        tampering=[student.student for student in records.students if _tampering(student)],
        delegated=delegated,
        without_sandbox=sum(1 for student in records.students if student.sandboxed is False),
        verdicts_recorded=records.verdicts_recorded,
        duedate=records.duedate,
        notes=run_notes(records),
        people=people_of(records),
    )
