"""``nbgrader zip_collect`` for what Canvas, Moodle and Blackboard download: nobody dropped.

Configured in ``nbgrader_config.py``; the command stays ``nbgrader zip_collect a1_convolution``:

    c.ZipCollectApp.extractor_plugin = "course_utils.instructor.lms.collect.LmsExtractor"
    c.ZipCollectApp.collector_plugin = "course_utils.instructor.lms.collect.LmsCollector"
    c.CourseRoster.path = "roster.csv"            # optional (course_utils.instructor.lms.roster)
    c.LmsCollector.timezone = "Europe/London"     # the zone of Blackboard's attempt times

nbgrader's ``ZipCollectApp`` asks its collector about one file at a time and then copies what it
was told, so on its own it cannot choose between a student's versions (two files for one student
and notebook without timestamps stop the whole run: "Duplicate submission file"), and it ends
without saying what happened to each file. The collector therefore decides for all the files at
once before nbgrader asks (:mod:`~course_utils.instructor.lms.plan`): it reads every name
(:mod:`~course_utils.instructor.lms.names`), gives nbgrader exactly one file per student and
notebook -- the latest -- with the attempt time for ``timestamp.txt``, and after nbgrader has
copied them prints a table of every file, records the students' names and platform ids in the
gradebook (only fields that are empty there), and exits with status 1 if a notebook could not be
placed (everyone else is collected). To run after nbgrader's copying it wraps the running app's
``process_extracted_files`` (nbgrader 0.9 has no hook there).

The extractor unpacks zip and tar archives, archives inside them too, each into a folder named
after it, keeping each file's time from the archive (nbgrader's own sets it to the extraction
time, which would make "the newest file" meaningless) and mending file names that a zip stored in
UTF-8 without saying so.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import time
import zipfile
from pathlib import Path, PurePosixPath

from nbgrader.apps.zipcollectapp import ZipCollectApp
from nbgrader.plugins import ExtractorPlugin, FileNameCollectorPlugin
from nbgrader.utils import find_all_notebooks
from traitlets import Unicode

from course_utils.instructor.lms.plan import Plan, format_report, plan_collection
from course_utils.instructor.lms.names import archive_stem, describe, is_archive
from course_utils.instructor.lms.roster import CourseRoster
from course_utils.instructor.untrusted.ids import safe_display_name

NESTED_ARCHIVES = 5  # how deep archives inside archives are unpacked


class LmsExtractor(ExtractorPlugin):
    """Unpack ``downloaded/<id>/archive/`` into ``downloaded/<id>/extracted/``, keeping file times."""

    def extract(self, archive_path: str, extracted_path: str) -> None:
        archive_root, extracted_root = Path(archive_path), Path(extracted_path)
        sources = sorted(path for path in archive_root.rglob("*") if path.is_file())
        if not sources:
            self.log.warning("No files found in directory: %s", archive_root)
        for source in sources:
            folder = extracted_root / source.parent.relative_to(archive_root)
            folder.mkdir(parents=True, exist_ok=True)
            if is_archive(source.name):
                self.log.info("Unpacking %s", source)
                unpack(source, folder / archive_stem(source.name), self.log)
            else:
                shutil.copy2(source, folder / source.name)


def unpack(archive: Path, folder: Path, log, depth: int = 0) -> None:
    """Unpack ``archive`` into ``folder``, then every archive found in it into a folder beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if archive.name.lower().endswith(".zip"):
            _unzip(archive, folder, log)
        else:
            with tarfile.open(archive) as bundle:
                bundle.extractall(folder, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as error:
        raise ValueError(f"{archive}: cannot unpack it ({error}); download it again") from error
    if depth < NESTED_ARCHIVES:
        for nested in sorted(path for path in folder.rglob("*") if path.is_file() and is_archive(path.name)):
            unpack(nested, nested.parent / archive_stem(nested.name), log, depth + 1)


def _unzip(archive: Path, folder: Path, log) -> None:
    with zipfile.ZipFile(archive) as bundle:
        for info in bundle.infolist():
            name = info.filename
            if not info.flag_bits & 0x800:  # not marked UTF-8: Python read it as cp437
                try:
                    name = name.encode("cp437").decode("utf-8")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    pass
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if not parts or parts[0] == "/" or ".." in parts:
                log.warning("Skipped %r in %s: a path outside the archive's folder", name, archive)
                continue
            target = folder.joinpath(*parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with bundle.open(info) as source, open(target, "wb") as copy:
                shutil.copyfileobj(source, copy)
            stamp = time.mktime(info.date_time + (0, 0, -1))
            os.utime(target, (stamp, stamp))


def archive_folders(archive_root: Path, extracted_root: Path) -> set[PurePosixPath]:
    """The folders (relative to ``extracted_root``) that archives were unpacked into."""
    folders = set()
    for root in (archive_root, extracted_root):
        for path in root.rglob("*") if root.is_dir() else ():
            if path.is_file() and is_archive(path.name):
                folders.add(PurePosixPath(path.parent.relative_to(root).as_posix()) / archive_stem(path.name))
    return folders


class LmsCollector(CourseRoster, FileNameCollectorPlugin):
    """Place every downloaded file (see the module docstring and README, "Collect")."""

    timezone = Unicode(
        "UTC",
        help="Time zone of the attempt times in Blackboard's file names, e.g. 'Europe/London' "
             "(empty: this machine's).",
    ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.plan: Plan | None = None
        self._collect: dict[PurePosixPath, dict] = {}
        app = self.parent
        if not isinstance(app, ZipCollectApp):
            raise TypeError("LmsCollector is nbgrader zip_collect's collector plugin "
                            "(c.ZipCollectApp.collector_plugin)")
        collect_and_copy = app.process_extracted_files

        def process_extracted_files():
            self.prepare()
            collect_and_copy()
            self.finish()

        app.process_extracted_files = process_extracted_files

    @property
    def extracted_root(self) -> Path:
        return Path(self.parent._format_collect_path(self.parent.extracted_directory))

    def prepare(self) -> None:
        """Decide every extracted file's fate before nbgrader asks about each."""
        app, coursedir = self.parent, self.parent.coursedir
        assignment = coursedir.assignment_id
        notebooks = find_all_notebooks(coursedir.format_path(coursedir.release_directory, ".", assignment))
        if not notebooks:
            app.fail(f"No released notebooks for {assignment} in "
                     f"{coursedir.format_path(coursedir.release_directory, '.', assignment)}: "
                     "release the assignment first (make assignments)")
        extracted = self.extracted_root
        try:
            roster = self.load_roster(coursedir.root)
        except (OSError, ValueError) as error:
            app.fail(f"Roster (c.CourseRoster.path): {error}")
        folders = archive_folders(Path(app._format_collect_path(app.archive_directory)), extracted)
        files = sorted(PurePosixPath(path.relative_to(extracted).as_posix())
                       for path in extracted.rglob("*") if path.is_file()) if extracted.is_dir() else []
        self.plan = plan_collection(
            [describe(path, notebooks, folders, roster) for path in files],
            assignment=assignment, roster=roster, duedate=self._duedate(), zone=self.timezone,
            mtime=lambda path: (extracted / path).stat().st_mtime,
            same_content=lambda a, b: (extracted / a).read_bytes() == (extracted / b).read_bytes(),
        )
        for outcome in self.plan.collected:
            info = {"student_id": outcome.student, "file_id": outcome.notebook}
            if outcome.timestamp is not None:
                info["timestamp"] = outcome.timestamp
            self._collect[outcome.path] = info

    def collect(self, submitted_file: str) -> dict | None:
        """What nbgrader asks per file: the student and notebook, or None to skip it."""
        path = PurePosixPath(Path(submitted_file).relative_to(self.extracted_root).as_posix())
        return self._collect.get(path)

    def finish(self) -> None:
        """After nbgrader's copying: the table, the gradebook's student fields, the exit status."""
        print(format_report(self.plan, roster_source=self.path), flush=True)
        self._record_students()
        if self.plan.not_placed:
            self.parent.fail(
                f"{len(self.plan.not_placed)} file(s) could not be placed (everyone else was "
                "collected): " + "; ".join(f"{outcome.path}: {outcome.detail}" for outcome in self.plan.not_placed))

    def _gradebook(self):
        """nbgrader's gradebook, or None if there is none yet (collecting never creates one)."""
        from nbgrader.api import Gradebook
        from sqlalchemy.engine import make_url

        url = make_url(self.parent.coursedir.db_url)
        if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
            return None
        return Gradebook(self.parent.coursedir.db_url, course_id=self.parent.coursedir.course_id)

    def _duedate(self):
        from nbgrader.api import MissingEntry

        gradebook = self._gradebook()
        if gradebook is None:
            return None
        with gradebook:
            try:
                return gradebook.find_assignment(self.parent.coursedir.assignment_id).duedate
            except MissingEntry:
                return None

    def _record_students(self) -> None:
        from nbgrader.api import MissingEntry

        gradebook = self._gradebook()
        if gradebook is None or not self.plan.students:
            return
        with gradebook:
            for student in self.plan.students.values():
                try:
                    record = gradebook.find_student(student.student_id)
                except MissingEntry:
                    record = None
                known = {"first_name": safe_display_name(student.first_name),
                         "last_name": safe_display_name(student.last_name),
                         "lms_user_id": safe_display_name(student.lms_user_id)}  # shown by Formgrader
                fields = {key: value for key, value in known.items()
                          if value and not getattr(record, key, None)}
                if record is None or fields:
                    gradebook.update_or_create_student(student.student_id, **fields)
