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

=====================================  =========================  ==============================
module                                 assignment                 checks
=====================================  =========================  ==============================
:mod:`~course_utils.grading.convolution`  ``a1_convolution``      output_size, zero_pad,
                                                                  conv_single_step, conv2d
:mod:`~course_utils.grading.pooling`   ``a2_pooling``             relu, max_pool2d, avg_pool2d
:mod:`~course_utils.grading.backprop`  ``a3_backprop``            relu_backward,
                                                                  max_pool2d_backward,
                                                                  conv2d_backward
:mod:`~course_utils.grading.core`      (shared)                   Case, Mistake, FunctionSpec,
                                                                  run_check, rel_error
:mod:`~course_utils.grading.delegation`  (shared)                 the delegation guard
=====================================  =========================  ==============================

A new assignment adds one module here with a :class:`~course_utils.grading.core.FunctionSpec`,
visible and hidden cases and a ``check_<function>`` per graded function.
"""

from course_utils.grading.backprop import (
    check_conv2d_backward,
    check_max_pool2d_backward,
    check_relu_backward,
)
from course_utils.grading.convolution import (
    check_conv2d,
    check_conv_single_step,
    check_output_size,
    check_zero_pad,
)
from course_utils.grading.core import CheckFailed, Report, rel_error
from course_utils.grading.delegation import DelegationError
from course_utils.grading.pooling import check_avg_pool2d, check_max_pool2d, check_relu

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
