"""2-D convolution (cross-correlation, as deep learning and PyTorch define it).

Two versions with the same signature, the same checks and the same results:

* :func:`conv2d_naive` -- plain loops, to be read (lesson 01, ``01_convolution_by_hand.ipynb``);
* :func:`conv2d` -- vectorized: all windows are gathered at once (im2col) and multiplied with
  the filters in one BLAS matrix product.

Both equal ``torch.nn.functional.conv2d`` (``tests/test_reference_vs_torch.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.reference.arguments import (
    _is_int,
    as_float_array,
    check_ndim,
    check_window_fits,
    conv_padding,
    int_pair,
)
from course_utils.reference.shapes import pad_sides


@dataclass(frozen=True)
class ConvCall:
    """A checked conv2d call: 4-D arrays plus everything the loops need."""

    x: np.ndarray  # (N, C, H, W), already padded
    weight: np.ndarray  # (F, C / groups, KH, KW)
    bias: np.ndarray | None  # (F,)
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, bottom, left, right
    out_hw: tuple[int, int]
    input_ndim: int  # 2, 3 or 4: the caller gets an output with the same layout
    groups: int = 1

    def restore_layout(self, out: np.ndarray) -> np.ndarray:
        """(N, F, H_out, W_out) -> the caller's layout: (F, H_out, W_out) or (H_out, W_out)."""
        if self.input_ndim == 4:
            return out
        if self.input_ndim == 3:
            return out[0]
        return out[0, 0]


def prepare_conv2d(
    x, weight, bias, stride, padding, dilation, op: str = "conv2d", groups=1
) -> ConvCall:
    """Check a conv2d call and bring it to the batched, padded form. See :func:`conv2d`."""
    x = as_float_array(x, "x", op)
    weight = as_float_array(weight, "weight", op)
    check_ndim(x, "x", op, {4: "(N, C, H, W)", 3: "(C, H, W)", 2: "(H, W)"})
    if x.ndim == 2:
        check_ndim(weight, "weight", op, {2: "(KH, KW) to go with a 2-D image x"})
        x4, w4 = x[None, None], weight[None, None]
    else:
        check_ndim(weight, "weight", op, {4: "(F, C, KH, KW)"})
        x4, w4 = (x if x.ndim == 4 else x[None]), weight
    if 0 in x4.shape or 0 in w4.shape:
        raise ValueError(
            f"{op}: x and weight must not be empty, got x {x.shape} and weight {weight.shape}"
        )
    groups = check_groups(groups, x4.shape[1], w4, x.shape, op)
    if x4.shape[1] != w4.shape[1] * groups:
        per_group = f" ({w4.shape[1]} per group x groups={groups})" if groups > 1 else ""
        layout = "(F, C/groups, KH, KW)" if groups > 1 else "(F, C, KH, KW)"
        raise ValueError(
            f"{op}: input has {x4.shape[1]} channels but weight expects {w4.shape[1] * groups}"
            f"{per_group} (x shape {x.shape}, weight shape {weight.shape}; weight is {layout})"
        )
    b = None
    if bias is not None:
        if x.ndim == 2:
            b = as_float_array(bias, "bias", op).reshape(-1)
            if b.shape != (1,):
                raise ValueError(f"{op}: bias for a 2-D kernel must be a single number, got {np.shape(bias)}")
        else:
            b = as_float_array(bias, "bias", op)
            if b.shape != (w4.shape[0],):
                raise ValueError(
                    f"{op}: bias must have shape ({w4.shape[0]},), one value per filter, "
                    f"got shape {b.shape}"
                )
    stride = int_pair(stride, "stride", op, minimum=1)
    dilation = int_pair(dilation, "dilation", op, minimum=1)
    kernel = (w4.shape[2], w4.shape[3])
    sides = conv_padding(padding, kernel, stride, dilation, op)
    padded_hw = (x4.shape[2] + sides[0] + sides[1], x4.shape[3] + sides[2] + sides[3])
    check_window_fits(
        padded_hw, kernel, dilation, op,
        f"x shape {x.shape}, padding (top, bottom, left, right) {sides}",
    )
    out_hw = tuple(
        (padded_hw[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2)
    )
    dtype = np.result_type(x4.dtype, w4.dtype, *(() if b is None else (b.dtype,)))
    return ConvCall(
        x=pad_sides(x4.astype(dtype, copy=False), sides),
        weight=w4.astype(dtype, copy=False),
        bias=None if b is None else b.astype(dtype, copy=False),
        stride=stride,
        dilation=dilation,
        padding=sides,
        out_hw=out_hw,
        input_ndim=x.ndim,
        groups=groups,
    )


def check_groups(groups, channels: int, w4: np.ndarray, x_shape, op: str) -> int:
    """``groups`` must be an int >= 1 that divides both the input channels and the filters."""
    if not _is_int(groups):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"{op}: groups must be at least 1, got {groups}")
    if channels % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide the input's {channels} channels (x shape "
            f"{x_shape}): each group convolves channels / groups of them"
        )
    if w4.shape[0] % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide the number of filters, but weight has "
            f"{w4.shape[0]} (weight shape {w4.shape}; weight is (F, C/groups, KH, KW)): each "
            f"group has filters / groups of them"
        )
    return int(groups)


