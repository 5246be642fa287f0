"""What a check is made of: named cases, the typical mistakes, and each graded function's spec.

* a :class:`Case`: one setting to call the student's function with, named for the student;
* a :class:`Mistake`: a typical bug, known by the wrong answer it gives;
* a :class:`FunctionSpec`: a graded function (or one of its outputs) -- its explicit ``id``,
  how to compute the right answer with :mod:`course_utils.reference`, what it returns and the
  usual mistakes;
* a :class:`Check`: what a test cell's ``grading.check_<name>`` runs -- the spec (one per
  output for a function returning several arrays), its visible and hidden case lists, and the
  named *groups* its points are split over.

Groups are what a teacher would name ("stride and padding", "non-square inputs and kernels"):
each case belongs to one group by what it tests (``Check.group_of``), and two more groups are
properties checked on every case whose values are right: the output keeps the input's dtype
(:data:`DTYPE`) and the inputs are left unchanged (:data:`INPUT_UNCHANGED`). A function earns the
share of its points of the groups it passes (:mod:`course_utils.grading.scoring`); every kind of
group a hidden case belongs to has a visible case too, so the visible checks warn of every kind
of failure the hidden ones can find.

The per-assignment case lists live in :mod:`course_utils.grading.cases`, which registers every
check and spec by its id; the judge process looks specs up there by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class Case:
    """One setting to call the student's function with, and a name a student can read.

    ``group``: the case's group when it is not the one its check's ``group_of`` would find
    (the worked example); ``None`` otherwise.
    """

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    group: str | None = None  # set for a case that is a group of its own (the worked example)

    def call_text(self, function_name: str) -> str:
        """``conv2d(x float64 (2, 3, 5, 5), w ..., stride=2)``: the call, arrays as dtype+shape."""
        parts = [describe(value) for value in self.args]
        parts += [f"{key}={describe(value)}" for key, value in self.kwargs.items()]
        return f"{function_name}({', '.join(parts)})"


@dataclass(frozen=True)
class Mistake:
    """A typical bug, known by the wrong answer it gives.

    ``answer(case)`` computes what a function with this bug returns for ``case`` (with the
    reference ops), or ``None`` where the bug makes no difference or does not apply.
    ``hint`` tells the student what is probably wrong and how to fix it.
    """

    hint: str
    answer: Callable[[Case], Any]


@dataclass(frozen=True)
class FunctionSpec:
    """What a student's function (or one of its outputs) must do: the right answer, the usual
    mistakes.

    ``id``: unique and stable, ``"<assignment>/<function>"`` (``"a3_backprop/conv2d_backward[dw]"``
    for one output of several); the judge process finds the spec by it. ``name``: the function's
    name as the student wrote it. ``returns``: ``"array"`` (an ndarray with the reference's shape
    and dtype), ``"int"`` or ``"number"`` (one real number).
    """

    id: str
    name: str
    reference: Callable[..., Any]
    mistakes: Sequence[Mistake] = ()
    returns: str = "array"


@dataclass(frozen=True)
class Check:
    """A graded function as its test cell checks it: ``grading.check_<function>(f, hidden=...)``.

    ``specs``: one spec, or one per output when the function returns several arrays (then
    ``outputs`` names them, e.g. ``("dx", "dw", "db")``, ``outputs_are`` says what they are, e.g.
    ``"gradients"``, and every case is judged for the first output, then the second, ...).
    ``visible()`` and ``hidden()`` build the case lists (fixed seeds: the same cases every time);
    ``hidden(seed)`` builds the same kinds of hidden case with values drawn from ``seed`` (see
    :meth:`hidden_cases`).
    ``groups``: the names the points are split over, in the order students see them;
    ``classify(case)``: the group a case's values count for, by what the case tests (one of
    ``groups``, never a property group).
    """

    assignment: str
    function: str
    specs: tuple[FunctionSpec, ...]
    visible: Callable[[], list[Case]]
    hidden: Callable[[], list[Case]]
    groups: tuple[str, ...] = ()
    classify: Callable[[Case], str] | None = None

    def hidden_cases(self, seed: int | None = None) -> list[Case]:
        """The published hidden cases (``seed`` None), or what the trusted check grades on: the
        same cases by name and kind with their values (and the random cases' shapes) drawn from
        ``seed``, after the worked example again with other numbers (its group has no hidden
        case otherwise). A table of the published answers then earns nothing -- not even the
        worked example's group, which would also unlock the dtype and inputs-unchanged groups."""
        if seed is None:
            return self.hidden()
        rng = np.random.default_rng([seed, 1])  # a stream of its own, beside hidden(seed)'s
        again = [Case("the worked example's shapes, other numbers", _redrawn(case.args, rng),
                      {key: _redrawn(value, rng) for key, value in case.kwargs.items()}, WORKED_EXAMPLE)
                 for case in self.visible() if self.group_of(case) == WORKED_EXAMPLE]
        return again + self.hidden(seed)

    def group_of(self, case: Case) -> str:
        """The group ``case``'s values count for: its own ``group`` if set, else ``classify``'s."""
        return case.group or self.classify(case)
    outputs: tuple[str, ...] = ()
    outputs_are: str = "results"


#: Group names used by several checks (a check may add its own).
WORKED_EXAMPLE = "worked example"
BATCH_AND_CHANNELS = "batch and channels"
STRIDE_AND_PADDING = "stride and padding"
NON_SQUARE = "non-square inputs and kernels"
DTYPE = "dtype"
INPUT_UNCHANGED = "input left unchanged"
#: The groups that are properties of every right answer rather than kinds of case.
PROPERTY_GROUPS = (DTYPE, INPUT_UNCHANGED)


def _redrawn(value, rng: np.random.Generator):
    """``value`` with other numbers of the same kind: an array of the same shape and dtype, a
    float; integers (sizes, strides, padding) and everything else stay as they are."""
    if isinstance(value, tuple):
        return tuple(_redrawn(item, rng) for item in value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return rng.standard_normal(value.shape).astype(value.dtype)
        if value.dtype.kind in "iu":
            return rng.integers(0 if value.dtype.kind == "u" else -5, 6, value.shape).astype(value.dtype)
        return value.copy()
    if isinstance(value, float):
        return float(rng.standard_normal())
    return value


def describe(value) -> str:
    """Arrays as ``float64 array (2, 3, 5, 5)``, everything else as its repr."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array {value.shape}"
    return repr(value)


def check_label(hidden: bool) -> str:
    """What the passing line calls the cases: ``"checks"`` or ``"hidden checks"``."""
    return "hidden checks" if hidden else "checks"
