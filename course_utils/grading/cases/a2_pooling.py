"""The cases of assignment 2, ``a2_pooling``: ``relu``, ``max_pool2d`` and ``avg_pool2d``.

Same pattern as :mod:`course_utils.grading.cases.a1_convolution`: per function a spec (answers
from :mod:`course_utils.reference`, typical mistakes known by the wrong answers they give), the
visible cases and the hidden ones (edge cases and random cases).
"""

from __future__ import annotations

import numpy as np

from course_utils import reference
from course_utils.grading.cases.arrays import normal_array as _array
from course_utils.grading.cases.groups import NON_SQUARE_INPUTS, STRIDE_AND_OVERLAP, pool_group
from course_utils.grading.specs import (
    BATCH_AND_CHANNELS,
    DTYPE,
    INPUT_UNCHANGED,
    WORKED_EXAMPLE,
    Case,
    Check,
    FunctionSpec,
    Mistake,
)

ASSIGNMENT = "a2_pooling"

RANDOM_CASES = 40


# --- relu(x) ---------------------------------------------------------------------------------

RELU = FunctionSpec(
    id=f"{ASSIGNMENT}/relu",
    name="relu",
    reference=reference.relu,
    mistakes=(
        Mistake("you returned the mask x > 0 (ones and zeros), not the values: "
                "keep x where it is positive, 0 elsewhere.",
                lambda c: (c.args[0] > 0).astype(c.args[0].dtype)),
        Mistake("you zeroed the positive values and kept the negative ones; relu keeps the positives.",
                lambda c: np.minimum(c.args[0], 0)),
        Mistake("you took the absolute value; relu sets negative values to 0.",
                lambda c: np.abs(c.args[0])),
    ),
)


ANY_SHAPE = "any shape"
RELU_GROUPS = (WORKED_EXAMPLE, ANY_SHAPE, DTYPE, INPUT_UNCHANGED)


def _relu_visible() -> list[Case]:
    rng = np.random.default_rng(7)
    return [
        Case("worked numbers [-2, -0.5, 0, 0.5, 2]", (np.array([-2.0, -0.5, 0.0, 0.5, 2.0]),),
             group=WORKED_EXAMPLE),
        Case("a 3x4 matrix", (_array(rng, (3, 4)),)),
        Case("a batch (2, 3, 4, 4)", (_array(rng, (2, 3, 4, 4)),)),
        Case("float32 stays float32", (_array(rng, (2, 5), np.float32),)),
    ]


def _relu_hidden(seed: int = 8) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = [
        Case("float32 stays float32", (_array(rng, (2, 3, 5, 5), np.float32),)),
        Case("all negative", (-np.abs(_array(rng, (4, 4))) - 0.1,)),
        Case("all positive", (np.abs(_array(rng, (4, 4))) + 0.1,)),
    ]
    for index in range(RANDOM_CASES // 4):
        shape = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 5))))
        dtype = np.float32 if index % 3 == 0 else np.float64
        cases.append(Case(f"random case {index + 1}", (_array(rng, shape, dtype),)))
    return cases



# --- max_pool2d(x, size, stride=None) and avg_pool2d(x, size, stride=None) ---------------------


def _pool_args(case: Case):
    x, size = case.args[:2]
    stride = case.args[2] if len(case.args) > 2 else case.kwargs.get("stride")
    return x, size, (size if stride is None else stride)


def _pool_mistake(hint: str, formula) -> Mistake:
    """A mistake given by what it computes, ``formula(x, size, stride)`` (stride resolved)."""
    return Mistake(hint, lambda case: formula(*_pool_args(case)))


def _stride_mistakes(pool) -> tuple[Mistake, ...]:
    def forgot(x, size, stride, crop):
        if stride == 1:
            return None
        out = pool(x, size, 1)
        return out[..., : pool(x, size, stride).shape[-2], : pool(x, size, stride).shape[-1]] if crop else out

    def one_short(x, size, stride):
        out = pool(x, size, stride)
        return out[..., :-1, :-1] if min(out.shape[-2:]) > 1 else None

    return (
        _pool_mistake("you forgot the stride (or stride=None became 1): the windows move stride "
                      "pixels at a time, and stride=None means stride = size.",
                      lambda x, size, stride: forgot(x, size, stride, crop=False)),
        _pool_mistake("you forgot the stride when placing the window: the window for output "
                      "(y, x) starts at (y * stride, x * stride).",
                      lambda x, size, stride: forgot(x, size, stride, crop=True)),
        _pool_mistake("the output is one row and one column short (off by one): "
                      "H_out = (H - size) // stride + 1.", one_short),
    )


