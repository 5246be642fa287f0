"""Every graded function's case lists, one module per assignment, registered by name and id.

=====================  =================================================================
module                 graded functions
=====================  =================================================================
``a1_convolution``     output_size, zero_pad, conv_single_step, conv2d
``a2_pooling``         relu, max_pool2d, avg_pool2d
``a3_backprop``        relu_backward, max_pool2d_backward, conv2d_backward (dx, dw, db)
=====================  =================================================================

A new assignment adds one module here with its specs, case lists and a ``CHECKS`` tuple, and
one line below; ``grading.check_<name>`` then finds it (:mod:`course_utils.grading.checks`).
"""

from __future__ import annotations

from course_utils.grading.cases import a1_convolution, a2_pooling, a3_backprop
from course_utils.grading.specs import Check, FunctionSpec

#: graded function name -> its :class:`~course_utils.grading.specs.Check`.
CHECKS: dict[str, Check] = {
    check.function: check
    for module in (a1_convolution, a2_pooling, a3_backprop)
    for check in module.CHECKS
}

#: spec id -> :class:`~course_utils.grading.specs.FunctionSpec`, for the judge process.
SPECS: dict[str, FunctionSpec] = {spec.id: spec for check in CHECKS.values() for spec in check.specs}


def find_spec(spec_id: str) -> FunctionSpec:
    """The registered spec with this id; ``KeyError`` naming the known ids if there is none."""
    try:
        return SPECS[spec_id]
    except KeyError:
        raise KeyError(f"no FunctionSpec with id {spec_id!r}; known: {', '.join(sorted(SPECS))}") from None
