"""Is an answer right, and if not, what is wrong and what is probably the mistake?

:func:`judge_case` compares one answer with the spec's right answer (computed with
:mod:`course_utils.reference`) three ways -- the values (type, shape, numbers), the dtype, the
inputs left unchanged -- and writes the message a student reads: the case, what is wrong, what
is probably wrong when the wrong answer is exactly what a known
:class:`~course_utils.grading.specs.Mistake` produces (:func:`diagnose`; shown first, right under
the headline), the call, and the details (the first differing index, expected and got, the
relative error). No line is longer than :data:`WIDTH`.
It runs where the student's code cannot reach it: in the judge process
(:mod:`course_utils.grading.judge`) and in the trusted grader.
"""

from __future__ import annotations

import math
import numbers
import textwrap
from dataclasses import dataclass

import numpy as np

from course_utils.gradcheck import rel_error
from course_utils.grading.specs import Case, FunctionSpec, describe

#: The longest line of a message: nbgrader's validate cuts longer ones (at 87 characters).
WIDTH = 80


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


@dataclass(frozen=True)
class Judgment:
    """One answer, judged three ways, and what the student reads about it.

    ``values_right``: the type, shape and values are right (the dtype aside);
    ``dtype_right``: the array has the reference's dtype (``None`` where that is not judged:
    the values are wrong, or the function returns a number); ``input_unchanged``: no input
    array was changed by the call; ``message``: the first problem, or ``None`` if all is right.
    """

    case: str
    values_right: bool
    dtype_right: bool | None
    input_unchanged: bool
    message: str | None

    @property
    def right(self) -> bool:
        return self.message is None

    def as_dict(self) -> dict:
        return {"case": self.case, "values_right": self.values_right, "dtype_right": self.dtype_right,
                "input_unchanged": self.input_unchanged, "message": self.message}


def failed(case: Case, message: str) -> Judgment:
    """The judgment of a case that gave no answer (an exception, a timeout): ``message`` says why."""
    return Judgment(case.name, False, None, True, message)


def judge_case(spec: FunctionSpec, case: Case, got, args, kwargs) -> Judgment:
    """Judge the answer ``got`` to ``case`` (``args``, ``kwargs``: the input copies after the
    call) against ``spec``'s right answer. Runs where the student's code cannot reach it."""
    expected = spec.reference(*case.args, **case.kwargs)
    if spec.returns == "number" and isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]  # a 0-d array (np.tensordot's answer) is one number too
    changed = _modified_inputs(case, args, kwargs)
    values = _compare_values(spec, expected, got, case)
    dtype = _compare_dtype(spec, expected, got) if values is None else None
    dtype_right = None if values is not None or spec.returns != "array" else dtype is None
    # A changed input is reported first: it is always a bug, and it often spoils the values too.
    problem = changed or values or dtype
    message = None
    if problem is not None:
        what, details = problem
        diagnosis = diagnose(spec, case, got) if what in ("wrong shape", "wrong values") else None
        message = wrap_lines([
            f"{spec.name} failed the check '{case.name}': {what}.",
            *([f"  {diagnosis}"] if diagnosis else []),
            f"  called: {case.call_text(spec.name)}",
            *(f"  {line}" for line in details),
        ])
    return Judgment(case.name, values is None, dtype_right, changed is None, message)


def judge_answer(spec: FunctionSpec, case: Case, got, args, kwargs) -> str | None:
    """The failure message for the answer ``got`` to ``case``, or ``None`` if it is right."""
    return judge_case(spec, case, got, args, kwargs).message


def wrap_lines(lines: list[str], width: int = WIDTH) -> str:
    """``lines`` joined; a line longer than ``width`` is wrapped, its continuation indented four
    more spaces: nbgrader's validate cuts lines at 87 characters, so none may be longer."""
    out = []
    for line in lines:
        for part in line.split("\n"):
            if len(part) <= width:
                out.append(part)
                continue
            indent = " " * (len(part) - len(part.lstrip(" ")))
            out.extend(textwrap.wrap(part.strip(), width, initial_indent=indent,
                                     subsequent_indent=indent + "    ", break_on_hyphens=False))
    return "\n".join(out)


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


def number_tolerance(case: Case) -> tuple[float, float]:
    """(relative, absolute) tolerance for one number computed from ``case``'s inputs: float32
    inputs summed in another order than the reference's round differently (a sum near zero of
    float32 products differs by ~1e-6 from it, a large relative error), so they get float32's
    tolerance, relative to the number and at least 1e-4 absolute."""
    inputs = (*case.args, *case.kwargs.values())
    if any(isinstance(value, np.ndarray) and value.dtype == np.float32 for value in inputs):
        return tolerance(np.float32), tolerance(np.float32)
    return 1e-6, 1e-9


def _compare_values(spec: FunctionSpec, expected, got, case: Case) -> tuple[str, list[str]] | None:
    """``(what is wrong, detail lines)`` about the type, shape or values, or ``None`` when right
    (the dtype is judged by :func:`_compare_dtype`); ``case``: where the inputs are (a number's
    tolerance depends on their dtype)."""
    if spec.returns == "int":
        if not (isinstance(got, numbers.Integral) and not isinstance(got, bool)):
            hint = ["use integer division // so the result is a whole number"] if _is_number(got) else []
            return "wrong type", [f"expected an int, got {_short_repr(got)} ({type(got).__name__})", *hint]
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
        relative, absolute = number_tolerance(case)
        if not math.isclose(float(got), float(expected), rel_tol=relative, abs_tol=absolute):
            return "wrong values", [
                f"expected {_number(expected)}, got {_number(got)}",
                f"relative error {error:.1e} (a right answer is below {relative:.0e})",
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
    return None


def _compare_dtype(spec: FunctionSpec, expected, got) -> tuple[str, list[str]] | None:
    """For an array with the right values: ``("wrong dtype", details)`` unless it has the
    reference's dtype."""
    if spec.returns != "array" or got.dtype == expected.dtype:
        return None
    return "wrong dtype", [
        f"expected {expected.dtype} (the dtype of the input), got {got.dtype}",
        "create the output with the input's dtype, e.g. np.zeros(shape, dtype=x.dtype)",
    ]


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


