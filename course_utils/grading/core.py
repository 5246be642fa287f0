"""The machinery every assignment check shares: cases in, named results out, clear failures.

A check is three things (see ``convolution.py`` for the pattern):

* a :class:`FunctionSpec`: the function's name, how to compute the right answer with
  :mod:`course_utils.reference`, and the :class:`Mistake` s students typically make;
* a list of :class:`Case` s: named settings (the arguments to call the function with);
* :func:`run_check`, which calls the student's function on every case (guarded against
  delegating to a library, :mod:`course_utils.grading.delegation`), compares with the right
  answer and stops at the first failure with :class:`CheckFailed`.

A failure message says which case, how the function was called, what is wrong (type, shape,
values with the first differing index, expected and got and the relative error, dtype, or an
input modified in place) and, when the wrong answer is exactly what a known mistake produces,
what is probably wrong. An exception raised by the student's own code is never caught for
good: it propagates unchanged, with a note saying which case was running.

Pass or fail is decided outside the student's kernel. :func:`run_check` only *calls* the
student's function in the kernel; the inputs, the answers and the inputs after the call go, in
one request per check, to a separate clean ``python -I -m course_utils.grading.judge`` process
(:mod:`course_utils.grading.judge`), which finds the same :class:`FunctionSpec`, recomputes
the right answers with :mod:`course_utils.reference` and compares, so a submission that patches
``numpy.allclose``, ``numpy.testing`` or a builtin cannot make a wrong answer pass. The messages
are the same as before: the judge runs :func:`judge_answer` and :func:`diagnose`.

Warnings raised by the student's code while it is checked (a numpy ``RuntimeWarning``, a
``DeprecationWarning`` for ``np.product``) are caught and shown on standard output after the
result: nbgrader scores a test cell 0 when anything is written to standard error, and a warning
alone must not cost a right answer its points.
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from course_utils.grading import delegation, judge


class CheckFailed(AssertionError):
    """A student's function gave a wrong answer; the message says where and probably why."""


@dataclass(frozen=True)
class Case:
    """One setting to call the student's function with, and a name a student can read."""

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)

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
    """What a student's function must do: its name, the right answer, the usual mistakes.

    ``returns``: ``"array"`` (an ndarray with the reference's shape and dtype), ``"int"`` or
    ``"number"`` (one real number).
    """

    name: str
    reference: Callable[..., Any]
    mistakes: Sequence[Mistake] = ()
    returns: str = "array"

    def __post_init__(self):
        # Where the judge process finds this spec again: the defining module, and the spec's
        # position among that module's specs of the same name (define specs at module level).
        home = sys._getframe(2).f_globals.get("__name__", "")
        same_name = SPECS.setdefault((home, self.name), [])
        object.__setattr__(self, "address", (home, self.name, len(same_name)))
        same_name.append(self)


#: (module, function name) -> the FunctionSpecs defined there, in order; the judge looks them up.
SPECS: dict[tuple[str, str], list[FunctionSpec]] = {}


@dataclass
class Report:
    """What :func:`run_check` ran: the function and the names of the cases it passed."""

    function: str
    passed: list[str]
    label: str = "checks"

    def __str__(self) -> str:
        named = [name for name in self.passed if not name.startswith("random case")]
        randoms = len(self.passed) - len(named)
        names = "; ".join(named + ([f"{randoms} random cases"] if randoms else []))
        return f"{self.function}: all {len(self.passed)} {self.label} passed ({names})"


# --- numbers ---------------------------------------------------------------------------------

