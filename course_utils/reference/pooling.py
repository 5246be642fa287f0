"""Max and average pooling, exactly as ``torch.nn.functional.max_pool2d`` / ``avg_pool2d``.

Lesson 04 (``04_pooling.ipynb``) explains them. Both are vectorized the same way: one strided
view per kernel offset ``(i, j)`` (``KH*KW`` of them, a handful), combined elementwise over the
whole batch -- no Python loop over pixels or channels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.reference.arguments import as_float_array, check_ndim, check_window_fits, int_pair
from course_utils.reference.shapes import pad_sides


@dataclass(frozen=True)
class PoolCall:
    """A checked pooling call on a 4-D, padded input."""

    x: np.ndarray  # (N, C, H + 2ph, W + 2pw)
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    out_hw: tuple[int, int]
    input_ndim: int

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


def prepare_pool2d(x, kernel_size, stride, padding, dilation, op: str, fill: float) -> PoolCall:
    """Check a pooling call; pad with ``fill``. PyTorch's rule: padding <= half the kernel."""
    x = as_float_array(x, "x", op)
    check_ndim(x, "x", op, {4: "(N, C, H, W)", 3: "(C, H, W)", 2: "(H, W)"})
    if 0 in x.shape:
        raise ValueError(f"{op}: x must not be empty, got shape {x.shape}")
    kernel = int_pair(kernel_size, "kernel_size", op, minimum=1)
    stride = kernel if stride is None else int_pair(stride, "stride", op, minimum=1)
    padding = int_pair(padding, "padding", op, minimum=0)
    dilation = int_pair(dilation, "dilation", op, minimum=1)
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
    padded_hw = (x4.shape[2] + 2 * padding[0], x4.shape[3] + 2 * padding[1])
    check_window_fits(padded_hw, kernel, dilation, op, f"x shape {x.shape}, padding {padding}")
    out_hw = tuple((padded_hw[i] - span[i]) // stride[i] + 1 for i in range(2))
    sides = (padding[0], padding[0], padding[1], padding[1])
    return PoolCall(pad_sides(x4, sides, fill), kernel, stride, padding, dilation, out_hw, x.ndim)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1) -> np.ndarray:
    """Max pooling, exactly ``torch.nn.functional.max_pool2d`` (``ceil_mode=False``).

    Shapes: x ``(N, C, H, W)``, ``(C, H, W)`` or ``(H, W)`` -> out with the same layout and
    ``H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1`` (likewise W).

    ``out[n, c, y, x] = max_{i, j} x_pad[n, c, y*sh + i*dh, x*sw + j*dw]``

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows). Padding is with ``-inf``,
    so a padded cell never wins; it may be at most half the kernel (``kernel_size // 2``). No parameters.
    """
    call = prepare_pool2d(x, kernel_size, stride, padding, dilation, "max_pool2d", -np.inf)
    out = None
    for _, _, view in call.offset_views():
        out = view.copy() if out is None else np.maximum(out, view, out=out)
    return call.restore_layout(out)


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Average pooling, exactly ``torch.nn.functional.avg_pool2d`` (defaults).

    Shapes as :func:`max_pool2d`; ``H_out = floor((H + 2p - k) / s) + 1``.

    ``out[n, c, y, x] = (1 / (KH*KW)) * sum_{i, j} x_pad[n, c, y*sh + i, x*sw + j]``

    Zero padding, and the padded zeros *count* in the average (``count_include_pad=True``),
    so a border window is divided by ``KH*KW`` like every other. ``stride`` defaults to
    ``kernel_size``; padding at most half the kernel.
    """
    call = prepare_pool2d(x, kernel_size, stride, padding, 1, "avg_pool2d", 0.0)
    out = None
    for _, _, view in call.offset_views():
        out = view.copy() if out is None else np.add(out, view, out=out)
    out /= call.kernel[0] * call.kernel[1]
    return call.restore_layout(out)
