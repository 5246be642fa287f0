"""Is an answer right, and if not, what is wrong and what is probably the mistake?

:func:`judge_answer` compares one answer with the spec's right answer (computed with
:mod:`course_utils.reference`) and writes the message a student reads: the case, the call, what
is wrong (type, shape, values with the first differing index, expected and got and the relative
error, dtype, an input modified in place) and, when the wrong answer is exactly what a known
:class:`~course_utils.grading.specs.Mistake` produces, what is probably wrong (:func:`diagnose`).
It runs where the student's code cannot reach it: in the judge process
(:mod:`course_utils.grading.judge`) and in the trusted grader.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from course_utils.gradcheck import rel_error
from course_utils.grading.specs import Case, FunctionSpec, describe


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


def _is_number(value) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def _short_repr(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


