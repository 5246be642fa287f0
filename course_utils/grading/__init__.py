"""Grading checks for the course's assignments: the nbgrader test cells call these.

A test cell is a line or two::

    grading.check_conv2d(conv2d)                  # the visible cases
    ### BEGIN HIDDEN TESTS
    grading.check_conv2d(conv2d, hidden=True)     # edge cases and many random cases
    ### END HIDDEN TESTS

Each check calls the student's function on named cases and stops at the first wrong answer
with :class:`CheckFailed`: the case and the call, what is wrong, what is probably wrong, and
which groups of checks pass. This is what a student sees while working; the instructor's
autograde decides scores elsewhere, from its own sandboxed run of the same cases
(:mod:`course_utils.instructor.trusted`), and uses this package's specs, comparison and scoring
to do so.

=============================================  ================================================
module                                         what it holds
=============================================  ================================================
:mod:`~course_utils.grading.checks`            ``check_<name>``: what the test cells call
:mod:`~course_utils.grading.delegation`        refuses a function that calls a library instead
:mod:`~course_utils.grading.cases`             per-assignment case lists and specs, by id
:mod:`~course_utils.grading.specs`             Case, Mistake, FunctionSpec, Check
:mod:`~course_utils.grading.compare`           is one answer right; the message and diagnosis
:mod:`~course_utils.grading.scoring`           the share of points from named groups of checks
:mod:`~course_utils.grading.judge`             the separate process a check's answers go to
:mod:`~course_utils.grading.wire`              how values cross processes (JSON + .npy)
:mod:`~course_utils.grading.flags`             names shared with the autograde pipeline
=============================================  ================================================

A new assignment adds one module to :mod:`course_utils.grading.cases` and a ``check_<name>``
per graded function in :mod:`course_utils.grading.checks`.
"""

from course_utils.gradcheck import rel_error
from course_utils.grading.checks import (
    CheckFailed,
    Report,
    check_avg_pool2d,
    check_conv2d,
    check_conv2d_backward,
    check_conv_single_step,
    check_max_pool2d,
    check_max_pool2d_backward,
    check_output_size,
    check_relu,
    check_relu_backward,
    check_zero_pad,
)
from course_utils.grading.delegation import DelegationError

__all__ = [
    "CheckFailed",
    "DelegationError",
    "Report",
    "check_avg_pool2d",
    "check_conv2d",
    "check_conv2d_backward",
    "check_conv_single_step",
    "check_max_pool2d",
    "check_max_pool2d_backward",
    "check_output_size",
    "check_relu",
    "check_relu_backward",
    "check_zero_pad",
    "rel_error",
]
