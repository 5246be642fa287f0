"""The cases of assignment 3, ``a3_backprop``: ``relu_backward``, ``max_pool2d_backward`` and
``conv2d_backward``.

Same pattern as :mod:`course_utils.grading.cases.a1_convolution`: per function a spec, the
visible cases and the hidden ones; the right answers come from the backward passes in
:mod:`course_utils.reference` (equal to ``torch.autograd``, lesson 06); typical mistakes are
known by the wrong answers they give. Each mistake's answer is computed by
a small model of the buggy code (``_max_pool_variant``, ``_conv_variant``) or by the reference
ops on changed inputs.

``conv2d_backward`` returns three arrays ``(dx, dw, db)``: one spec per array. Its check runs
every case for ``dx``, then for ``dw``, then for ``db`` (the student's function is called once per
case; the three answers are remembered), and a failure names the array: ``the check 'stride 2
[dw]'``.
"""

from __future__ import annotations

import numpy as np

from course_utils import reference
from course_utils.grading.cases.arrays import normal_array as _array
from course_utils.grading.cases.arrays import small_integers as _small_integers
from course_utils.grading.cases.groups import (
    NON_SQUARE_INPUTS,
    STRIDE_AND_OVERLAP,
    TIED_MAXIMA,
    conv_group,
    pool_group,
)
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
from course_utils.reference.shapes import crop_sides

ASSIGNMENT = "a3_backprop"

RANDOM_CASES = 40  # per hidden check; a naive loop solution runs them in about a second


# --- relu_backward(dout, x) --------------------------------------------------------------------


def _relu_mistake(hint: str, formula) -> Mistake:
    """A mistake given by what it computes, ``formula(dout, x)``."""
    return Mistake(hint, lambda case: formula(*case.args))


RELU_BACKWARD = FunctionSpec(
    id=f"{ASSIGNMENT}/relu_backward",
    name="relu_backward",
    reference=reference.relu_backward,
    mistakes=(
        _relu_mistake("you let the gradient through where x == 0; the gate is open only where "
                      "x > 0 (at exactly 0 the slope is taken as 0, as in PyTorch): use x > 0, "
                      "not x >= 0.",
                      lambda dout, x: np.where(x >= 0, dout, 0) if np.any(x == 0) else None),
        _relu_mistake("you returned the gate itself (ones where x > 0); multiply it by the "
                      "incoming gradient: dx = dout where x > 0, 0 elsewhere.",
                      lambda dout, x: (x > 0).astype(x.dtype)),
        _relu_mistake("you multiplied dout by relu(x); the ReLU's slope is 1 where x > 0 and 0 "
                      "elsewhere, so dout passes unchanged where x > 0.",
                      lambda dout, x: dout * np.maximum(x, 0)),
        _relu_mistake("you gated with the sign of dout; the gate is the forward input x: pass "
                      "dout where x > 0, whatever the sign of dout.",
                      lambda dout, x: np.maximum(dout, 0)),
        _relu_mistake("you returned dout unchanged; the ReLU stops the gradient where x <= 0.",
                      lambda dout, x: dout),
        _relu_mistake("the arguments are swapped: the signature is relu_backward(dout, x), "
                      "the incoming gradient first.",
                      lambda dout, x: np.where(dout > 0, x, 0)),
    ),
)


ANY_SHAPE = "any shape"
ZEROS_IN_X = "x exactly 0 (the gate is closed there)"
RELU_GROUPS = (WORKED_EXAMPLE, ANY_SHAPE, ZEROS_IN_X, DTYPE, INPUT_UNCHANGED)


def _relu_group(case: Case) -> str:
    return ZEROS_IN_X if np.any(np.asarray(case.args[1]) == 0) else ANY_SHAPE


