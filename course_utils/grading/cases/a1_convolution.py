"""The cases of assignment 1, ``a1_convolution``: ``output_size``, ``zero_pad``,
``conv_single_step`` and ``conv2d``.

Per function: a :class:`~course_utils.grading.specs.FunctionSpec` (right answer from
:mod:`course_utils.reference`, each typical mistake described by the wrong answer it produces,
so a failure can say what is probably wrong), the visible cases (the few a student sees in the
test cell) and the hidden ones (edge cases and many random cases the grader adds).
"""

from __future__ import annotations

import math

import numpy as np

from course_utils import images, kernels, reference
from course_utils.grading.cases.arrays import normal_array as _array
from course_utils.grading.cases.groups import conv_group
from course_utils.grading.specs import (
    BATCH_AND_CHANNELS,
    DTYPE,
    INPUT_UNCHANGED,
    NON_SQUARE,
    STRIDE_AND_PADDING,
    WORKED_EXAMPLE,
    Case,
    Check,
    FunctionSpec,
    Mistake,
)

ASSIGNMENT = "a1_convolution"

RANDOM_CASES = 40  # per hidden check; naive loops run them in well under a second

# --- output_size(n, f, p=0, s=1) -> int ------------------------------------------------------


def _output_size(n, f, p=0, s=1):
    return reference.output_size(n, f, padding=p, stride=s)


def _size_case(n, f, p=0, s=1, name=None):
    kwargs = {} if (p, s) == (0, 1) else {"p": p, "s": s}
    return Case(name or f"n={n}, f={f}, p={p}, s={s}", (n, f), kwargs)


def _size_args(case: Case):
    return (*case.args, case.kwargs.get("p", 0), case.kwargs.get("s", 1))


def _size_mistake(hint: str, formula) -> Mistake:
    """A mistake given by its wrong formula ``formula(n, f, p, s)`` (``None``: no difference)."""
    return Mistake(hint, lambda case: formula(*_size_args(case)))