def window_view(xp: np.ndarray, kernel, stride, dilation, out_hw) -> np.ndarray:
    """Every receptive field of a padded ``(N, C, Hp, Wp)`` array as a strided view.

    Returns ``(N, C, KH, KW, H_out, W_out)`` where ``[n, c, i, j, y, x]`` is
    ``xp[n, c, y*sh + i*dh, x*sw + j*dw]``. No data is copied.
    """
    n_stride, c_stride, h_stride, w_stride = xp.strides
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    return np.lib.stride_tricks.as_strided(
        xp,
        shape=(xp.shape[0], xp.shape[1], kh, kw, out_hw[0], out_hw[1]),
        strides=(n_stride, c_stride, dh * h_stride, dw * w_stride, sh * h_stride, sw * w_stride),
        writeable=False,
    )


# im2col works on blocks of images whose columns fit in the CPU's cache, so the product reads
# them while they are still there (about 1.8x faster than one block for a 64-image batch).
BLOCK_BYTES = 6 * 2**20


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """2-D cross-correlation, exactly ``torch.nn.functional.conv2d``.

    Shapes:
        x:      (N, C, H, W), or unbatched (C, H, W), or a plain image (H, W)
        weight: (F, C/groups, KH, KW)                 or a plain kernel (KH, KW) with a 2-D x
        bias:   (F,) or None                          (a single number with a 2-D x)
        out:    (N, F, H_out, W_out), (F, H_out, W_out) or (H_out, W_out), following x

    Formula (no kernel flip -- that is what makes it cross-correlation)::

        out[n, f, y, x] = bias[f] + sum_{c, i, j} x_pad[n, c, y*sh + i*dh, x*sw + j*dw] * weight[f, c, i, j]
        H_out = floor((H + 2*ph - dh*(KH - 1) - 1) / sh) + 1      (likewise W_out)

    ``groups`` (default 1) splits the channels into ``groups`` independent convolutions: filter
    ``f`` sees only the input channels of its group ``g = f // (F/groups)``, so ``c`` above runs
    over ``g*C/groups ... (g+1)*C/groups - 1`` and ``weight[f, c - g*C/groups, i, j]`` is used.
    ``groups`` must divide both ``C`` and ``F``; ``groups = C`` is a depthwise convolution.

    ``stride``, ``dilation``: int or ``(h, w)``, at least 1. ``padding``: int, ``(ph, pw)``,
    ``'valid'`` (none) or ``'same'`` (output as large as the input; stride 1 only; an even kernel
    gets its extra padding at the bottom/right, as in PyTorch). Zero padding.

    dtype: float32 and float64 are kept (mixed inputs give the wider one); integer and
    boolean inputs become float64.

    How (im2col): every receptive field becomes one column of a matrix with ``C*KH*KW`` rows,
    and a single BLAS product with the filters, flattened to ``(F, C*KH*KW)``, computes all the
    outputs of a block of images at once (with groups, one product per group, batched). Lesson 01
    derives the loops this replaces (:func:`conv2d_naive`).
    """
    call = prepare_conv2d(x, weight, bias, stride, padding, dilation, groups=groups)
    n, c = call.x.shape[:2]
    f, _, kh, kw = call.weight.shape
    h_out, w_out = call.out_hw
    g = call.groups
    filters = call.weight.reshape(f, -1) if g == 1 else call.weight.reshape(g, f // g, -1)
    columns = FlatColumns(call) if call.stride == (1, 1) else WindowColumns(call)
    per_image = c * kh * kw * columns.grid[0] * columns.grid[1] * call.x.itemsize
    images_per_block = max(1, BLOCK_BYTES // per_image)
    out = np.empty((n, f, h_out, w_out), dtype=call.x.dtype)
    for start in range(0, n, images_per_block):
        stop = min(n, start + images_per_block)
        if g == 1:
            product = filters @ columns(start, stop)  # (F, images * grid positions): one BLAS product
        else:  # (G, F/G, rows/G) @ (G, rows/G, positions): the rows of group g are consecutive
            block = columns(start, stop)
            product = (filters @ block.reshape(g, -1, block.shape[1])).reshape(f, -1)
        out[start:stop] = product.reshape(f, stop - start, *columns.grid)[:, :, :h_out, :w_out] \
            .transpose(1, 0, 2, 3)
    if call.bias is not None:
        out += call.bias[None, :, None, None]
    return call.restore_layout(out)


class WindowColumns:
    """im2col from the strided view of every window (any stride); grid = (H_out, W_out)."""

    def __init__(self, call: ConvCall):
        self.call = call
        self.grid = call.out_hw

    def __call__(self, start: int, stop: int) -> np.ndarray:
        call = self.call
        c, (kh, kw) = call.x.shape[1], call.weight.shape[2:]
        windows = window_view(call.x[start:stop], (kh, kw), call.stride, call.dilation, call.out_hw)
        # (N, C, KH, KW, H_out, W_out) -> rows (c, i, j), columns (n, y, x); this is the copy.
        return windows.transpose(1, 2, 3, 0, 4, 5).reshape(c * kh * kw, -1)


class FlatColumns:
    """im2col for stride 1, with long contiguous copies instead of many short ones.

    Lay the padded input out as one long row per channel, ``(C, N*Hp*Wp)``. Then the pixel at
    kernel offset ``(i, j)`` of the window at grid position ``q`` is at ``q + i*dh*Wp + j*dw``:
    the whole column-matrix row for ``(c, i, j)`` is one contiguous slice. The product is
    computed for every position of the padded ``(Hp, Wp)`` grid and the caller keeps the
    ``H_out x W_out`` corner where a window fits.
    """

    def __init__(self, call: ConvCall):
        n, c, hp, wp = call.x.shape
        kh, kw = call.weight.shape[2:]
        dh, dw = call.dilation
        self.grid = (hp, wp)
        self.offsets = (dh * wp, dw)  # flat distance between kernel rows, kernel columns
        self.kernel = (kh, kw)
        tail = dh * (kh - 1) * wp + dw * (kw - 1)  # the last windows read this far past the end
        self.flat = np.zeros((c, n * hp * wp + tail), dtype=call.x.dtype)
        self.flat[:, : n * hp * wp].reshape(c, n, hp, wp)[...] = call.x.transpose(1, 0, 2, 3)

    def __call__(self, start: int, stop: int) -> np.ndarray:
        c = self.flat.shape[0]
        (kh, kw), (row_step, column_step) = self.kernel, self.offsets
        positions = (stop - start) * self.grid[0] * self.grid[1]
        channel_stride, item = self.flat.strides
        first = self.flat[:, start * self.grid[0] * self.grid[1]:]
        view = np.lib.stride_tricks.as_strided(
            first, shape=(c, kh, kw, positions),
            strides=(channel_stride, row_step * item, column_step * item, item), writeable=False,
        )
        return view.reshape(c * kh * kw, positions)


def conv2d_naive(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """The same as :func:`conv2d`, written as plain loops so that it can be read line by line.

    For every image ``n``, every filter ``f`` and every output position ``(y, x)``: cut the
    receptive field out of the padded input (only the channels of the filter's group), multiply
    it element by element with the filter, add everything up, add the bias. Slow (Python loops),
    but obviously right; lesson 01 walks through it and the tests check it against
    :func:`conv2d` and PyTorch.
    """
    call = prepare_conv2d(x, weight, bias, stride, padding, dilation, op="conv2d_naive",
                          groups=groups)
    xp, w = call.x, call.weight
    (sh, sw), (dh, dw) = call.stride, call.dilation
    n_images, f_filters = xp.shape[0], w.shape[0]
    c_group, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    filters_per_group = f_filters // call.groups
    h_out, w_out = call.out_hw
    out = np.zeros((n_images, f_filters, h_out, w_out), dtype=xp.dtype)
    for n in range(n_images):
        for f in range(f_filters):
            first = (f // filters_per_group) * c_group  # the first input channel of f's group
            for y in range(h_out):
                for x_ in range(w_out):
                    top, left = y * sh, x_ * sw
                    window = xp[n, first : first + c_group,
                                top : top + dh * (kh - 1) + 1 : dh, left : left + dw * (kw - 1) + 1 : dw]
                    out[n, f, y, x_] = np.sum(window * w[f])
                    if call.bias is not None:
                        out[n, f, y, x_] += call.bias[f]
    return call.restore_layout(out)
