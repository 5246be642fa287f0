"""nbgrader configuration for the course; every ``nbgrader`` command run in this folder reads it.

Folders (nbgrader's step name -> ours):

    source    -> solutions/     instructor versions: solutions and hidden tests (committed)
    release   -> assignments/   student versions, made by `make assignments` (committed)
    submitted/, autograded/, feedback/, downloaded/   nbgrader's defaults (git-ignored)

Gradebook: the SQLite file gradebook.db in this folder (git-ignored), or any SQLAlchemy URL in
the environment variable COURSE_GRADEBOOK_URL (e.g. postgresql://grader@dbhost/cnn_course).
README, "Instructor workflow", has the commands.
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
# nbgrader's pipeline with three of the course's preprocessors (course_utils/instructor/
# preprocessors.py; README, "Grades you can publish"):
#   OverwriteCells  restores edited test cells; warns only about real edits
#   Execute         runs the kernel in the bubblewrap sandbox (no course files, no network, limits)
#   TrustedGrading  runs each graded function again in a sandboxed checking process that holds
#                   only the code above its test cell, judges the answers here, and sets every
#                   test cell's score and message from that verdict
# Without bubblewrap, autograde stops and says how to install it; `COURSE_SANDBOX=off` (or
# `--no-sandbox` for `make grade`) grades without it, with partial tampering protection.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds, IgnorePattern, LimitOutput,
    OverwriteKernelspec, SaveAutoGrades,
)

COURSE = "course_utils.instructor.preprocessors"
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, f"{COURSE}.OverwriteCells", CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    f"{COURSE}.Execute", IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    f"{COURSE}.TrustedGrading", SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
# Each function's points are split over named groups of checks (the assignment's text shows the
# split) and the trusted verdict gives the share of groups passed. False: all or nothing.
c.TrustedGrading.partial_credit = True
# Seconds one graded function may take in the checking process (its cells and all its cases).
c.TrustedGrading.function_seconds = 15

# --- collecting downloads from a learning platform (nbgrader zip_collect) ----------------------
# Put the downloaded files or zip archives in downloaded/<assignment>/archive/. Each notebook's
# file name starts with the student id and "_" (ada_a1_convolution.ipynb), or it sits in a folder
# whose name does (ada_12345_submission/a1_convolution.ipynb). Adapt this pattern to your
# platform's names; it is matched against the extracted file's absolute path.
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[A-Za-z0-9.-]+)_(?:[^/]*/)?(?:[^/]*_)?(?P<file_id>a\d+_[a-z0-9_]+\.ipynb)$"
)
c.ZipCollectApp.strict = True  # skip files that are not one of the assignment's notebooks
