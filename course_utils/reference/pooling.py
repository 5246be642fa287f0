"""Max and average pooling, exactly as ``torch.nn.functional.max_pool2d`` / ``avg_pool2d``.

Lesson 04 (``04_pooling.ipynb``) explains them. Both are vectorized the same way: one strided
view per kernel offset ``(i, j)`` (``KH*KW`` of them, a handful), combined elementwise over the
whole batch -- no Python loop over pixels or channels. :func:`max_unpool2d` puts the maxima
back where :func:`max_pool2d` (``return_indices=True``) found them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from course_utils.reference.arguments import (
    _is_int,
    as_float_array,
    check_ndim,
    check_window_fits,
    flag,
    int_pair,
    pool_stride,
)
from course_utils.reference.shapes import pad_sides, pool_output_length


@dataclass(frozen=True)
class PoolCall:
    """A checked pooling call on a 4-D, padded input."""

    x: np.ndarray  # (N, C, top + H + bottom, left + W + right)
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    out_hw: tuple[int, int]
    input_ndim: int
    # (top, bottom, left, right) actually padded: (ph, ph, pw, pw), and in ceil mode as much
    # more at the bottom/right as the last window hangs over the padded input.
    sides: tuple[int, int, int, int]
    ceil_mode: bool = False

    @property
    def input_hw(self) -> tuple[int, int]:
        top, bottom, left, right = self.sides
        return (self.x.shape[2] - top - bottom, self.x.shape[3] - left - right)

    def restore_layout(self, out: np.ndarray) -> np.ndarray:
        return out.reshape(out.shape[4 - self.input_ndim :]) if self.input_ndim < 4 else out

    def offset_views(self):
        """Yield ``(i, j, view)``: the input element at kernel offset (i, j) of every window.

        ``view[n, c, y, x] = x_pad[n, c, y*sh + i*dh, x*sw + j*dw]``, shape (N, C, H_out, W_out).
        """
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        h_out, w_out = self.out_hw
        for i in range(kh):
            for j in range(kw):
                top, left = i * dh, j * dw
                yield i, j, self.x[:, :, top : top + sh * (h_out - 1) + 1 : sh,
                                   left : left + sw * (w_out - 1) + 1 : sw]

    def window_starts(self, axis: int) -> np.ndarray:
        """Where each window starts along ``axis`` (0: rows, 1: columns), in unpadded pixels."""
        return np.arange(self.out_hw[axis]) * self.stride[axis] - self.padding[axis]


def prepare_pool2d(x, kernel_size, stride, padding, dilation, op: str, fill: float,
                   ceil_mode=False) -> PoolCall:
    """Check a pooling call; pad with ``fill``. PyTorch's rule: padding <= half the kernel."""
    x = as_float_array(x, "x", op)
    check_ndim(x, "x", op, {4: "(N, C, H, W)", 3: "(C, H, W)", 2: "(H, W)"})
    if 0 in x.shape:
        raise ValueError(f"{op}: x must not be empty, got shape {x.shape}")
    kernel = int_pair(kernel_size, "kernel_size", op, minimum=1)
    stride = pool_stride(stride, kernel, op)
    padding = int_pair(padding, "padding", op, minimum=0)
    dilation = int_pair(dilation, "dilation", op, minimum=1)
    ceil_mode = flag(ceil_mode, "ceil_mode", op)
    # PyTorch's rule, for max and average pooling alike: padding <= kernel_size // 2
    # (the undilated kernel), per axis.
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    half = (kernel[0] // 2, kernel[1] // 2)
    if padding[0] > half[0] or padding[1] > half[1]:
        raise ValueError(
            f"{op}: padding must be at most half the kernel, got padding {padding} with "
            f"kernel_size {kernel} (at most {half})"
        )
    x4 = x.reshape((1,) * (4 - x.ndim) + x.shape)
    hw = x4.shape[2:]
    out_hw = tuple(
        pool_output_length(hw[a], kernel[a], stride[a], padding[a], dilation[a], ceil_mode)
        for a in range(2)
    )
    padded_hw = (hw[0] + 2 * padding[0], hw[1] + 2 * padding[1])
    if not ceil_mode:
        check_window_fits(padded_hw, kernel, dilation, op, f"x shape {x.shape}, padding {padding}")
    elif min(out_hw) < 1:
        raise ValueError(
            f"{op}: the kernel covers {span[0]}x{span[1]} pixels (kernel_size {kernel}, "
            f"dilation {dilation}) but the padded input is only {padded_hw[0]}x{padded_hw[1]} "
            f"(x shape {x.shape}, padding {padding}) and ceil_mode=True lets a window hang over "
            f"it by at most stride - 1 = {(stride[0] - 1, stride[1] - 1)}; use a smaller kernel, "
            f"more padding or a larger stride"
        )
    # In ceil mode the last window may reach past the padded input: pad that far with `fill`.
    bottom, right = (
        max(padding[a], (out_hw[a] - 1) * stride[a] + span[a] - hw[a] - padding[a])
        for a in range(2)
    )
    sides = (padding[0], bottom, padding[1], right)
    return PoolCall(pad_sides(x4, sides, fill), kernel, stride, padding, dilation, out_hw,
                    x.ndim, sides, ceil_mode)


def max_pool2d_winners(call: PoolCall) -> tuple[np.ndarray, np.ndarray]:
    """The max of every window and *which* kernel offset ``i*KW + j`` won, as PyTorch's CPU loop.

    Replays PyTorch's loop over each window (row-major), for every window at once: a value
    wins if it is *larger* than the best so far (so on a tie the first one stays) or if it is
    NaN (so the last NaN wins); the best starts at ``-inf`` on the window's first position
    inside the input, so padding never wins. Returns ``(values, offsets)``, each
    ``(N, C, H_out, W_out)``; the offset is -1 for a (dilated) window with no input pixel.
    """
    inside = pad_sides(np.ones((1, 1) + call.input_hw, bool), call.sides, False)
    inside_views = dataclasses.replace(call, x=inside).offset_views()
    shape = call.x.shape[:2] + call.out_hw
    best_value = np.full(shape, -np.inf, call.x.dtype)
    best_offset = np.full(shape, -1)
    for (i, j, view), (_, _, is_inside) in zip(call.offset_views(), inside_views):
        wins = (view > best_value) | np.isnan(view) | ((best_offset < 0) & is_inside)
        best_value = np.where(wins, view, best_value)
        best_offset = np.where(wins, i * call.kernel[1] + j, best_offset)
    return best_value, best_offset


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling, exactly ``torch.nn.functional.max_pool2d``.

    Shapes: x ``(N, C, H, W)``, ``(C, H, W)`` or ``(H, W)`` -> out with the same layout and
    ``H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1`` (likewise W); ``ceil_mode=True`` rounds
    up instead, keeping a last window that hangs over the bottom/right edge as long as it starts
    inside the input or the top/left padding (:func:`~course_utils.reference.output_size`).

    ``out[n, c, y, x] = max_{i, j} x_pad[n, c, y*sh + i*dh, x*sw + j*dw]``

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows). Padding is with ``-inf``,
    so a padded cell never wins; it may be at most half the kernel (``kernel_size // 2``). No
    parameters. NaN wins any window it is in.

    ``return_indices=True`` returns ``(out, indices)``: ``indices`` (int64, the shape of ``out``)
    holds where each max came from, as a flat position ``h*W + w`` in its ``(H, W)`` plane of
    ``x``: what :func:`max_unpool2d` takes. On a tie it is the first maximum in row-major order
    within the window; with several NaNs the last; for a window of ``-inf`` only, its first
    position inside the input (PyTorch's CPU kernel, and :func:`max_pool2d_backward`'s rule).
    Like PyTorch, ``return_indices`` is read as a truth value.
    """
    op = "max_pool2d"
    call = prepare_pool2d(x, kernel_size, stride, padding, dilation, op, -np.inf, ceil_mode)
    try:
        with_indices = bool(return_indices)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{op}: return_indices must be True or False, got {return_indices!r} "
                        f"({error})") from None
    if not with_indices:
        out = None
        for _, _, view in call.offset_views():
            out = view.copy() if out is None else np.maximum(out, view, out=out)
        return call.restore_layout(out)
    out, offsets = max_pool2d_winners(call)
    kw, (dh, dw) = call.kernel[1], call.dilation
    top, left = call.window_starts(0)[:, None], call.window_starts(1)[None, :]
    rows = np.where(offsets >= 0, top + (offsets // kw) * dh, first_on_grid(top, dh))
    columns = np.where(offsets >= 0, left + (offsets % kw) * dw, first_on_grid(left, dw))
    indices = (rows * call.input_hw[1] + columns).astype(np.int64)
    return call.restore_layout(out), call.restore_layout(indices)


def first_on_grid(start: np.ndarray, dilation: int) -> np.ndarray:
    """The window's first row (or column) at or after 0, stepping by ``dilation``.

    Only for a dilated window that holds *no* input pixel (its taps all fall on padding or between
    pixels): it returns ``-inf``, and PyTorch's CPU kernel names this position -- which lies past
    the input -- as its index; we return the same number. (PyTorch's backward then adds that
    window's gradient at this flat position, even in the next plane; :func:`max_pool2d_backward`
    drops it, since the output does not depend on ``x`` there.)
    """
    return np.where(start < 0, start + (-start + dilation - 1) // dilation * dilation, start)


def avg_divisors(call: PoolCall, count_include_pad: bool, divisor_override):
    """What each window's sum is divided by: a number, or one per window ``(H_out, W_out)``.

    PyTorch's rule: ``divisor_override`` if given; else the window's size clipped to the padded
    input (``count_include_pad=True``: padded zeros count, the part a ceil-mode window hangs
    past the padding does not) or to the input itself (``count_include_pad=False``).
    """
    if divisor_override is not None:
        return int(divisor_override)  # a Python int divides float32 in float32
    if count_include_pad and not call.ceil_mode:
        return call.kernel[0] * call.kernel[1]  # every window lies inside the padded input
    sizes = []
    for axis in range(2):
        start = call.window_starts(axis)
        n, p = call.input_hw[axis], call.padding[axis]
        end = np.minimum(start + call.kernel[axis], n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        sizes.append(end - start)
    return (sizes[0][:, None] * sizes[1][None, :]).astype(call.x.dtype)


def check_avg_options(count_include_pad, divisor_override, op: str) -> bool:
    """Check avg_pool2d's options; returns ``count_include_pad`` as a bool."""
    count_include_pad = flag(count_include_pad, "count_include_pad", op)
    if divisor_override is not None:
        if not _is_int(divisor_override):
            raise TypeError(
                f"{op}: divisor_override must be an int (or None), got {divisor_override!r}"
            )
        if divisor_override == 0:
            raise ValueError(
                f"{op}: divisor_override must not be 0 (every window's sum is divided by it), got 0"
            )
    return count_include_pad


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> np.ndarray:
    """Average pooling, exactly ``torch.nn.functional.avg_pool2d``.

    Shapes as :func:`max_pool2d` (no dilation); ``H_out = floor((H + 2p - k) / s) + 1``, or
    rounded up with ``ceil_mode=True`` (the same rule as :func:`max_pool2d`).

    ``out[n, c, y, x] = (1 / divisor[y, x]) * sum_{i, j} x_pad[n, c, y*sh + i, x*sw + j]``

    Zero padding. The divisor, as in PyTorch:

    * ``count_include_pad=True`` (default): the padded zeros *count*, so every window is divided
      by ``KH*KW`` -- except that in ceil mode a window hanging past the padded edge is divided
      only by the part of it inside the padded input;
    * ``count_include_pad=False``: only the input pixels in the window count;
    * ``divisor_override=d`` (a non-zero int, negative allowed): every window is divided by ``d``.

    ``stride`` defaults to ``kernel_size``; padding at most half the kernel.
    """
    op = "avg_pool2d"
    call = prepare_pool2d(x, kernel_size, stride, padding, 1, op, 0.0, ceil_mode)
    count_include_pad = check_avg_options(count_include_pad, divisor_override, op)
    out = None
    for _, _, view in call.offset_views():
        out = view.copy() if out is None else np.add(out, view, out=out)
    out /= avg_divisors(call, count_include_pad, divisor_override)
    return call.restore_layout(out)


def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None) -> np.ndarray:
    """Undo max pooling, exactly ``torch.nn.functional.max_unpool2d``: a zero map with the maxima
    put back where they came from.

    Shapes:
        x:       (N, C, H_in, W_in), (C, H_in, W_in) or (H_in, W_in) -- max_pool2d's output
        indices: the shape of x, integers -- max_pool2d(..., return_indices=True)'s indices,
                 flat positions ``h*W_out + w`` in each (N, C) plane of the output
        out:     (N, C, H_out, W_out) in x's layout, zero except
                 ``out[n, c].flat[indices[n, c, y, x]] = x[n, c, y, x]``

    ``H_out = (H_in - 1)*sh + KH - 2*ph`` (likewise W): the size pooling came from when it
    dropped nothing. Pooling that dropped rows or columns (``floor``) or added some
    (``ceil_mode``) needs ``output_size=(H, W)`` (or ``(N, C, H, W)``), which must lie strictly
    within one stride of that default, as in PyTorch. ``stride`` defaults to ``kernel_size``.

    Not an inverse: every non-maximum becomes 0. If two entries share an index, the last one
    (row-major) is kept, as PyTorch's CPU loop does; an index outside the output plane is an error.
    """
    op = "max_unpool2d"
    x = as_float_array(x, "x", op)
    check_ndim(x, "x", op, {4: "(N, C, H, W)", 3: "(C, H, W)", 2: "(H, W)"})
    if 0 in x.shape:
        raise ValueError(f"{op}: x must not be empty, got shape {x.shape}")
    if indices is None:
        raise TypeError(f"{op}: indices is None; it must be max_pool2d's indices (an int array)")
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: indices must hold integers (max_pool2d(..., return_indices=True)'s "
            f"indices), got dtype {indices.dtype}"
        )
    if indices.shape != x.shape:
        raise ValueError(
            f"{op}: indices has shape {indices.shape} but x has shape {x.shape}; they must be the "
            f"same (both come from one max_pool2d(..., return_indices=True) call)"
        )
    kernel = int_pair(kernel_size, "kernel_size", op, minimum=1)
    stride = pool_stride(stride, kernel, op)
    padding = int_pair(padding, "padding", op, minimum=0)
    default = tuple((x.shape[-2 + a] - 1) * stride[a] + kernel[a] - 2 * padding[a] for a in range(2))
    out_hw = default if output_size is None else _unpool_output_size(output_size, default, stride, op)
    if min(out_hw) < 0:
        raise ValueError(
            f"{op}: the output would be {out_hw[0]}x{out_hw[1]} ((H_in - 1)*stride + kernel_size "
            f"- 2*padding with x shape {x.shape}, kernel_size {kernel}, stride {stride}, padding "
            f"{padding}); it needs non-negative sizes"
        )
    x4 = x.reshape((-1,) + x.shape[-2:])
    flat = indices.reshape(x4.shape[0], -1).astype(np.int64)
    plane = out_hw[0] * out_hw[1]
    if plane == 0:  # nothing to put anywhere: PyTorch returns the empty map, indices unchecked
        return np.zeros(x.shape[:-2] + out_hw, x.dtype)
    bad = (flat < 0) | (flat >= plane)
    if bad.any():
        where = np.unravel_index(int(np.argmax(bad.reshape(-1))), indices.shape)
        raise ValueError(
            f"{op}: indices holds {int(indices[where])} at position {tuple(map(int, where))}, but "
            f"the output planes are {out_hw[0]}x{out_hw[1]} (positions 0 to {plane - 1}); if "
            f"max_pool2d dropped rows or columns, pass output_size=(H, W) of its input"
        )
    out = np.zeros((x4.shape[0], plane), x.dtype)
    out[np.arange(x4.shape[0])[:, None], flat] = x4.reshape(x4.shape[0], -1)
    return out.reshape(x.shape[:-2] + out_hw)


def _unpool_output_size(output_size, default: tuple[int, int], stride, op: str) -> tuple[int, int]:
    """Check ``output_size`` as PyTorch does: 2 (or 4: N, C, H, W) ints, within one stride."""
    if not (isinstance(output_size, (tuple, list, np.ndarray))
            and len(output_size) in (2, 4) and all(_is_int(item) for item in output_size)):
        raise TypeError(
            f"{op}: output_size must be (H, W) or (N, C, H, W), ints, got {output_size!r}"
        )
    hw = tuple(int(item) for item in output_size[-2:])
    if min(hw) < 0:
        raise ValueError(f"{op}: output_size must not be negative, got {tuple(output_size)}")
    for a, name in enumerate(("height", "width")):
        low, high = default[a] - stride[a], default[a] + stride[a]
        if not low < hw[a] < high:
            raise ValueError(
                f"{op}: output_size {tuple(output_size)} has {name} {hw[a]}, but it must be "
                f"strictly between {low} and {high} (the default {default[a]} plus or minus "
                f"stride {stride[a]})"
            )
    return hw