OUTPUT_SIZE = FunctionSpec(
    id=f"{ASSIGNMENT}/output_size",
    name="output_size",
    reference=_output_size,
    returns="int",
    mistakes=(
        _size_mistake("you forgot the stride: divide (n + 2p - f) by s before adding 1.",
                      lambda n, f, p, s: n + 2 * p - f + 1 if s > 1 else None),
        _size_mistake("you forgot the padding: it adds p on both sides, so n becomes n + 2p.",
                      lambda n, f, p, s: (n - f) // s + 1 if p and n >= f else None),
        _size_mistake("you added the padding once; it goes on both sides: n + 2p.",
                      lambda n, f, p, s: (n + p - f) // s + 1 if p else None),
        _size_mistake("you forgot the + 1: the first window counts too, floor((n + 2p - f) / s) + 1.",
                      lambda n, f, p, s: (n + 2 * p - f) // s),
        _size_mistake("you rounded up; a window that would hang over the edge is dropped, "
                      "so round down with //.",
                      lambda n, f, p, s: math.ceil((n + 2 * p - f) / s) + 1),
    ),
)

NO_PADDING = "no padding, stride 1"
ROUNDING_DOWN = "a stride that does not divide evenly (round down)"
OUTPUT_SIZE_GROUPS = (NO_PADDING, STRIDE_AND_PADDING, ROUNDING_DOWN)


def _output_size_group(case: Case) -> str:
    n, f, p, s = _size_args(case)
    if (n + 2 * p - f) % s:
        return ROUNDING_DOWN
    return STRIDE_AND_PADDING if p or s > 1 else NO_PADDING


OUTPUT_SIZE_VISIBLE = [
    _size_case(5, 3, name="5x5 image, 3x3 kernel"),
    _size_case(7, 3, 1, 2, name="padding 1, stride 2"),
    _size_case(6, 3, 0, 2, name="stride that does not divide evenly"),
]


def _output_size_hidden(seed: int = 1) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = [
        _size_case(4, 1, name="1x1 kernel"),
        _size_case(6, 6, name="kernel as large as the input"),
        _size_case(9, 2, 0, 3, name="stride larger than the kernel"),
        _size_case(5, 5, 2, 1, name="padding 2"),
        _size_case(32, 5, 2, 1, name="'same' padding for a 5x5 kernel"),
        _size_case(224, 7, 3, 2, name="the first layer of ResNet"),
    ]
    for index in range(RANDOM_CASES):
        n, p, s = int(rng.integers(1, 40)), int(rng.integers(0, 4)), int(rng.integers(1, 5))
        f = int(rng.integers(1, n + 2 * p + 1))
        cases.append(_size_case(n, f, p, s, name=f"random case {index + 1}"))
    return cases



# --- zero_pad(x, pad) ------------------------------------------------------------------------


def _zero_pad(x, pad):
    return reference.pad(x, pad)


def _pad_with(case: Case, widths):
    x = case.args[0]
    return np.pad(x, widths)


ZERO_PAD = FunctionSpec(
    id=f"{ASSIGNMENT}/zero_pad",
    name="zero_pad",
    reference=_zero_pad,
    mistakes=(
        Mistake("you padded every axis, N and C too; pad only H and W: "
                "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))).",
                lambda c: _pad_with(c, c.args[1]) if c.args[1] else None),
        Mistake("you padded axes 1 and 2 (a channels-last layout); our arrays are (N, C, H, W), "
                "so pad the last two axes.",
                lambda c: _pad_with(c, ((0, 0), (c.args[1],) * 2, (c.args[1],) * 2, (0, 0)))
                if c.args[1] else None),
        Mistake("you padded one side only; zero_pad adds pad rows at the top AND the bottom "
                "(and pad columns left AND right).",
                lambda c: _pad_with(c, ((0, 0), (0, 0), (0, c.args[1]), (0, c.args[1])))
                if c.args[1] else None),
        Mistake("you padded one side only; zero_pad adds pad rows at the top AND the bottom "
                "(and pad columns left AND right).",
                lambda c: _pad_with(c, ((0, 0), (0, 0), (c.args[1], 0), (c.args[1], 0)))
                if c.args[1] else None),
        *(Mistake(f"the padding looks hard-coded to {fixed}; use the argument pad.",
                  lambda c, fixed=fixed: reference.pad(c.args[0], fixed) if c.args[1] != fixed else None)
          for fixed in (0, 1, 2)),
    ),
)


NON_SQUARE_IMAGES = "non-square images"
ZERO_PAD_GROUPS = (WORKED_EXAMPLE, BATCH_AND_CHANNELS, NON_SQUARE_IMAGES, DTYPE, INPUT_UNCHANGED)


def _zero_pad_group(case: Case) -> str:
    height, width = case.args[0].shape[2:]
    return NON_SQUARE_IMAGES if height != width else BATCH_AND_CHANNELS


def _zero_pad_visible() -> list[Case]:
    rng = np.random.default_rng(0)
    return [
        Case("one 2x2 image, pad 1", (np.arange(1.0, 5.0).reshape(1, 1, 2, 2), 1), group=WORKED_EXAMPLE),
        Case("batch of 2, 3 channels, pad 2", (_array(rng, (2, 3, 4, 5)), 2)),
        Case("pad 0 changes nothing", (_array(rng, (1, 2, 3, 3)), 0)),
        Case("float32 stays float32", (_array(rng, (2, 1, 3, 3), np.float32), 1)),
    ]


def _zero_pad_hidden(seed: int = 2) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = [
        Case("float32 stays float32", (_array(rng, (2, 2, 3, 4), np.float32), 1)),
        Case("non-square image, pad 3", (_array(rng, (1, 1, 2, 7)), 3)),
        Case("1x1 image", (_array(rng, (3, 1, 1, 1)), 2)),
    ]
    for index in range(RANDOM_CASES):
        shape = tuple(int(v) for v in rng.integers(1, 6, size=4))
        dtype = np.float32 if index % 3 == 0 else np.float64
        cases.append(Case(f"random case {index + 1}", (_array(rng, shape, dtype), int(rng.integers(0, 4)))))
    return cases



# --- conv_single_step(window, kernel, bias=0.0) -> float --------------------------------------


def _conv_single_step(window, kernel, bias=0.0):
    """One output value, by ``reference.conv2d`` on a batch of one window."""
    window, kernel = np.asarray(window), np.asarray(kernel)
    if window.ndim == 2:
        return float(reference.conv2d(window, kernel, bias)[0, 0])
    return float(reference.conv2d(window[None], kernel[None], np.array([bias]))[0, 0, 0, 0])


def _bias(case: Case) -> float:
    return case.kwargs.get("bias", case.args[2] if len(case.args) > 2 else 0.0)


CONV_SINGLE_STEP = FunctionSpec(
    id=f"{ASSIGNMENT}/conv_single_step",
    name="conv_single_step",
    reference=_conv_single_step,
    returns="number",
    mistakes=(
        Mistake("you forgot to add the bias.",
                lambda c: float(np.sum(c.args[0] * c.args[1])) if _bias(c) else None),
        Mistake("you flipped the kernel; here (as in PyTorch) the window and the kernel are "
                "multiplied entry by entry as they are, no flip.",
                lambda c: float(np.sum(c.args[0] * c.args[1][..., ::-1, ::-1]) + _bias(c))),
        Mistake("you took the mean; a convolution step is the SUM of window * kernel (plus bias).",
                lambda c: float(np.mean(c.args[0] * c.args[1]) + _bias(c))),
    ),
)


CHANNELS_AND_BIAS = "channels and bias"
NON_SQUARE_WINDOWS = "non-square windows"
CONV_SINGLE_STEP_GROUPS = (WORKED_EXAMPLE, CHANNELS_AND_BIAS, NON_SQUARE_WINDOWS)


def _conv_single_step_group(case: Case) -> str:
    height, width = np.shape(case.args[0])[-2:]
    return NON_SQUARE_WINDOWS if height != width else CHANNELS_AND_BIAS


def _conv_single_step_visible() -> list[Case]:
    rng = np.random.default_rng(3)
    image = images.binary_image_5x5()
    return [
        Case("worked example of lesson 01 (top-left window, X kernel)",
             (image[:3, :3], kernels.kernel("x_pattern")), group=WORKED_EXAMPLE),
        Case("3 channels with a bias", (_array(rng, (3, 4, 4)), _array(rng, (3, 4, 4)), 0.5)),
        Case("bias given by keyword", (_array(rng, (2, 2, 2)), _array(rng, (2, 2, 2))), {"bias": -1.25}),
        Case("non-square window", (_array(rng, (2, 2, 3)), _array(rng, (2, 2, 3)), 0.25)),
    ]


def _conv_single_step_hidden(seed: int = 4) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = [
        Case("asymmetric kernel (catches a flip)", (_array(rng, (1, 3, 3)), np.arange(9.0).reshape(1, 3, 3))),
        Case("1x1 window", (_array(rng, (5, 1, 1)), _array(rng, (5, 1, 1)), 2.0)),
        Case("non-square window", (_array(rng, (2, 2, 5)), _array(rng, (2, 2, 5)), -0.5)),
        Case("float32 window", (_array(rng, (3, 3, 3), np.float32), _array(rng, (3, 3, 3), np.float32), 0.1)),
    ]
    for index in range(RANDOM_CASES):
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        dtype = np.float32 if index % 3 == 0 else np.float64
        cases.append(Case(f"random case {index + 1}",
                          (_array(rng, shape, dtype), _array(rng, shape, dtype), float(rng.standard_normal()))))
    return cases



# --- conv2d(x, w, b, stride=1, padding=0) -----------------------------------------------------


def _conv2d(x, w, b, stride=1, padding=0):
    return reference.conv2d(x, w, b, stride=stride, padding=padding)


def _conv_args(case: Case):
    x, w, b = case.args
    return x, w, b, case.kwargs.get("stride", 1), case.kwargs.get("padding", 0)


def _conv_mistake(hint: str, formula) -> Mistake:
    """A mistake given by what it computes, ``formula(x, w, b, stride, padding)``."""
    return Mistake(hint, lambda case: formula(*_conv_args(case)))


def _forgot_stride(x, w, b, stride, padding, crop: bool):
    if stride == 1:
        return None
    out = reference.conv2d(x, w, b, stride=1, padding=padding)
    if not crop:
        return out
    h_out, w_out = reference.conv2d(x, w, b, stride=stride, padding=padding).shape[2:]
    return out[:, :, :h_out, :w_out]


def _hard_coded_padding(x, w, b, stride, padding, fixed: int):
    fits = x.shape[2] + 2 * fixed >= w.shape[2] and x.shape[3] + 2 * fixed >= w.shape[3]
    if padding == fixed or not fits:
        return None
    return reference.conv2d(x, w, b, stride=stride, padding=fixed)


def _flipped_kernel(x, w, b, stride, padding):
    flipped = w[..., ::-1, ::-1]
    return None if np.array_equal(w, flipped) else reference.conv2d(x, flipped, b, stride, padding)


def _one_short(x, w, b, stride, padding):
    out = reference.conv2d(x, w, b, stride=stride, padding=padding)
    return out[:, :, :-1, :-1] if min(out.shape[2:]) > 1 else None


CONV2D = FunctionSpec(
    id=f"{ASSIGNMENT}/conv2d",
    name="conv2d",
    reference=_conv2d,
    mistakes=(
        _conv_mistake("you forgot the stride: the window must move stride pixels at a time "
                      "(top = y * stride, left = x * stride) and H_out = (H + 2p - KH) // stride + 1.",
                      lambda *args: _forgot_stride(*args, crop=False)),
        _conv_mistake("you forgot the stride when placing the window: the output has the right "
                      "size, but the window for output (y, x) starts at (y * stride, x * stride).",
                      lambda *args: _forgot_stride(*args, crop=True)),
        _conv_mistake("the input was not padded: pad x with zero_pad(x, padding) before sliding the "
                      "window (the output size already counts the padding).",
                      lambda *args: _hard_coded_padding(*args, fixed=0)),
        *(_conv_mistake(f"the padding looks hard-coded to {fixed}; use the argument padding "
                        "(pad x with zero_pad(x, padding)).",
                        lambda *args, fixed=fixed: _hard_coded_padding(*args, fixed=fixed))
          for fixed in (1, 2)),
        _conv_mistake("you flipped the kernel: conv2d here is cross-correlation, as in PyTorch; "
                      "multiply each window by w[f] as it is.", _flipped_kernel),
        _conv_mistake("you forgot the bias: add b[f] to every value of output channel f.",
                      lambda x, w, b, s, p: reference.conv2d(x, w, None, s, p) if np.any(b) else None),
        _conv_mistake("every output channel used the first filter: use w[f] for output channel f.",
                      lambda x, w, b, s, p: reference.conv2d(x, np.repeat(w[:1], len(w), 0), b, s, p)
                      if len(w) > 1 else None),
        _conv_mistake("the output is one row and one column short (off by one): "
                      "H_out = (H + 2 * padding - KH) // stride + 1; the + 1 counts the first window.",
                      _one_short),
    ),
)


def _conv_case(name, rng, x_shape, w_shape, stride=1, padding=0, dtype=np.float64):
    x = _array(rng, x_shape, dtype)
    w = _array(rng, w_shape, dtype)
    b = _array(rng, (w_shape[0],), dtype)
    kwargs = {}
    if stride != 1:
        kwargs["stride"] = stride
    if padding != 0:
        kwargs["padding"] = padding
    return Case(name, (x, w, b), kwargs)


CONV2D_GROUPS = (WORKED_EXAMPLE, BATCH_AND_CHANNELS, STRIDE_AND_PADDING, NON_SQUARE, DTYPE,
                 INPUT_UNCHANGED)


def _conv2d_group(case: Case) -> str:
    x, w, _, stride, padding = _conv_args(case)
    return conv_group(x.shape, w.shape, stride, padding)


def _conv2d_visible() -> list[Case]:
    rng = np.random.default_rng(5)
    image = images.binary_image_5x5()[None, None]
    x_kernel = kernels.kernel("x_pattern")[None, None]
    return [
        Case("worked example of lesson 01 (5x5 image, X kernel)", (image, x_kernel, np.zeros(1)),
             group=WORKED_EXAMPLE),
        _conv_case("2 images, 3 channels, 4 filters", rng, (2, 3, 5, 5), (4, 3, 3, 3)),
        _conv_case("stride 2", rng, (1, 2, 7, 7), (3, 2, 3, 3), stride=2),
        _conv_case("padding 1", rng, (2, 1, 4, 4), (2, 1, 3, 3), padding=1),
        _conv_case("stride 2 and padding 2", rng, (1, 3, 6, 6), (2, 3, 3, 3), stride=2, padding=2),
        _conv_case("non-square input (4x7) and kernel (3x2)", rng, (1, 2, 4, 7), (2, 2, 3, 2)),
        _conv_case("float32 stays float32", rng, (1, 2, 5, 5), (2, 2, 3, 3), padding=1, dtype=np.float32),
    ]


def _conv2d_hidden(seed: int = 6) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = [
        _conv_case("1x1 kernel", rng, (2, 3, 4, 5), (2, 3, 1, 1)),
        _conv_case("kernel as large as the input", rng, (2, 2, 4, 4), (3, 2, 4, 4)),
        _conv_case("stride larger than the kernel", rng, (1, 2, 9, 9), (2, 2, 2, 2), stride=3),
        _conv_case("non-square input and kernel", rng, (2, 2, 5, 8), (3, 2, 2, 4)),
        _conv_case("non-square with stride 2 and padding 1", rng, (1, 3, 7, 4), (2, 3, 3, 2), stride=2, padding=1),
        _conv_case("float32 stays float32", rng, (2, 3, 5, 5), (2, 3, 3, 3), padding=1, dtype=np.float32),
        _conv_case("padding 3 on a tiny input", rng, (1, 1, 2, 2), (1, 1, 3, 3), padding=3),
        _conv_case("a larger input (16x16, 4 filters)", rng, (2, 3, 16, 16), (4, 3, 3, 3), stride=1, padding=1),
    ]
    for index in range(RANDOM_CASES):
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        padding, stride = int(rng.integers(0, 3)), int(rng.integers(1, 4))
        h = int(rng.integers(max(1, kh - 2 * padding), 10))
        w = int(rng.integers(max(1, kw - 2 * padding), 10))
        n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
        dtype = np.float32 if index % 3 == 0 else np.float64
        cases.append(_conv_case(f"random case {index + 1}", rng, (n, c, h, w), (f, c, kh, kw),
                                stride=stride, padding=padding, dtype=dtype))
    return cases


CHECKS = (
    Check(ASSIGNMENT, "output_size", (OUTPUT_SIZE,), lambda: list(OUTPUT_SIZE_VISIBLE), _output_size_hidden,
          OUTPUT_SIZE_GROUPS, _output_size_group),
    Check(ASSIGNMENT, "zero_pad", (ZERO_PAD,), _zero_pad_visible, _zero_pad_hidden, ZERO_PAD_GROUPS,
          _zero_pad_group),
    Check(ASSIGNMENT, "conv_single_step", (CONV_SINGLE_STEP,), _conv_single_step_visible,
          _conv_single_step_hidden, CONV_SINGLE_STEP_GROUPS, _conv_single_step_group),
    Check(ASSIGNMENT, "conv2d", (CONV2D,), _conv2d_visible, _conv2d_hidden, CONV2D_GROUPS, _conv2d_group),
)