def _relu_visible() -> list[Case]:
    rng = np.random.default_rng(21)
    return [
        Case("worked numbers: x = [-2, -0.5, 0, 0.5, 2], dout = [1, 2, 3, -4, 5]",
             (np.array([1.0, 2.0, 3.0, -4.0, 5.0]), np.array([-2.0, -0.5, 0.0, 0.5, 2.0])),
             group=WORKED_EXAMPLE),
        Case("a 3x4 matrix", (_array(rng, (3, 4)), _array(rng, (3, 4)))),
        Case("a batch (2, 3, 4, 4)", (_array(rng, (2, 3, 4, 4)), _array(rng, (2, 3, 4, 4)))),
        Case("x with exact zeros (a ReLU's output)", (_array(rng, (3, 3)), np.maximum(_array(rng, (3, 3)), 0))),
        Case("float32 stays float32", (_array(rng, (2, 4), np.float32), _array(rng, (2, 4), np.float32))),
    ]


def _relu_hidden(seed: int = 22) -> list[Case]:
    rng = np.random.default_rng(seed)
    shape = (2, 3, 5, 5)
    cases = [
        Case("float32 stays float32", (_array(rng, shape, np.float32), _array(rng, shape, np.float32))),
        Case("x with many exact zeros (the output of a ReLU)",
             (_array(rng, shape), np.maximum(_array(rng, shape), 0))),
        Case("all x negative", (_array(rng, (4, 4)), -np.abs(_array(rng, (4, 4))) - 0.1)),
        Case("all x positive", (_array(rng, (4, 4)), np.abs(_array(rng, (4, 4))) + 0.1)),
    ]
    for index in range(RANDOM_CASES // 4):
        shape = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 5))))
        dtype = np.float32 if index % 3 == 0 else np.float64
        cases.append(Case(f"random case {index + 1}", (_array(rng, shape, dtype), _array(rng, shape, dtype))))
    return cases



# --- max_pool2d_backward(dout, x, size, stride=None) ---------------------------------------------


def _pool_args(case: Case):
    """``(dout, x, size, stride)`` with the default stride filled in."""
    dout, x, size = case.args[:3]
    stride = case.args[3] if len(case.args) > 3 else case.kwargs.get("stride")
    return dout, x, size, (size if stride is None else stride)


def _max_pool_variant(dout, x, size, stride, *, read_at_stride=True, scatter_at_stride=True,
                      ties="first", add=True, whole_window=False):
    """What a loop ``max_pool2d_backward`` computes, with or without a typical mistake.

    ``read_at_stride=False`` / ``scatter_at_stride=False``: the window of output (y, x) is read
    from / its gradient is written to (y, x) instead of (y*stride, x*stride); ``ties``: which maxima of a window get the gradient, ``"first"`` (right, row-major as in
    PyTorch), ``"last"`` or ``"all"``; ``add=False``: ``dx[...] = ...`` instead of ``+=``
    (``whole_window``: the assignment writes the whole window, zeros included).
    """
    n, c, _, _ = x.shape
    h_out, w_out = dout.shape[2:]
    dx = np.zeros_like(x)
    for y in range(h_out):
        for x_ in range(w_out):
            top, left = (y * stride, x_ * stride) if read_at_stride else (y, x_)
            window = x[:, :, top:top + size, left:left + size].reshape(n, c, -1)
            top, left = (y * stride, x_ * stride) if scatter_at_stride else (y, x_)
            if ties == "all":
                chosen = window == window.max(axis=2, keepdims=True)
            else:
                flat = window if ties == "first" else window[:, :, ::-1]
                winner = np.argmax(flat, axis=2)
                winner = winner if ties == "first" else window.shape[2] - 1 - winner
                chosen = np.arange(window.shape[2]) == winner[:, :, None]
            share = (chosen * dout[:, :, y, x_, None]).reshape(n, c, size, size).astype(x.dtype)
            target = dx[:, :, top:top + size, left:left + size]
            if add:
                target += share
            elif whole_window:
                target[...] = share
            else:
                target[...] = np.where(chosen.reshape(target.shape), share, target)
    return dx


def _pool_mistake(hint: str, formula) -> Mistake:
    """A mistake given by what it computes, ``formula(dout, x, size, stride)`` (stride resolved)."""
    return Mistake(hint, lambda case: formula(*_pool_args(case)))