MAX_POOL2D = FunctionSpec(
    id=f"{ASSIGNMENT}/max_pool2d",
    name="max_pool2d",
    reference=reference.max_pool2d,
    mistakes=(
        *_stride_mistakes(reference.max_pool2d),
        _pool_mistake("you took the average; max pooling keeps the LARGEST value of each window.",
                      lambda x, size, stride: reference.avg_pool2d(x, size, stride)),
        _pool_mistake("you took the minimum; max pooling keeps the largest value of each window.",
                      lambda x, size, stride: -reference.max_pool2d(-x, size, stride)),
        _pool_mistake("you took the max over the channels too; pool each channel on its own "
                      "(the max runs over the window's H and W only).",
                      lambda x, size, stride: np.broadcast_to(
                          reference.max_pool2d(x, size, stride).max(axis=1, keepdims=True),
                          reference.max_pool2d(x, size, stride).shape) if x.shape[1] > 1 else None),
    ),
)

AVG_POOL2D = FunctionSpec(
    id=f"{ASSIGNMENT}/avg_pool2d",
    name="avg_pool2d",
    reference=reference.avg_pool2d,
    mistakes=(
        *_stride_mistakes(reference.avg_pool2d),
        _pool_mistake("you took the max; average pooling takes the MEAN of each window.",
                      lambda x, size, stride: reference.max_pool2d(x, size, stride)),
        _pool_mistake("you summed without dividing: the average divides the window's sum by "
                      "size * size.",
                      lambda x, size, stride: reference.avg_pool2d(x, size, stride) * size * size
                      if size > 1 else None),
        _pool_mistake("you divided by size, not by the number of values in the window (size * size).",
                      lambda x, size, stride: reference.avg_pool2d(x, size, stride) * size
                      if size > 1 else None),
    ),
)


def _pool_case(name, rng, shape, size, stride=None, dtype=np.float64, keyword=True):
    x = _array(rng, shape, dtype)
    if stride is None:
        return Case(name, (x, size))
    return Case(name, (x, size), {"stride": stride}) if keyword else Case(name, (x, size, stride))


def _pool_visible() -> list[Case]:
    rng = np.random.default_rng(9)
    worked = np.array([[1.0, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])[None, None]
    return [
        Case("worked example (4x4, size 2)", (worked, 2), group=WORKED_EXAMPLE),
        _pool_case("2 images, 3 channels, size 2 (non-square 4x6)", rng, (2, 3, 4, 6), 2),
        _pool_case("overlapping windows: size 3, stride 1", rng, (1, 2, 5, 5), 3, stride=1),
        _pool_case("size 3, stride 2", rng, (2, 1, 7, 7), 3, stride=2, keyword=False),
        _pool_case("a batch of 3, 2 channels, size 2", rng, (3, 2, 4, 4), 2),
        _pool_case("float32 stays float32", rng, (1, 2, 4, 4), 2, dtype=np.float32),
    ]


def _pool_hidden(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = [
        _pool_case("size 1 changes nothing", rng, (2, 2, 3, 3), 1),
        _pool_case("window as large as the input", rng, (2, 3, 5, 5), 5),
        _pool_case("stride larger than the window", rng, (1, 2, 9, 9), 2, stride=3),
        _pool_case("non-square input", rng, (2, 2, 4, 9), 2),
        _pool_case("size that does not divide the input", rng, (1, 3, 7, 5), 2),
        _pool_case("float32 stays float32", rng, (2, 3, 6, 6), 2, dtype=np.float32),
        _pool_case("a larger input (32x32, 8 channels)", rng, (2, 8, 32, 32), 2),
    ]
    for index in range(RANDOM_CASES):
        size = int(rng.integers(1, 5))
        stride = None if index % 4 == 0 else int(rng.integers(1, 5))
        h, w = (int(v) for v in rng.integers(size, 11, size=2))
        n, c = (int(v) for v in rng.integers(1, 4, size=2))
        dtype = np.float32 if index % 3 == 0 else np.float64
        cases.append(_pool_case(f"random case {index + 1}", rng, (n, c, h, w), size, stride, dtype))
    return cases


POOL_GROUPS = (WORKED_EXAMPLE, BATCH_AND_CHANNELS, STRIDE_AND_OVERLAP, NON_SQUARE_INPUTS, DTYPE,
               INPUT_UNCHANGED)


def _pool_group(case: Case) -> str:
    return pool_group(*_pool_args(case))


CHECKS = (
    Check(ASSIGNMENT, "relu", (RELU,), _relu_visible, _relu_hidden, RELU_GROUPS, lambda case: ANY_SHAPE),
    Check(ASSIGNMENT, "max_pool2d", (MAX_POOL2D,), _pool_visible, lambda seed=10: _pool_hidden(seed),
          POOL_GROUPS, _pool_group),
    Check(ASSIGNMENT, "avg_pool2d", (AVG_POOL2D,), _pool_visible, lambda seed=11: _pool_hidden(seed),
          POOL_GROUPS, _pool_group),
)
