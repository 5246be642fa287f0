"""The names the autograde pipeline shares with the code it runs, in one place.

The instructor's pipeline (:mod:`course_utils.instructor.trusted`) tells the student's kernel one
thing through its environment: whether the trusted check decides this run's scores. If it does,
the kernel's own test cells only serve to compare with it, so they judge in the kernel instead
of starting a judge process, skip the hidden checks (the trusted check runs them) and stop a
hang after a few seconds. Everything else a grading run records travels as data under
:data:`METADATA_KEY` in the autograded notebook, with the fixed words below.
"""

from __future__ import annotations

import os

#: Environment variable, "1" in a kernel graded by a pipeline whose trusted check decides.
TRUSTED_GRADING = "COURSE_TRUSTED_GRADING"
#: Environment variable, "off" to grade without the bubblewrap sandbox (``--no-sandbox``).
SANDBOX = "COURSE_SANDBOX"
#: Environment variable, seconds one kernel-side check may take (default 8).
CHECK_SECONDS = "COURSE_CHECK_SECONDS"

#: Key of what the trusted grading records in the autograded notebook (the notebook's metadata:
#: the run; each test cell's: its score, groups and notes).
METADATA_KEY = "course_grading"
#: What every note says of a run without the sandbox.
PARTIAL_PROTECTION = "no sandbox: tampering protection is partial"
#: The start of the note on a test cell the kernel passed and the trusted check judged wrong.
TAMPERING_SUSPECTED = "tampering suspected"


def trusted_grading_decides() -> bool:
    """Is this process a kernel graded by a pipeline whose trusted check decides the scores?"""
    return os.environ.get(TRUSTED_GRADING) == "1"


def sandbox_switched_off() -> bool:
    """Has the instructor switched the sandbox off for this run (``COURSE_SANDBOX=off``)?"""
    return os.environ.get(SANDBOX, "on").lower() in ("off", "0", "no")


def kernel_check_seconds() -> float:
    """Seconds one check may take in the kernel: 8 (``COURSE_CHECK_SECONDS``), and at most 3
    where the trusted check decides (a right answer takes milliseconds; a hang costs less)."""
    seconds = float(os.environ.get(CHECK_SECONDS, "8"))
    return min(seconds, 3.0) if trusted_grading_decides() else seconds