def rel_error(expected, got) -> float:
    """Largest relative error over all entries, ``|e - g| / max(1e-8, |e| + |g|)`` (CS231n).

    Scale-free: about 1e-16 for float64 round-off, 1e-7 for float32, 1 or more for a bug.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if expected.size == 0:
        return 0.0
    return float(np.max(np.abs(expected - got) / np.maximum(1e-8, np.abs(expected) + np.abs(got))))


def tolerance(dtype) -> float:
    """Relative tolerance for results of ``dtype``: float32 sums round far more than float64."""
    return 1e-4 if np.dtype(dtype) == np.float32 else 1e-7


def values_match(expected, got) -> bool:
    """Same shape and equal up to round-off (tolerance scaled to the size of the values)."""
    expected = np.asarray(expected)
    got = np.asarray(got)
    if expected.shape != got.shape:
        return False
    if got.dtype.kind not in "biuf":
        return False
    rtol = tolerance(expected.dtype if expected.dtype.kind == "f" else np.float64)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    return bool(np.allclose(got, expected, rtol=rtol, atol=rtol * scale, equal_nan=True))


def describe(value) -> str:
    """Arrays as ``float64 (2, 3, 5, 5)``, everything else as its repr."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array {value.shape}"
    return repr(value)


def _number(value) -> str:
    return f"{value:.6g}" if isinstance(value, (float, np.floating)) else repr(value)


def first_difference(expected: np.ndarray, got: np.ndarray) -> str:
    """``first difference at index (0, 1, 2, 0): expected 1.5, got -0.25`` (same shapes)."""
    rtol = tolerance(expected.dtype if expected.dtype.kind == "f" else np.float64)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    close = np.isclose(got, expected, rtol=rtol, atol=rtol * scale, equal_nan=True)
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    return (
        f"first difference at index {index}: expected {_number(expected[index].item())}, "
        f"got {_number(got[index].item())}"
    )


# --- running a check -------------------------------------------------------------------------

def run_check(function, spec: FunctionSpec, cases: Sequence[Case], label: str = "checks") -> Report:
    """Run ``function`` on every case; raise :class:`CheckFailed` at the first wrong answer.

    The answers are judged by a separate clean process (:mod:`course_utils.grading.judge`).
    An exception from the student's code is raised unchanged once the cases before it are
    judged right. Prints one line when everything passed and returns the :class:`Report`.
    """
    __tracebackhide__ = True  # IPython: show the student's frames, not ours
    if not callable(function):
        raise CheckFailed(f"{spec.name}: expected your function, got {describe(function)}")
    delegation.check_source(function, spec.name)
    answers, raised, warned = [], None, []
    for case in cases:
        try:
            got, (args, kwargs) = call_guarded(function, spec, case, warned)
        except Exception as error:  # judge the cases before it first: they come first
            raised = error
            break
        answers.append((case, got, args, kwargs))
    verdict = judge.decide(spec, answers)
    note = warnings_note(spec.name, warned)
    if verdict["failure"] is not None:
        raise CheckFailed(verdict["failure"] + (f"\n\n{note}" if note else "")) from raised
    if raised is not None:
        if note:
            raised.add_note(f"[grading] {note}")
        raise raised
    report = Report(spec.name, list(verdict["passed"]), label)
    print(f"\N{CHECK MARK} {report}")
    if note:
        print(note)
    return report


def warnings_note(function_name: str, warned: list[tuple[str, warnings.WarningMessage]], shown: int = 3) -> str:
    """What the student's code warned while it was checked, each distinct warning once with the
    first case that raised it; ``""`` if nothing warned."""
    first: dict[tuple[str, str], str] = {}
    for case_name, caught in warned:
        first.setdefault((caught.category.__name__, str(caught.message)), case_name)
    if not first:
        return ""
    lines = [f"Note: {function_name} raised {len(first)} warning{'s' if len(first) > 1 else ''} while it was "
             "checked (shown here, not on stderr: a warning alone costs no points, but read it):"]
    lines += [f"  {category}: {message} (first in case '{case_name}')"
              for (category, message), case_name in list(first.items())[:shown]]
    if len(first) > shown:
        lines.append(f"  ... and {len(first) - shown} more")
    return "\n".join(lines)