def _if_ties(dout, x, size, stride, **mistake):
    """The variant's answer, or ``None`` where no window has a tie (the mistake changes nothing)."""
    wrong = _max_pool_variant(dout, x, size, stride, **mistake)
    return None if np.array_equal(wrong, _max_pool_variant(dout, x, size, stride)) else wrong


MAX_POOL2D_BACKWARD = FunctionSpec(
    id=f"{ASSIGNMENT}/max_pool2d_backward",
    name="max_pool2d_backward",
    reference=reference.max_pool2d_backward,
    mistakes=(
        _pool_mistake("you missed the stride when scattering the gradient back: the window of "
                      "output (y, x) starts at (y * stride, x * stride) in x, and its gradient "
                      "goes back to that same window: dx[n, c, y*stride + i, x*stride + j].",
                      lambda dout, x, size, stride: _max_pool_variant(
                          dout, x, size, stride, scatter_at_stride=False) if stride != 1 else None),
        _pool_mistake("you forgot the stride: the window of output (y, x) starts at "
                      "(y * stride, x * stride), both where you look for the maximum and where "
                      "you send its gradient back.",
                      lambda dout, x, size, stride: _max_pool_variant(
                          dout, x, size, stride, read_at_stride=False, scatter_at_stride=False)
                      if stride != 1 else None),
        _pool_mistake("on a tie you sent the gradient to every maximum of the window; only ONE "
                      "position won the max, the first in row-major order (as in PyTorch): "
                      "np.argmax(window) picks exactly that one.",
                      lambda *args: _if_ties(*args, ties="all")),
        _pool_mistake("on a tie you sent the gradient to the last maximum of the window; PyTorch "
                      "(and this course) picks the FIRST in row-major order, as np.argmax does.",
                      lambda *args: _if_ties(*args, ties="last")),
        _pool_mistake("overlapping windows (stride < size) overwrote each other's gradient; a "
                      "position that wins in two windows gets the sum of both: use +=.",
                      lambda dout, x, size, stride: _max_pool_variant(dout, x, size, stride, add=False)
                      if stride < size else None),
        _pool_mistake("overlapping windows (stride < size) overwrote each other's gradient; a "
                      "position that wins in two windows gets the sum of both: use +=.",
                      lambda dout, x, size, stride: _max_pool_variant(
                          dout, x, size, stride, add=False, whole_window=True) if stride < size else None),
        _pool_mistake("you spread the gradient over the window like average pooling; max pooling "
                      "routes ALL of dout[n, c, y, x] to the one position that won the max.",
                      lambda dout, x, size, stride: reference.avg_pool2d_backward(dout, x, size, stride)
                      if size > 1 else None),
        _pool_mistake("you marked the winning positions with 1 but did not multiply by dout: the "
                      "winner receives dout[n, c, y, x].",
                      lambda dout, x, size, stride: reference.max_pool2d_backward(np.ones_like(dout), x, size, stride)),
    ),
)


