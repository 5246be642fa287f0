"""nbgrader configuration for the course; every ``nbgrader`` command run in this folder reads it.

Folders (nbgrader's step name -> ours):

    source    -> solutions/     instructor versions: solutions and hidden tests (committed)
    release   -> assignments/   student versions, made by `make assignments` (committed)
    submitted/, autograded/, feedback/, downloaded/   nbgrader's defaults (git-ignored)

Gradebook: the SQLite file gradebook.db in this folder (git-ignored), or any SQLAlchemy URL in
the environment variable COURSE_GRADEBOOK_URL (e.g. postgresql://grader@dbhost/cnn_course).
docs/instructors/ has the commands.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 -- provided by traitlets when nbgrader loads this file

ROOT = Path(__file__).resolve().parent

# --- course and folders ----------------------------------------------------------------------
c.CourseDirectory.course_id = "cnn_course"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.db_url = os.environ.get("COURSE_GRADEBOOK_URL") or f"sqlite:///{ROOT / 'gradebook.db'}"

# --- running students' notebooks (validate and autograde) -------------------------------------
# A correct, plain-loop solution runs each test cell in well under a second here (the course's
# budget is 5 s). 20 s per cell leaves room for slow machines and slow-but-correct code, and
# stops a function that never returns after 20 s: the cell is interrupted, scores 0, and the
# rest of the notebook still runs.
CELL_TIMEOUT = 20  # seconds
c.Execute.timeout = CELL_TIMEOUT
c.Execute.interrupt_on_timeout = True
c.Execute.error_on_timeout = {
    "ename": "CellTimeoutError",
    "evalue": f"stopped after {CELL_TIMEOUT} s",
    "traceback": [
        f"CellTimeoutError: this cell ran for more than {CELL_TIMEOUT} s and was stopped. A right "
        "answer takes well under a second: look for a loop that never ends.",
    ],
}
# What is stored in autograded notebooks and feedback: a runaway print loop keeps 200 lines,
# a traceback 100.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 100

# --- autograde: the original tests always run -------------------------------------------------
# Edited test cells are restored from the gradebook (nbgrader's checksums); deleted ones are put
# back too: removing a test cell neither skips its tests nor forfeits its points.
c.OverwriteCells.add_missing_cells = True

# --- autograde: student code sandboxed, every score decided outside it --------------------------
# nbgrader's pipeline with the course's steps (course_utils/instructor/trusted/preprocessors.py;
# the security model in docs/): the test cells restored, the kernel and a checking process run
# in the bubblewrap sandbox, every test cell's score decided outside both.
# Without bubblewrap, autograde stops and says how to install it; `COURSE_SANDBOX=off` (or
# `--no-sandbox` for `make grade`) grades without it, with partial tampering protection.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, ClearOutput, IgnorePattern, OverwriteKernelspec, SaveAutoGrades,
)

COURSE = "course_utils.instructor.trusted.preprocessors"
c.Autograde.sanitize_preprocessors = [
    ClearOutput, f"{COURSE}.DeduplicateIds", OverwriteKernelspec, f"{COURSE}.OverwriteCells",
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    f"{COURSE}.StartTrustedCheck", f"{COURSE}.Execute", IgnorePattern, ClearMetadataPreprocessor,
    f"{COURSE}.LimitOutput", f"{COURSE}.TrustedGrading", SaveAutoGrades, AssignLatePenalties,
    CheckCellMetadata, f"{COURSE}.SanitizeViews",
]
# Each function's points are split over named groups of checks (the assignment's text shows the
# split) and the trusted verdict gives the share of groups passed. False: all or nothing.
c.TrustedGrading.partial_credit = True
# Time in the checking process is judged as the kernel judges it: each cell above a test cell
# gets the kernel's limit (c.Execute.timeout, above), and all of one function's cases 6 s.
c.TrustedCheck.case_seconds = 6

# --- what a student hands in never runs, reads or writes outside its own grade ----------------
# (course_utils/instructor/untrusted/ and exchange/; the security model in docs/)
# Only regular files travel: before nbgrader copies a submission's other files into autograded/
# (and autograded/ into feedback/), every symbolic link, FIFO or device in it is removed and said;
# a notebook that is a link is refused for that student.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

from course_utils.instructor.untrusted.files import keep_only_regular_files  # noqa: E402
from course_utils.instructor.untrusted.pages import protect_feedback_files  # noqa: E402

c.Autograde.pre_convert_hook = keep_only_regular_files
c.GenerateFeedback.pre_convert_hook = keep_only_regular_files
# No script from a submission runs in any view: the autograded notebook is sanitized (the last
# autograde step above), so is the feedback, nbconvert cleans HTML again as it renders, and each
# feedback file carries a Content-Security-Policy (Formgrader's page gets one from the course's
# server extension, course_utils.instructor.untrusted.pages).
# The feedback shows each test cell without its hidden-tests block (nbgrader's default shows it).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor,
                                    f"{COURSE}.SanitizeViews"]
c.GenerateFeedback.post_convert_hook = protect_feedback_files
c.HTMLExporter.sanitize_html = True
# The exchange (a shared machine, the JupyterHub): a submission belongs to the Unix user who wrote
# it, its time is when it reached the exchange, and only its regular files are collected.
c.ExchangeFactory.submit = "course_utils.instructor.exchange.submit.ExchangeSubmit"
c.ExchangeFactory.collect = "course_utils.instructor.exchange.collect.ExchangeCollect"
# Grades open safely in a spreadsheet: no cell of nbgrader's grades.csv is ever a formula.
c.ExportApp.plugin_class = "course_utils.instructor.lms.grades_csv.GradesCsvExporter"

# `nbgrader validate` of a path that names no notebook is an error, not a silent success.
from course_utils.grading.validate import refuse_missing_notebooks  # noqa: E402

refuse_missing_notebooks()

# --- collecting downloads from a learning platform (nbgrader zip_collect) ----------------------
# Put the downloaded zip archives or files in downloaded/<assignment>/archive/ and run
# `nbgrader zip_collect <assignment>`. The course's plugins read the names Canvas, Moodle and
# Blackboard give (and <student>_<notebook>.ipynb, or a folder <student>_<number>_.../), keep each
# student's latest version (attempt time, then resubmission number, then file time), write
# Blackboard's attempt time (or, for Canvas's LATE files, the due date + 1 s) to timestamp.txt,
# print a table of every file and exit 1 if a notebook cannot be placed
# (course_utils/instructor/lms/collect.py).
c.ZipCollectApp.extractor_plugin = "course_utils.instructor.lms.collect.LmsExtractor"
c.ZipCollectApp.collector_plugin = "course_utils.instructor.lms.collect.LmsCollector"
# The roster (optional, git-ignored): a CSV with the columns Student,ID,SIS User ID,SIS Login ID,
# Section -- Canvas's gradebook export as it is. With it, each student's nbgrader id is their
# SIS Login ID, files are matched to students by platform id or name, the table lists who
# submitted nothing, and the Canvas grade export has every enrolled student. Decide before the
# first collection: the ids must not change during the course.
if (ROOT / "roster.csv").exists():
    c.CourseRoster.path = "roster.csv"
# c.CourseRoster.student_id_column = "SIS Login ID"
# Blackboard writes attempt times in the institution's time zone:
c.LmsCollector.timezone = "UTC"  # e.g. "Europe/London"

# --- grades for the learning platform (nbgrader export) ---------------------------------------
# `nbgrader export` writes nbgrader's grades.csv; Canvas's import format, one column per
# assignment (and per question with --CanvasGradesExporter.questions=True), blank for nothing
# handed in, comes from
#   nbgrader export --exporter=course_utils.instructor.lms.canvas_grades.CanvasGradesExporter
# c.CanvasGradesExporter.assignment_columns = {"a1_convolution": "A1 Convolution (4321)"}