def call_guarded(function, spec: FunctionSpec, case: Case, warned: list | None = None):
    """Call ``function`` on copies of the case's arguments, with delegation tripwires set.

    Returns ``(result, argument copies after the call)``. An exception from the student's code
    propagates unchanged, with a note naming the case and the call. Warnings the call raises
    are caught (never printed) and appended to ``warned`` as ``(case name, WarningMessage)``.
    """
    __tracebackhide__ = True
    args = tuple(_copy(value) for value in case.args)
    kwargs = {key: _copy(value) for key, value in case.kwargs.items()}
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # also a warning this kernel has shown before
            with delegation.tripwires(spec.name):
                result = function(*args, **kwargs)
    except delegation.DelegationError:
        raise
    except Exception as error:
        error.add_note(f"[grading] while checking {spec.name}, case '{case.name}':")
        error.add_note(f"[grading]   {case.call_text(spec.name)}")
        hint = _hint_for_exception(error, spec.name)
        if hint:
            error.add_note(f"[grading] {hint}")
        raise
    finally:
        if warned is not None:
            warned.extend((case.name, caught_warning) for caught_warning in caught)
    return result, (args, kwargs)


def failure(function, spec: FunctionSpec, case: Case) -> str | None:
    """The failure message for ``function`` on ``case``, or ``None`` if its answer is right
    (judged in this process: for tests of the grading code, not for students' notebooks)."""
    __tracebackhide__ = True
    got, (args, kwargs) = call_guarded(function, spec, case)
    return judge_answer(spec, case, got, args, kwargs)


def judge_answer(spec: FunctionSpec, case: Case, got, args, kwargs) -> str | None:
    """The failure message for the answer ``got`` to ``case`` (``args``, ``kwargs``: the input
    copies after the call), or ``None`` if it is right. Runs in the judge process."""
    expected = spec.reference(*case.args, **case.kwargs)
    if spec.returns == "number" and isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]  # a 0-d array (np.tensordot's answer) is one number too
    # A changed input is reported first: it is always a bug, and it often spoils the values too.
    problem = _modified_inputs(case, args, kwargs) or _compare(spec, expected, got)
    if problem is None:
        return None
    what, details = problem
    lines = [
        f"{spec.name} failed the check '{case.name}': {what}.",
        f"  called: {case.call_text(spec.name)}",
        *(f"  {line}" for line in details),
    ]
    diagnosis = diagnose(spec, case, got) if what in ("wrong shape", "wrong values") else None
    if diagnosis:
        lines.append(f"  {diagnosis}")
    return "\n".join(lines)


def diagnose(spec: FunctionSpec, case: Case, got) -> str | None:
    """What is probably wrong: the hints of the known mistakes whose answer ``got`` equals
    (``Possibly:`` one whose answer has ``got``'s shape, if none does), else ``None``."""
    exact: list[str] = []
    shape_only = None
    for mistake in spec.mistakes:
        wrong = mistake.answer(case)
        if wrong is None or mistake.hint in exact:
            continue
        if spec.returns == "array":
            if isinstance(got, np.ndarray) and values_match(wrong, got):
                exact.append(mistake.hint)
            elif shape_only is None and np.shape(got) == np.shape(wrong):
                shape_only = mistake.hint
        elif _is_number(got) and math.isclose(float(got), float(wrong), rel_tol=1e-6, abs_tol=1e-9):
            exact.append(mistake.hint)
    if len(exact) == 1:
        return f"Probably: {exact[0]}"
    if exact:  # one wrong number can come from several mistakes
        return "Probably one of these:" + "".join(f"\n    - {hint}" for hint in exact)
    return f"Possibly: {shape_only}" if shape_only else None


