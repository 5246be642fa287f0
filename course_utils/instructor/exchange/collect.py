"""``nbgrader collect`` that believes the file system, not the names a student wrote.

For every folder in the course's ``inbound/`` whose name says it is a submission of this
assignment (``<student>+<assignment>+<time>[+<random>]``):

1. **the student is the owner**: the name's student must be a safe id
   (:mod:`~course_utils.instructor.untrusted.ids`), the folder a real folder (not a link), and
   its owner the Unix user of that name; anything else is skipped (a folder ``cnnstu2+...``
   written by ``cnnstu1`` is never cnnstu2's), and that student's own latest folder is taken;
2. **the time is when it reached the exchange**: the latest change time (``ctime``, which no
   user can set back) of the folder and everything in it, never later than now; the name's time
   and ``timestamp.txt`` count for nothing, so a 2099 name is not "latest" and a backdated one
   is not on time;
3. **only regular files travel** (:func:`~course_utils.instructor.untrusted.files.copy_submission`):
   no link is followed, a file of another user is not copied, and a notebook that is a link is
   refused.

Everything skipped is listed; collect then ends with an error (exit status 1; Formgrader shows
an error, not "Success"), after collecting every submission it could.
"""

from __future__ import annotations

import datetime
import fnmatch
import glob
import os
import pwd
import stat
import time

from nbgrader.exchange.default.collect import ExchangeCollect as NbgraderExchangeCollect
from nbgrader.utils import check_mode

from course_utils.instructor.untrusted.files import copy_submission
from course_utils.instructor.untrusted.ids import is_safe_student_id
from course_utils.instructor.untrusted.terminal import one_line


def arrival_time(folder: str, now: float | None = None) -> float:
    """When ``folder`` reached the exchange, as the file system knows it: the latest ``ctime`` of
    the folder and every entry below it (links not followed), at most ``now``."""
    latest = os.lstat(folder).st_ctime
    for current, folders, files in os.walk(folder, followlinks=False):
        for name in [*folders, *files]:
            latest = max(latest, os.lstat(os.path.join(current, name)).st_ctime)
    return min(latest, time.time() if now is None else now)


def owner_name(info: os.stat_result) -> str:
    try:
        return pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        return f"uid {info.st_uid}"


class ExchangeCollect(NbgraderExchangeCollect):
    """nbgrader's collect (same name: ``c.ExchangeCollect.*`` and ``CollectApp``'s options apply)."""

    def init_src(self):
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        self.refused: list[str] = []
        wanted = self.coursedir.student_id if self.coursedir.student_id not in ("", "*") else None
        now = time.time()
        by_student: dict[str, list[dict]] = {}
        pattern = os.path.join(glob.escape(self.inbound_path), f"*+{glob.escape(self.coursedir.assignment_id)}+*")
        for path in sorted(glob.glob(pattern)):
            name = os.path.basename(path)
            parts = name.rsplit("+", 3)
            if len(parts) < 3 or parts[1] != self.coursedir.assignment_id:
                continue
            student = parts[0]
            if wanted is not None and student != wanted:
                continue
            if not is_safe_student_id(student):
                self.refused.append(f"{name}: {student!r} is not a student id (a name, never a path)")
                continue
            info = os.lstat(path)
            if not stat.S_ISDIR(info.st_mode):
                self.refused.append(f"{name}: not a folder but {'a symbolic link' if stat.S_ISLNK(info.st_mode) else 'a file'}")
                continue
            owner = owner_name(info)
            if self.check_owner and owner != student:
                self.refused.append(f"{name}: says it is {student}'s but was written by {owner}; not collected")
                continue
            arrived = arrival_time(path, now)
            by_student.setdefault(student, []).append({
                "username": student, "filename": name, "uid": info.st_uid,
                "timestamp": datetime.datetime.fromtimestamp(arrived, datetime.timezone.utc).replace(tzinfo=None)})
        self.duedate = self._duedate()
        self.src_records = []
        for records in by_student.values():
            records.sort(key=lambda record: record["timestamp"], reverse=True)
            chosen = records[0]
            if self.duedate is not None and self.before_duedate:
                on_time = [record for record in records if record["timestamp"] <= self.duedate]
                chosen = on_time[0] if on_time else records[0]
            self.src_records.append(chosen)

    def _duedate(self):
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
            try:
                return gradebook.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                return None

    def do_copy(self, src, dest, log=None):
        """Regular files only, owned by the submitting student; nbgrader's ignore patterns and
        size limit apply; ``timestamp.txt`` is the exchange's time, not the student's file."""
        record = next(record for record in self.src_records if os.path.join(self.inbound_path, record["filename"]) == src)
        patterns = list(self.coursedir.ignore) + ["timestamp.txt"]

        def ignored(relative: str) -> bool:
            return any(fnmatch.fnmatch(part, pattern) for part in relative.split("/") for pattern in patterns)

        skipped = copy_submission(src, dest, owner=record["uid"] if self.check_owner else None,
                                  max_bytes=1000 * self.coursedir.max_dir_size, ignore=ignored)
        with open(os.path.join(dest, "timestamp.txt"), "w") as handle:
            handle.write(record["timestamp"].replace(tzinfo=datetime.timezone.utc).strftime(self.timestamp_format))
        for entry in skipped:
            self.refused.append(one_line(f"{record['filename']}/{entry}: not collected"))
            if entry.path.endswith(".ipynb"):
                self.log.error("Refused %s's notebook %s: it is %s", record["username"], one_line(entry.path),
                               one_line(entry.why))

    def copy_files(self):
        super().copy_files()
        if self.refused:
            self.fail(f"collected every submission it could, but {len(self.refused)} thing(s) in the exchange were "
                      "refused:\n  " + "\n  ".join(self.refused))