def _pool_case(name, rng, shape, size, stride=None, dtype=np.float64, keyword=True, ties=False):
    x = _small_integers(rng, shape, dtype) if ties else _array(rng, shape, dtype)
    step = size if stride is None else stride
    out_shape = shape[:2] + tuple((n - size) // step + 1 for n in shape[2:])
    dout = _array(rng, out_shape, dtype)
    if stride is None:
        return Case(name, (dout, x, size))
    return Case(name, (dout, x, size), {"stride": stride}) if keyword else Case(name, (dout, x, size, stride))


def _max_pool_visible() -> list[Case]:
    rng = np.random.default_rng(23)
    worked = np.array([[1.0, 5, 2, 0], [5, 3, 4, 4], [0, 1, 6, 2], [2, 2, 1, 3]])[None, None]
    return [
        Case("worked example (4x4, size 2, tied maxima)", (np.array([[[[1.0, 2], [3, 4]]]]), worked, 2),
             group=WORKED_EXAMPLE),
        _pool_case("2 images, 3 channels, size 2 (non-square 4x6)", rng, (2, 3, 4, 6), 2),
        _pool_case("overlapping windows: size 3, stride 1", rng, (1, 2, 5, 5), 3, stride=1),
        _pool_case("size 3, stride 2", rng, (2, 1, 7, 7), 3, stride=2, keyword=False),
        _pool_case("a batch of 3, 2 channels, size 2", rng, (3, 2, 4, 4), 2),
        _pool_case("tied maxima, overlapping windows", rng, (1, 2, 5, 5), 2, stride=1, ties=True),
        _pool_case("float32 stays float32", rng, (1, 2, 4, 4), 2, dtype=np.float32),
    ]


def _max_pool_hidden(seed: int = 24) -> list[Case]:
    rng = np.random.default_rng(seed)
    constant = np.full((1, 2, 4, 4), 0.5)
    cases = [
        Case("every value equal (every window is one big tie)",
             (_array(rng, (1, 2, 2, 2)), constant, 2)),
        _pool_case("ties everywhere, overlapping windows", rng, (2, 2, 6, 6), 3, stride=1, ties=True),
        _pool_case("ties, size 2, stride 2", rng, (2, 3, 6, 8), 2, ties=True),
        _pool_case("size 1 passes dout through", rng, (2, 2, 3, 3), 1),
        _pool_case("window as large as the input", rng, (2, 3, 5, 5), 5),
        _pool_case("stride larger than the window (unread pixels get 0)", rng, (1, 2, 9, 9), 2, stride=3),
        _pool_case("non-square input", rng, (2, 2, 4, 9), 2),
        _pool_case("size that does not divide the input", rng, (1, 3, 7, 5), 2),
        _pool_case("float32 stays float32", rng, (2, 3, 6, 6), 2, dtype=np.float32),
        _pool_case("float32 with ties", rng, (2, 2, 6, 6), 2, stride=1, dtype=np.float32, ties=True),
        _pool_case("a larger input (16x16, 8 channels)", rng, (2, 8, 16, 16), 2),
    ]
    for index in range(RANDOM_CASES):
        size = int(rng.integers(1, 5))
        stride = None if index % 4 == 0 else int(rng.integers(1, 5))
        h, w = (int(v) for v in rng.integers(size, 11, size=2))
        n, c = (int(v) for v in rng.integers(1, 4, size=2))
        dtype = np.float32 if index % 3 == 0 else np.float64
        cases.append(_pool_case(f"random case {index + 1}", rng, (n, c, h, w), size, stride, dtype,
                                ties=index % 3 == 1))
    return cases



# --- conv2d_backward(dout, x, w, b, stride=1, padding=0) -> (dx, dw, db) -----------------------

OUTPUTS = ("dx", "dw", "db")


def _conv_args(case: Case):
    """``(dout, x, w, stride, padding)``: the bias changes no gradient."""
    dout, x, w, _ = case.args
    return dout, x, w, case.kwargs.get("stride", 1), case.kwargs.get("padding", 0)


def _conv2d_backward(dout, x, w, b, stride=1, padding=0):
    return reference.conv2d_backward(dout, x, w, stride=stride, padding=padding)


def _conv_variant(dout, x, w, stride, padding, *, move=True, add_dx=True, add_dw=True):
    """What the loop of the assignment computes, with or without a typical mistake.

    ``move=False``: the window of output (y, x) is read from and scattered back to (y, x) instead
    of (y*stride, x*stride); ``add_dx=False`` / ``add_dw=False``: ``=`` instead of ``+=`` (the
    loops run over n, f, y, x in that order). Returns ``(dx_pad, dw, db)``: dx NOT cropped.
    """
    n_images, _, _, _ = x.shape
    n_filters, _, kh, kw = w.shape
    _, _, h_out, w_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(n_images):
        for f in range(n_filters):
            for y in range(h_out):
                for x_ in range(w_out):
                    top, left = (y * stride, x_ * stride) if move else (y, x_)
                    g = dout[n, f, y, x_]
                    window = x_pad[n, :, top:top + kh, left:left + kw]
                    if add_dw:
                        dw[f] += g * window
                    else:
                        dw[f] = g * window
                    if add_dx:
                        dx_pad[n, :, top:top + kh, left:left + kw] += g * w[f]
                    else:
                        dx_pad[n, :, top:top + kh, left:left + kw] = g * w[f]
    return dx_pad, dw, dout.sum(axis=(0, 2, 3))


def _crop(dx_pad, padding):
    return crop_sides(dx_pad, (padding,) * 4)


def _conv_mistake(hint: str, formula) -> Mistake:
    """A mistake given by what it computes, ``formula(dout, x, w, stride, padding)``."""
    return Mistake(hint, lambda case: formula(*_conv_args(case)))


def _per_image(dout, x, w, stride, padding, output: int, pick):
    """``output`` (1: dw, 2: db) computed from some images only: ``pick`` slices the batch."""
    if len(x) == 1:
        return None
    return reference.conv2d_backward(dout[pick], x[pick], w, stride, padding)[output]


def _stacked_per_image(dout, x, w, stride, padding, output: int):
    """One ``dw`` (or ``db``) per image, not summed: shape (N, ...)."""
    return np.stack([reference.conv2d_backward(dout[i:i + 1], x[i:i + 1], w, stride, padding)[output]
                     for i in range(len(x))])


def _mean_over_batch(dout, x, w, stride, padding, output: int):
    return None if len(x) == 1 else reference.conv2d_backward(dout, x, w, stride, padding)[output] / len(x)


def _full_convolution_unflipped(dout, x, w, stride, padding):
    """dx as the full convolution of dout with the kernel NOT rotated (stride 1 only)."""
    kh, kw = w.shape[2:]
    if stride != 1 or (kh == 1 and kw == 1):
        return None
    dx_pad = reference.conv2d(reference.pad(dout, (kh - 1, kw - 1)), w.transpose(1, 0, 2, 3))
    return _crop(dx_pad, padding)


BATCH_HINT = ("you forgot to sum over the batch for {name}: every image's windows use the same "
              "weights, so {name} adds up the contributions of ALL images (a sum over n, not "
              "the last or the first image, one per image, or a mean).")
STRIDE_HINT = ("you missed the stride when scattering: output (y, x) read the window starting at "
               "(y * stride, x * stride) of the padded input, so its gradient goes back to that "
               "same window (for dx) and uses that window (for dw).")
ORDER_HINT = "you returned the three gradients in another order: return dx, dw, db (in that order)."
OVERWRITE_HINT = ("you overwrote {name} instead of adding to it: a value used by several windows "
                  "(or images, or filters) collects the sum of all their gradients: use +=.")

# One spec per gradient, all named conv2d_backward; the id says which.
CONV2D_BACKWARD_DX = FunctionSpec(
    id=f"{ASSIGNMENT}/conv2d_backward[dx]",
    name="conv2d_backward",
    reference=lambda *args, **kwargs: _conv2d_backward(*args, **kwargs)[0],
    mistakes=(
        _conv_mistake("you did not crop the padding off dx: compute the gradient of the padded "
                      "input, then return dx = dx_pad[:, :, p:p + H, p:p + W] (the shape of x).",
                      lambda dout, x, w, s, p: reference.conv2d_backward(dout, reference.pad(x, p), w, s)[0]
                      if p else None),
        _conv_mistake("with padding 0, dx_pad[:, :, p:-p, p:-p] is empty (-0 is 0, so the slice "
                      "0:-0 has nothing in it): crop with dx_pad[:, :, p:p + H, p:p + W].",
                      lambda dout, x, w, s, p: np.zeros(x.shape[:2] + (0, 0), x.dtype) if p == 0 else None),
        _conv_mistake(STRIDE_HINT, lambda dout, x, w, s, p:
                      _crop(_conv_variant(dout, x, w, s, p, move=False)[0], p) if s != 1 else None),
        _conv_mistake(OVERWRITE_HINT.format(name="dx"), lambda dout, x, w, s, p:
                      _crop(_conv_variant(dout, x, w, s, p, add_dx=False)[0], p)),
        _conv_mistake("you did not rotate the kernel: dx is the FULL convolution of dout with the "
                      "kernel flipped by 180 degrees, w[..., ::-1, ::-1] (lesson 06, section 3); "
                      "or, simpler, scatter dout[n, f, y, x] * w[f] back onto each window.",
                      _full_convolution_unflipped),
        _conv_mistake(ORDER_HINT, lambda dout, x, w, s, p: _conv2d_backward(dout, x, w, None, s, p)[1]),
    ),
)

CONV2D_BACKWARD_DW = FunctionSpec(
    id=f"{ASSIGNMENT}/conv2d_backward[dw]",
    name="conv2d_backward",
    reference=lambda *args, **kwargs: _conv2d_backward(*args, **kwargs)[1],
    mistakes=(
        _conv_mistake(BATCH_HINT.format(name="dw"), lambda *args: _per_image(*args, 1, slice(-1, None))),
        _conv_mistake(BATCH_HINT.format(name="dw"), lambda *args: _per_image(*args, 1, slice(0, 1))),
        _conv_mistake(BATCH_HINT.format(name="dw"), lambda *args: _stacked_per_image(*args, 1)),
        _conv_mistake(BATCH_HINT.format(name="dw"), lambda *args: _mean_over_batch(*args, 1)),
        _conv_mistake(STRIDE_HINT, lambda dout, x, w, s, p:
                      _conv_variant(dout, x, w, s, p, move=False)[1] if s != 1 else None),
        _conv_mistake(OVERWRITE_HINT.format(name="dw"), lambda dout, x, w, s, p:
                      _conv_variant(dout, x, w, s, p, add_dw=False)[1]),
        _conv_mistake(ORDER_HINT, lambda dout, x, w, s, p: _conv2d_backward(dout, x, w, None, s, p)[0]),
    ),
)

CONV2D_BACKWARD_DB = FunctionSpec(
    id=f"{ASSIGNMENT}/conv2d_backward[db]",
    name="conv2d_backward",
    reference=lambda *args, **kwargs: _conv2d_backward(*args, **kwargs)[2],
    mistakes=(
        _conv_mistake(BATCH_HINT.format(name="db"), lambda dout, *_: dout[-1].sum(axis=(1, 2)) if len(dout) > 1 else None),
        _conv_mistake(BATCH_HINT.format(name="db"), lambda dout, *_: dout[0].sum(axis=(1, 2)) if len(dout) > 1 else None),
        _conv_mistake(BATCH_HINT.format(name="db"), lambda dout, *_: dout.sum(axis=(2, 3))),
        _conv_mistake(BATCH_HINT.format(name="db"), lambda dout, *_: dout.sum(axis=(0, 2, 3)) / len(dout) if len(dout) > 1 else None),
        _conv_mistake("db is a SUM, not a mean: b[f] was added once to every output value of "
                      "filter f, so db[f] = dout[:, f].sum() over the batch, rows and columns.",
                      lambda dout, *_: dout.mean(axis=(0, 2, 3)) if dout[0, 0].size > 1 else None),
        _conv_mistake("you summed dout over the wrong axes: db has one value per filter, "
                      "db[f] = sum of dout[:, f, :, :] (axes 0, 2 and 3).",
                      lambda dout, *_: dout.sum(axis=(1, 2, 3))),
        _conv_mistake(ORDER_HINT, lambda dout, x, w, s, p: _conv2d_backward(dout, x, w, None, s, p)[1]),
    ),
)


def _conv_case(name, rng, x_shape, w_shape, stride=1, padding=0, dtype=np.float64):
    x = _array(rng, x_shape, dtype)
    w = _array(rng, w_shape, dtype)
    b = _array(rng, (w_shape[0],), dtype)
    h_out, w_out = (reference.output_size(n, k, padding, stride) for n, k in zip(x_shape[2:], w_shape[2:]))
    dout = _array(rng, (x_shape[0], w_shape[0], h_out, w_out), dtype)
    kwargs = {}
    if stride != 1:
        kwargs["stride"] = stride
    if padding != 0:
        kwargs["padding"] = padding
    return Case(name, (dout, x, w, b), kwargs)


def _conv_visible() -> list[Case]:
    rng = np.random.default_rng(25)
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    return [
        Case("worked example (3x3 image, 2x2 kernel)", (dout, x, w, np.zeros(1)), group=WORKED_EXAMPLE),
        _conv_case("2 images, 3 channels, 4 filters", rng, (2, 3, 5, 5), (4, 3, 3, 3)),
        _conv_case("stride 2", rng, (1, 2, 7, 7), (3, 2, 3, 3), stride=2),
        _conv_case("padding 1", rng, (2, 1, 4, 4), (2, 1, 3, 3), padding=1),
        _conv_case("stride 2 and padding 2", rng, (2, 3, 6, 6), (2, 3, 3, 3), stride=2, padding=2),
        _conv_case("non-square input (4x7) and kernel (3x2)", rng, (2, 2, 4, 7), (2, 2, 3, 2)),
        _conv_case("float32 stays float32", rng, (1, 2, 5, 5), (2, 2, 3, 3), padding=1, dtype=np.float32),
    ]


def _conv_hidden(seed: int = 26) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = [
        _conv_case("1x1 kernel", rng, (2, 3, 4, 5), (2, 3, 1, 1)),
        _conv_case("kernel as large as the input", rng, (2, 2, 4, 4), (3, 2, 4, 4)),
        _conv_case("stride larger than the kernel (unread pixels get 0)", rng, (1, 2, 9, 9), (2, 2, 2, 2), stride=3),
        _conv_case("stride that leaves the last rows unread", rng, (2, 1, 8, 8), (2, 1, 3, 3), stride=2),
        _conv_case("non-square input and kernel", rng, (2, 2, 5, 8), (3, 2, 2, 4)),
        _conv_case("non-square with stride 2 and padding 1", rng, (2, 3, 7, 4), (2, 3, 3, 2), stride=2, padding=1),
        _conv_case("float32 stays float32", rng, (2, 3, 5, 5), (2, 3, 3, 3), padding=1, dtype=np.float32),
        _conv_case("padding 3 on a tiny input", rng, (1, 1, 2, 2), (1, 1, 3, 3), padding=3),
        _conv_case("a batch of 4, one filter", rng, (4, 2, 5, 5), (1, 2, 3, 3)),
        _conv_case("a larger input (16x16, 4 filters)", rng, (2, 3, 16, 16), (4, 3, 3, 3), padding=1),
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


MAX_POOL_GROUPS = (WORKED_EXAMPLE, BATCH_AND_CHANNELS, STRIDE_AND_OVERLAP, TIED_MAXIMA, NON_SQUARE_INPUTS,
                   DTYPE, INPUT_UNCHANGED)
CONV_GROUPS = (WORKED_EXAMPLE, BATCH_AND_CHANNELS, STRIDE_AND_PADDING, NON_SQUARE, DTYPE, INPUT_UNCHANGED)


def _max_pool_group(case: Case) -> str:
    _, x, size, stride = _pool_args(case)
    return pool_group(x, size, stride, ties_count=True)


def _conv_group(case: Case) -> str:
    _, x, w, stride, padding = _conv_args(case)
    return conv_group(x.shape, w.shape, stride, padding)


CHECKS = (
    Check(ASSIGNMENT, "relu_backward", (RELU_BACKWARD,), _relu_visible, _relu_hidden, RELU_GROUPS, _relu_group),
    Check(ASSIGNMENT, "max_pool2d_backward", (MAX_POOL2D_BACKWARD,), _max_pool_visible, _max_pool_hidden,
          MAX_POOL_GROUPS, _max_pool_group),
    Check(ASSIGNMENT, "conv2d_backward", (CONV2D_BACKWARD_DX, CONV2D_BACKWARD_DW, CONV2D_BACKWARD_DB),
          _conv_visible, _conv_hidden, CONV_GROUPS, _conv_group, outputs=OUTPUTS, outputs_are="gradients"),
)