def _compare(spec: FunctionSpec, expected, got) -> tuple[str, list[str]] | None:
    """``(what is wrong, detail lines)`` or ``None`` when ``got`` is right."""
    if spec.returns == "int":
        if not (isinstance(got, numbers.Integral) and not isinstance(got, bool)):
            hint = ["use integer division // so the result is a whole number"] if _is_number(got) else []
            return "wrong type", [f"expected an int, got {got!r} ({type(got).__name__})", *hint]
        if got != expected:
            return "wrong values", [f"expected {expected}, got {got}"]
        return None
    if spec.returns == "number":
        if not _is_number(got):
            shape = f" of shape {got.shape}" if isinstance(got, np.ndarray) else ""
            return "wrong type", [
                f"expected one number, got {type(got).__name__}{shape}: {_short_repr(got)}",
                "return a single number, e.g. float(np.sum(...))",
            ]
        error = rel_error(expected, got)
        if not math.isclose(float(got), float(expected), rel_tol=1e-6, abs_tol=1e-9):
            return "wrong values", [
                f"expected {_number(expected)}, got {_number(got)}",
                f"relative error {error:.1e} (a right answer is below 1e-06)",
            ]
        return None
    if not isinstance(got, np.ndarray):
        return "wrong type", [f"expected a numpy array, got {type(got).__name__}: {_short_repr(got)}"]
    if got.shape != expected.shape:
        return "wrong shape", [f"expected shape {expected.shape}, got {got.shape}"]
    if got.dtype.kind not in "biuf":
        return "wrong dtype", [f"expected {expected.dtype}, got {got.dtype}"]
    if not values_match(expected, got):
        return "wrong values", [
            first_difference(expected, got),
            f"relative error {rel_error(expected, got):.1e} (max over all entries; "
            f"a right answer is below {tolerance(expected.dtype):.0e})",
        ]
    if got.dtype != expected.dtype:
        return "wrong dtype", [
            f"expected {expected.dtype} (the dtype of the input), got {got.dtype}",
            "create the output with the input's dtype, e.g. np.zeros(shape, dtype=x.dtype)",
        ]
    return None


def _modified_inputs(case: Case, args, kwargs) -> tuple[str, list[str]] | None:
    """Did the student's function change an input array in place?"""
    named = [(f"argument {i + 1}", original, copy) for i, (original, copy) in enumerate(zip(case.args, args))]
    named += [(key, case.kwargs[key], kwargs[key]) for key in case.kwargs]
    for name, original, after in named:
        if isinstance(original, np.ndarray) and not (
            isinstance(after, np.ndarray) and after.shape == original.shape
            and np.array_equal(after, original, equal_nan=True)
        ):
            where = ""
            if isinstance(after, np.ndarray) and after.shape == original.shape:
                index = tuple(int(i) for i in np.argwhere(~((after == original) | (np.isnan(after) & np.isnan(original))))[0])
                where = f": at index {index} it was {_number(original[index])}, now {_number(after[index])}"
            return "modified its input in place", [
                f"{name} ({describe(original)}) was changed by the call{where}",
                "never write into an input array: work on a new array (np.zeros, x.copy(), np.where)",
            ]
    return None


def _hint_for_exception(error: Exception, function_name: str) -> str | None:
    if isinstance(error, NotImplementedError):
        return f"{function_name} is not written yet: replace `raise NotImplementedError()` with your code."
    text = str(error)
    if isinstance(error, ValueError) and "broadcast" in text:
        return ("Two arrays of different shapes met: often a window one pixel too small or too "
                "large (check the slice bounds, e.g. start : start + size).")
    if isinstance(error, ValueError) and "zero-size array" in text:
        return ("A window came out empty: the output has more positions than windows that fit "
                "(check H_out = (H + 2p - size) // stride + 1 and where each window starts).")
    if isinstance(error, TypeError) and "NoneType" in text:
        return ("None reached an arithmetic operation: an optional argument such as stride=None "
                "needs its default filled in first (stride = size when it is None).")
    return None


def _is_number(value) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def _short_repr(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value
