"""Grading checks for the course's assignments: the nbgrader test cells call these.

A test cell is a line or two::

    grading.check_conv2d(conv2d)                  # the visible cases
    ### BEGIN HIDDEN TESTS
    grading.check_conv2d(conv2d, hidden=True)     # edge cases and many random cases
    ### END HIDDEN TESTS

Each check takes the student's function, runs named cases, compares with
:mod:`course_utils.reference` and stops at the first failure with :class:`CheckFailed`, whose
message names the case and the call, what is wrong (type, shape, values with the first
differing index, expected and got and the relative error, dtype, input modified in place) and,
when the wrong answer is one a typical mistake gives, what is probably wrong. An exception from
the student's own code propagates unchanged (its traceback intact), with a note naming the
case. A function that delegates to a library fails with :class:`DelegationError`.

The package, in the order a check runs:

=============================================  ================================================
module                                         what it holds
=============================================  ================================================
:mod:`~course_utils.grading.checks`            ``check_<name>``: what the test cells call
:mod:`~course_utils.grading.delegation`        the delegation guard (kernel side)
:mod:`~course_utils.grading.cases`             per-assignment case lists and specs, by id
:mod:`~course_utils.grading.specs`             Case, Mistake, FunctionSpec, Check
:mod:`~course_utils.grading.compare`           is an answer right; the message and diagnosis
:mod:`~course_utils.grading.judge`             the separate process that decides pass or fail
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
