"""Which extracted file becomes whose submission, and the table that says so for every file.

Input: what :func:`course_utils.instructor.lms.names.describe` found out about each file. Output:
for each student and notebook the one file to collect -- the latest by the platform's attempt
time, then its resubmission number (Canvas's ``-2`` beats ``-1``), then the file's modification
time -- whether it was late, and for every other file why it is not collected. A notebook whose
student cannot be told, or could be two people, or that ties with another version, is "not
placed": the collector then exits non-zero after collecting everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath
from typing import Callable
from zoneinfo import ZoneInfo

from course_utils.instructor.lms.names import FileFacts, Owner, archive_stem
from course_utils.instructor.lms.roster import Roster, RosterEntry, safe_id
from course_utils.instructor.untrusted.terminal import one_line

SKIPPED = {
    "macOS metadata": "macOS metadata",
    "checkpoint": "Jupyter checkpoint",
    "receipt": "Blackboard receipt",
    "not a notebook": "not a notebook",
}


@dataclass
class Outcome:
    """What happened to one file."""

    path: PurePosixPath
    status: str  # "collected", "skipped" or "not placed"
    detail: str = ""
    student: str = ""
    notebook: str | None = None
    late: bool = False
    timestamp: datetime | None = None  # for nbgrader's timestamp.txt (UTC)


@dataclass
class Student:
    """A collected student and what the roster or the platform says about them."""

    student_id: str
    entry: RosterEntry | None = None
    first_name: str = ""
    last_name: str = ""
    lms_user_id: str = ""


@dataclass
class Plan:
    assignment: str
    outcomes: list[Outcome]
    students: dict[str, Student] = field(default_factory=dict)
    roster: Roster | None = None
    duedate: datetime | None = None  # nbgrader's: naive UTC

    @property
    def collected(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "collected"]

    @property
    def not_placed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "not placed"]

    @property
    def missing(self) -> list[RosterEntry]:
        """Roster students with no notebook collected."""
        if self.roster is None:
            return []
        return [entry for entry in self.roster.entries if entry.student_id not in self.students]


@dataclass(frozen=True)
class Placement:
    student_id: str
    entry: RosterEntry | None = None
    note: str = ""
    error: str = ""


def place(owner: Owner, roster: Roster | None) -> Placement:
    """The nbgrader student id for ``owner``: the roster's, when the roster has exactly one row
    for them; otherwise the platform's stable id (Canvas user id, Blackboard username, the id as
    written, or for Moodle, whose participant ids change per assignment, the name)."""
    written = owner.key if owner.platform != "Moodle" else owner.name
    own_id = owner.key if owner.platform == "Canvas" else safe_id(written).lower()
    if roster is None:
        if not own_id:
            return Placement("", error=f"{written!r} is not a usable student id (a name, never a path)")
        mapped = f"id {written!r} written as {own_id!r}" if owner.platform == "name" and own_id != written.lower() else ""
        return Placement(own_id, note=mapped)
    note = ""
    if owner.platform == "Canvas":
        entries = roster.with_key(owner.key, columns="ID")
        if not entries:
            entries, note = roster.with_name(owner.name), f"matched by name {owner.name!r}"
    elif owner.platform == "Moodle":
        entries = roster.with_name(owner.name)
    elif owner.platform == "Blackboard":
        entries = [entry for key in (owner.key, *owner.other_keys) for entry in roster.with_key(key)]
    else:
        entries = roster.with_key(owner.key)
        if not entries:
            entries, note = roster.with_name(owner.key), f"matched by name {owner.key!r}"
    entries = list(dict.fromkeys(entries))
    if len(entries) == 1:
        return Placement(entries[0].student_id, entries[0], note)
    if entries:
        who = owner.name or owner.key
        return Placement("", error=f"{who!r} matches {len(entries)} roster students: "
                                   + ", ".join(entry.described() for entry in entries))
    if not own_id:
        return Placement("", error=f"{written!r} is not on the roster and not a usable student id "
                                   "(a name, never a path)")
    return Placement(own_id, note="not on the roster")


def _to_utc(moment: datetime, zone: str) -> datetime:
    """A naive time read in ``zone`` ("" = this machine's) as naive UTC, nbgrader's convention."""
    aware = moment.replace(tzinfo=ZoneInfo(zone)) if zone else moment.astimezone()
    return aware.astimezone(timezone.utc).replace(tzinfo=None)


def _late_by(seconds: float) -> str:
    minutes = round(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes)
    return " ".join(parts) or "under a minute"


def plan_collection(
    facts: list[FileFacts], *, assignment: str, roster: Roster | None = None,
    duedate: datetime | None = None, zone: str = "UTC",
    mtime: Callable[[PurePosixPath], float] = lambda path: 0.0,
    same_content: Callable[[PurePosixPath, PurePosixPath], bool] = lambda a, b: False,
    refused: dict[PurePosixPath, str] | None = None, skipped: dict[PurePosixPath, str] | None = None,
) -> Plan:
    """Decide every file's fate (see the module docstring).

    ``zone``: the time zone of Blackboard's attempt times. ``duedate``: the gradebook's, naive
    UTC, or None. ``mtime`` and ``same_content`` read the extracted files. ``refused``: archives
    that could not be unpacked (NOT PLACED, with why); ``skipped``: entries left inside archives.
    """
    plan = Plan(assignment, [], roster=roster, duedate=duedate)
    outcomes = {}
    candidates: dict[tuple[str, str], list[tuple[FileFacts, Placement]]] = {}
    identities: dict[str, set[tuple[str, str]]] = {}
    for fact in facts:
        outcome = outcomes[fact.path] = Outcome(fact.path, "skipped")
        placement = place(fact.owner, roster) if fact.owner else None
        outcome.student = placement.student_id if placement else ""
        if fact.kind == "archive":
            outcome.detail = f"archive, unpacked into {archive_stem(fact.path.name)}/"
        elif fact.kind in SKIPPED:
            outcome.detail = SKIPPED[fact.kind]
        elif fact.kind == "other notebook":
            outcome.detail = f"not a notebook of {assignment}"
        elif fact.ambiguous:
            outcome.status = "not placed"
            outcome.detail = (f"its folder {fact.path.parent.name!r} matches several roster "
                              f"students: {', '.join(fact.ambiguous)}")
        elif placement is None:
            outcome.status = "not placed"
            outcome.detail = ("no student in its name or folder: rename it <student>_"
                              f"{PurePosixPath(fact.notebook).name} or put it in a folder named "
                              "after the student")
        elif placement.error:
            outcome.status, outcome.detail = "not placed", placement.error
        else:
            candidates.setdefault((placement.student_id, fact.notebook), []).append((fact, placement))
            identity = (("Moodle", fact.owner.key) if fact.owner.platform == "Moodle"
                        else ("id", placement.student_id))
            if placement.entry is None:
                identities.setdefault(placement.student_id, set()).add(identity)

    for (student_id, notebook), versions in sorted(candidates.items()):
        if len(identities.get(student_id, ())) > 1:
            names = ", ".join(sorted(f"{fact.owner.name} (participant {fact.owner.key})"
                                     for fact, _ in versions if fact.owner.platform == "Moodle"))
            for fact, _ in versions:
                outcomes[fact.path].status = "not placed"
                outcomes[fact.path].detail = (f"different people would all be {student_id!r}: {names}; "
                                              "give a roster to tell them apart")
            continue
        _choose(plan, outcomes, versions, notebook, zone, mtime, same_content)
    plan.outcomes = [outcomes[fact.path] for fact in facts]
    for path, why in sorted((refused or {}).items()):  # nothing of it was unpacked: needs the instructor
        outcome = outcomes.get(path) or Outcome(path, "not placed")
        outcome.status, outcome.detail, outcome.student = "not placed", why, ""
        if path not in outcomes:
            plan.outcomes.append(outcome)
    plan.outcomes += [Outcome(path, "skipped", f"left in its archive: {why}") for path, why in sorted((skipped or {}).items())]
    return plan


def _choose(plan, outcomes, versions, notebook, zone, mtime, same_content) -> None:
    """Collect the newest of one student's versions of one notebook; say why not the others."""
    def key(version):
        fact = version[0]
        attempt = _to_utc(fact.owner.attempt, zone) if fact.owner.attempt else datetime.min
        return attempt, fact.resubmission, mtime(fact.path)

    versions = sorted(versions, key=key, reverse=True)
    (newest, placement), newest_key = versions[0], key(versions[0])
    ties = [fact for fact, _ in versions[1:] if key((fact, None)) == newest_key
            and not same_content(fact.path, newest.path)]
    if ties:
        for fact in [newest, *ties]:
            others = ", ".join(other.path.name for other in [newest, *ties] if other is not fact)
            outcomes[fact.path].status = "not placed"
            outcomes[fact.path].detail = (f"as new as {others} but different: cannot tell which "
                                          "to keep (remove one)")
        return
    for fact, _ in versions[1:]:
        older_key = key((fact, None))
        if older_key == newest_key:
            reason = "same content as"
        elif older_key[0] != newest_key[0]:
            reason = (f"older attempt ({older_key[0]:%Y-%m-%d %H:%M} UTC), kept" if fact.owner.attempt
                      else "no attempt time, kept the dated attempt")
        elif older_key[1] != newest_key[1]:
            reason = f"older resubmission ({f'-{fact.resubmission}' if fact.resubmission else 'no suffix'}), kept"
        else:
            reason = "older file (modified earlier), kept"
        outcomes[fact.path].detail = f"{reason} {newest.path.name}"

    owner, outcome = newest.owner, outcomes[newest.path]
    outcome.status, outcome.notebook = "collected", notebook
    details = [owner.platform if owner.platform != "name" else f"id in the {owner.where}"]
    if owner.attempt:
        attempt = _to_utc(owner.attempt, zone)
        outcome.timestamp = attempt.replace(tzinfo=timezone.utc)
        details[0] += f" attempt {attempt:%Y-%m-%d %H:%M} UTC"
        if plan.duedate and attempt > plan.duedate:
            outcome.late = True
            details.append(f"LATE by {_late_by((attempt - plan.duedate).total_seconds())}")
    if newest.resubmission:
        details.append(f"resubmission {newest.resubmission}")
    if owner.late:
        outcome.late = True
        if plan.duedate:  # Canvas says late but not when: nbgrader gets the least lateness
            outcome.timestamp = (plan.duedate + timedelta(seconds=1)).replace(tzinfo=timezone.utc)
            details.append("LATE (Canvas; time unknown, timestamp = due date + 1 s)")
        else:
            details.append("LATE (Canvas; no due date in the gradebook)")
    if placement.note:
        details.append(placement.note)
    outcome.detail = "collected: " + ", ".join(details)

    student = plan.students.setdefault(placement.student_id, Student(placement.student_id, placement.entry))
    if placement.entry is not None:
        student.first_name, student.last_name = placement.entry.first_last
        student.lms_user_id = placement.entry.lms_id
    elif owner.platform == "Moodle":
        student.first_name, _, student.last_name = owner.name.rpartition(" ")
    elif owner.platform == "Canvas":
        student.lms_user_id = owner.key


def format_report(plan: Plan, roster_source: str = "") -> str:
    """The table of every file, then who submitted nothing and what needs the instructor."""
    roster = (f"roster {roster_source}: {len(plan.roster)} students" if plan.roster is not None
              else "no roster")
    lines = [f"{plan.assignment}: {len(plan.students)} students collected from "
             f"{len(plan.outcomes)} files ({roster})", ""]
    rows = [("file", "student", "result")]
    for outcome in plan.outcomes:
        result = outcome.detail if outcome.status != "not placed" else f"NOT PLACED: {outcome.detail}"
        if outcome.status == "skipped":
            result = f"skipped: {result}" if not result.startswith(("archive", "left in")) else result
        rows.append((one_line(str(outcome.path)), one_line(outcome.student) or "-", one_line(result)))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    rows.insert(1, ("-" * widths[0], "-" * widths[1], "-" * 6))
    lines += [f"{file:<{widths[0]}}  {student:<{widths[1]}}  {result}".rstrip()
              for file, student, result in rows]
    lines.append("")
    if plan.roster is not None:
        missing = plan.missing
        lines.append(f"Submitted nothing ({len(missing)} of {len(plan.roster)} on the roster): "
                     + (", ".join(entry.described() for entry in missing) or "none"))
    else:
        lines.append("Submitted nothing: unknown without a roster (c.CourseRoster.path)")
    if any(outcome.late for outcome in plan.collected) and plan.duedate is None:
        lines.append(f"Late submissions are marked LATE above, but the gradebook has no due date "
                     f"for {plan.assignment}, so nbgrader cannot mark them: set one with "
                     f"`nbgrader db assignment add {plan.assignment} --duedate=...` and collect "
                     "again with --force.")
    if plan.not_placed:
        lines.append(f"Not placed: {len(plan.not_placed)} file(s), marked NOT PLACED above.")
    return "\n".join(lines)
