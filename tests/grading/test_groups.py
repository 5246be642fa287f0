"""Partial credit by named groups of checks, and no surprise kinds in the hidden checks.

* Every kind of case a hidden check holds has a visible case too: a student whose visible checks
  pass can fail a hidden one only on more of the same (random sizes, more settings).
* One slip costs one group: float64 out for float32 in, ``W_out`` computed with ``KH``.
* An answer that is never right earns nothing for its dtype or for leaving its inputs alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import reference
from course_utils.grading.cases import CHECKS
from course_utils.grading.compare import judge_case
from course_utils.grading.scoring import score
from course_utils.grading.specs import DTYPE, INPUT_UNCHANGED, PROPERTY_GROUPS


def kinds(check, cases) -> set[str]:
    """The groups ``cases`` can fail: each case's own, plus the property groups they exercise."""
    found = {check.group_of(case) for case in cases}
    arrays = [value for case in cases for value in (*case.args, *case.kwargs.values())
              if isinstance(value, np.ndarray)]
    if DTYPE in check.groups and any(array.dtype == np.float32 for array in arrays):
        found.add(DTYPE)
    if INPUT_UNCHANGED in check.groups and arrays:
        found.add(INPUT_UNCHANGED)
    return found


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_kind_of_hidden_case_has_a_visible_case(name):
    check = CHECKS[name]
    hidden, visible = kinds(check, check.hidden()), kinds(check, check.visible())
    assert hidden <= visible, f"{name}: hidden cases of kinds {sorted(hidden - visible)} have no visible case"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_group_is_exercised_by_the_visible_cases_and_each_case_has_a_known_group(name):
    check = CHECKS[name]
    assert check.groups and len(set(check.groups)) == len(check.groups)
    for case in check.visible() + check.hidden():
        assert check.group_of(case) in check.groups and check.group_of(case) not in PROPERTY_GROUPS, case.name
    assert kinds(check, check.visible()) == set(check.groups), name


def verdict_of(name, function):
    """The verdict on ``function`` over the visible and hidden cases, judged in this process."""
    check = CHECKS[name]
    cases = check.visible() + check.hidden()
    judged = []
    for index, spec in enumerate(check.specs):
        pairs = []
        for case in cases:
            args = tuple(v.copy() if isinstance(v, np.ndarray) else v for v in case.args)
            kwargs = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in case.kwargs.items()}
            got = function(*args, **kwargs)
            got = got[index] if check.outputs else got
            pairs.append((case, judge_case(spec, case, got, args, kwargs)))
        judged.append(pairs)
    return score(check, judged)


def loop_conv2d(x, w, b, stride=1, padding=0, dtype=None, width_from_kh=False):
    """A naive four-loop conv2d, right except for what the flags say."""
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - (kh if width_from_kh else kw)) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((n, f, h_out, w_out), dtype=dtype or x.dtype)
    for i in range(n):
        for j in range(f):
            for y in range(h_out):
                for z in range(w_out):
                    window = xp[i, :, y * stride:y * stride + kh, z * stride:z * stride + kw]
                    if window.shape[-1] != kw:  # the KH bug runs past the edge: a short window
                        return out
                    out[i, j, y, z] = np.sum(window * w[j]) + b[j]
    return out


def test_a_right_answer_passes_every_group():
    verdict = verdict_of("conv2d", loop_conv2d)
    assert verdict.fraction == 1.0 and verdict.first_failure is None


def test_a_correct_loop_conv2d_that_returns_float64_keeps_five_sixths():
    verdict = verdict_of("conv2d", lambda *args, **kwargs: loop_conv2d(*args, **kwargs, dtype=np.float64))
    assert verdict.failed_groups() == [DTYPE]
    assert verdict.fraction == pytest.approx(5 / 6) and verdict.fraction >= 0.75


def test_w_out_computed_with_kh_costs_only_the_non_square_group():
    verdict = verdict_of("conv2d", lambda *args, **kwargs: loop_conv2d(*args, **kwargs, width_from_kh=True))
    assert verdict.failed_groups() == ["non-square inputs and kernels"]
    assert verdict.fraction == pytest.approx(5 / 6)


def test_writing_into_the_input_costs_only_that_group():
    def relu(x):
        np.maximum(x, 0, out=x)
        return x.copy()

    verdict = verdict_of("relu", relu)
    assert verdict.failed_groups() == [INPUT_UNCHANGED]
    assert "modified its input in place" in " ".join(verdict.first_failure.split())


@pytest.mark.parametrize("name, answer", [
    ("relu", lambda x: np.zeros_like(x)),
    ("conv2d", lambda x, w, b, stride=1, padding=0: np.zeros(
        reference.conv2d(x, w, b, stride=stride, padding=padding).shape, x.dtype)),
])
def test_an_answer_that_is_never_right_earns_nothing_for_dtype_or_inputs(name, answer):
    verdict = verdict_of(name, answer)
    assert verdict.fraction == 0.0, verdict.failed_groups()


def test_a_wrong_db_costs_a_third_of_conv2d_backward_not_all():
    def conv2d_backward(dout, x, w, b, stride=1, padding=0):
        dx, dw, db = reference.conv2d_backward(dout, x, w, stride=stride, padding=padding)
        return dx, dw, dout.mean(axis=(0, 2, 3)).astype(dout.dtype)  # a mean, not a sum

    verdict = verdict_of("conv2d_backward", conv2d_backward)
    assert verdict.fraction == pytest.approx(2 / 3)
    assert all(group.startswith("db: ") for group in verdict.failed_groups())
