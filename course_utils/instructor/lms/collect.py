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

The extractor (:mod:`~course_utils.instructor.lms.unpack`) unpacks each archive on its own, so
an archive that is damaged, too large, nested too deep, or full of links costs that archive only:
it is named in the table as NOT PLACED, with the reason, and everyone else is collected.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from nbgrader.apps.zipcollectapp import ZipCollectApp
from nbgrader.plugins import ExtractorPlugin, FileNameCollectorPlugin
from nbgrader.utils import find_all_notebooks
from traitlets import Int, Unicode

from course_utils.instructor.lms.names import describe
from course_utils.instructor.lms.plan import Plan, format_report, plan_collection
from course_utils.instructor.lms.roster import CourseRoster
from course_utils.instructor.lms.unpack import Limits, Unpacked, unpack_download
from course_utils.instructor.untrusted.ids import safe_display_name

class LmsExtractor(ExtractorPlugin):
    """Unpack ``downloaded/<id>/archive/`` into ``downloaded/<id>/extracted/``
    (:mod:`~course_utils.instructor.lms.unpack`: each archive on its own, regular files only,
    capped while extracting, file times kept); what it did goes to the collector."""

    max_bytes = Int(Limits.max_bytes, help="Bytes one archive, with every archive nested in it, may "
                    "expand to; past it, that archive is not unpacked (and says so).").tag(config=True)
    max_files = Int(Limits.max_files, help="Files one archive, with every archive nested in it, may "
                    "hold.").tag(config=True)
    max_depth = Int(Limits.max_depth, help="How deep archives inside archives are unpacked.").tag(config=True)

    def extract(self, archive_path: str, extracted_path: str) -> None:
        archive_root = Path(archive_path)
        if not any(path.is_file() for path in archive_root.rglob("*")):
            self.log.warning("No files found in directory: %s", archive_root)
        limits = Limits(self.max_bytes, self.max_files, self.max_depth)
        self.parent.course_unpacked = unpack_download(archive_root, Path(extracted_path), limits, self.log)


class LmsCollector(CourseRoster, FileNameCollectorPlugin):
    """Place every downloaded file (see the module docstring and docs/instructors/collect.md)."""

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
        unpacked = getattr(app, "course_unpacked", None) or Unpacked()
        folders = unpacked.folders
        files = sorted(PurePosixPath(path.relative_to(extracted).as_posix())
                       for path in extracted.rglob("*") if path.is_file()) if extracted.is_dir() else []
        self.plan = plan_collection(
            [describe(path, notebooks, folders, roster) for path in files],
            assignment=assignment, roster=roster, duedate=self._duedate(), zone=self.timezone,
            mtime=lambda path: (extracted / path).stat().st_mtime,
            same_content=lambda a, b: (extracted / a).read_bytes() == (extracted / b).read_bytes(),
            refused=unpacked.refused, skipped=unpacked.skipped,
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
