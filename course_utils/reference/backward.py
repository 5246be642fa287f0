"""Backward passes of the reference ops: the gradients lesson 06 derives.

Lesson 06 (``06_backprop_through_conv.ipynb``) explains every line. Each function takes the
gradient of the loss with respect to the forward op's *output* (``grad_out``, same shape as that
output) plus the forward op's inputs, and returns the gradient with respect to those inputs --
exactly what ``torch.autograd`` computes (``tests/test_backward.py``).

==========================  ===========================================================
function                    what happens to the gradient
==========================  ===========================================================
conv2d_backward             ``grad_weight``: cross-correlation of the input with
                            ``grad_out``; ``grad_x``: full convolution of ``grad_out`` with
                            the kernel (im2col transposed: one matrix product + scatter)
relu_backward               gated: passes where ``x > 0``, 0 elsewhere
max_pool2d_backward         routed: all of it to the winning position of each window
avg_pool2d_backward         spread: ``1 / divisor`` of it to every position of each window
==========================  ===========================================================

Vectorized like the forward ops: the only Python loops run over the kernel offsets ``(i, j)``.
Bad input gets the forward op's errors; a ``grad_out`` of the wrong shape is named together
with the shape it must have.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from course_utils.reference.arguments import as_float_array
from course_utils.reference.convolution import prepare_conv2d, window_view
from course_utils.reference.pooling import (
    PoolCall,
    avg_divisors,
    check_avg_options,
    max_pool2d_winners,
    prepare_pool2d,
)
from course_utils.reference.shapes import crop_sides


def _check_grad_out(grad_out, expected_shape: tuple[int, ...], op: str, forward: str, detail: str):
    grad_out = as_float_array(grad_out, "grad_out", op)
    if grad_out.shape != tuple(expected_shape):
        raise ValueError(
            f"{op}: grad_out has shape {grad_out.shape} but {forward}'s output has shape "
            f"{tuple(expected_shape)} ({detail}); grad_out must have exactly the shape of the "
            f"forward output"
        )
    return grad_out


def _forward_shape(out4_shape: tuple[int, ...], input_ndim: int) -> tuple[int, ...]:
    """(N, F, H_out, W_out) in the caller's layout: drop the leading axes a 3-D/2-D input lacks."""
    return tuple(out4_shape[4 - input_ndim :])


def conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of :func:`~course_utils.reference.conv2d` with respect to x, weight and bias.

    Shapes (the same layouts as ``conv2d``):
        grad_out:    (N, F, H_out, W_out)  -- dL/d(out); (F, H_out, W_out) or (H_out, W_out)
                                              when x is (C, H, W) or (H, W)
        x:           (N, C, H, W)          -- the forward input (unpadded)
        weight:      (F, C/groups, KH, KW) -- or (KH, KW) with a 2-D x
        returns      grad_x (like x), grad_weight (like weight), grad_bias (F,)
                     (for a 2-D x, grad_bias is a 0-d array: the one bias's gradient)

    ``stride``, ``padding`` (int, pair, ``'valid'``, ``'same'``), ``dilation`` and ``groups`` are
    those of the forward call. The bias does not change any gradient, so it is not an argument.

    Formulas (``x_pad`` is the padded input; sums run over every index that is not on the left)::

        grad_bias[f]         = sum_{n, y, x} grad_out[n, f, y, x]
        grad_weight[f,c,i,j] = sum_{n, y, x} grad_out[n, f, y, x] * x_pad[n, c, y*sh + i*dh, x*sw + j*dw]
        grad_x_pad[n, c, y*sh + i*dh, x*sw + j*dw]  +=  sum_f grad_out[n, f, y, x] * weight[f, c, i, j]

    and ``grad_x`` is ``grad_x_pad`` with the padding cropped off. With ``groups``, ``c`` runs over
    the channels of ``f``'s group only (as in :func:`~course_utils.reference.conv2d`): each group
    is its own small convolution with its own gradients. For stride 1 the first is a
    cross-correlation of the input with ``grad_out`` and the last a *full convolution* of
    ``grad_out`` with the kernel (cross-correlation with the flipped kernel); lesson 06 shows
    both numerically.

    How: the im2col matrix of the forward pass, transposed. ``grad_weight`` is one matrix
    product of ``grad_out`` with the columns; ``grad_x`` is one matrix product giving the
    gradient of every column, scattered back (added) onto the input one kernel offset at a time
    (with groups: one product per group, batched).
    """
    op = "conv2d_backward"
    call = prepare_conv2d(x, weight, None, stride, padding, dilation, op=op, groups=groups)
    xp, w = call.x, call.weight
    n, c, hp, wp = xp.shape
    f, c_group, kh, kw = w.shape
    g = call.groups
    h_out, w_out = call.out_hw
    expected = _forward_shape((n, f, h_out, w_out), call.input_ndim)
    grad_out = _check_grad_out(
        grad_out, expected, op, "conv2d",
        f"x shape {np.shape(x)}, weight shape {np.shape(weight)}, stride {call.stride}, "
        f"padding (top, bottom, left, right) {call.padding}, dilation {call.dilation}"
        f"{f', groups {g}' if g > 1 else ''}",
    )
    dtype = np.result_type(xp.dtype, grad_out.dtype)
    xp, w = xp.astype(dtype, copy=False), w.astype(dtype, copy=False)
    g4 = grad_out.astype(dtype, copy=False).reshape(n, f, h_out, w_out)

    grad_bias = g4.sum(axis=(0, 2, 3))
    # grad_out as a matrix (F, N*H_out*W_out), ordered like the forward im2col columns; one
    # such matrix per group, (G, F/G, N*H_out*W_out), and the columns likewise split by group.
    g_matrix = g4.transpose(1, 0, 2, 3).reshape(g, f // g, n * h_out * w_out)
    windows = window_view(xp, (kh, kw), call.stride, call.dilation, call.out_hw)
    columns = windows.transpose(1, 2, 3, 0, 4, 5).reshape(g, c_group * kh * kw, n * h_out * w_out)
    grad_weight = (g_matrix @ columns.transpose(0, 2, 1)).reshape(f, c_group, kh, kw)

    # Gradient of every column entry, then added back where that entry was read from.
    filters = w.reshape(g, f // g, c_group * kh * kw)
    grad_columns = (filters.transpose(0, 2, 1) @ g_matrix).reshape(c, kh, kw, n, h_out, w_out)
    grad_xp = np.zeros((n, c, hp, wp), dtype=dtype)
    (sh, sw), (dh, dw) = call.stride, call.dilation
    for i in range(kh):
        for j in range(kw):
            top, left = i * dh, j * dw
            grad_xp[:, :, top : top + sh * (h_out - 1) + 1 : sh,
                    left : left + sw * (w_out - 1) + 1 : sw] += grad_columns[:, i, j].transpose(1, 0, 2, 3)
    grad_x = crop_sides(grad_xp, call.padding)

    if call.input_ndim == 2:
        return grad_x[0, 0], grad_weight[0, 0], grad_bias.reshape(())
    if call.input_ndim == 3:
        return grad_x[0], grad_weight, grad_bias
    return grad_x, grad_weight, grad_bias


def relu_backward(grad_out, x) -> np.ndarray:
    """Gradient of :func:`~course_utils.reference.relu`: ``grad_out`` where ``x > 0``, else 0.

    Shapes: ``grad_out`` and ``x`` the same, any shape; the result has that shape too.

    The ReLU is a gate: a unit that was off in the forward pass (``x <= 0``) passes no
    gradient back, whatever arrives. At exactly 0 the slope is taken as 0 and a NaN input lets
    the gradient through, both as in PyTorch (``threshold_backward``: zero where ``x <= 0``).
    """
    op = "relu_backward"
    x = as_float_array(x, "x", op)
    grad_out = _check_grad_out(grad_out, x.shape, op, "relu", f"x shape {x.shape}")
    dtype = np.result_type(x.dtype, grad_out.dtype)
    return np.where(x <= 0, np.zeros((), dtype), grad_out.astype(dtype, copy=False))


def _pool_grad_out(grad_out, call: PoolCall, x, op: str, forward: str) -> np.ndarray:
    """Check grad_out against the pooling output and return it as (N, C, H_out, W_out)."""
    n, c = call.x.shape[:2]
    expected = _forward_shape((n, c) + call.out_hw, call.input_ndim)
    grad_out = _check_grad_out(
        grad_out, expected, op, forward,
        f"x shape {np.shape(x)}, kernel_size {call.kernel}, stride {call.stride}, "
        f"padding {call.padding}{', ceil_mode=True' if call.ceil_mode else ''}",
    )
    dtype = np.result_type(call.x.dtype, grad_out.dtype)
    return grad_out.astype(dtype, copy=False).reshape((n, c) + call.out_hw)


def _scatter_views(grad_xp: np.ndarray, call: PoolCall):
    """Like ``call.offset_views()``, but yields writable views into ``grad_xp``."""
    return dataclasses.replace(call, x=grad_xp).offset_views()


def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False) -> np.ndarray:
    """Gradient of :func:`~course_utils.reference.max_pool2d` with respect to ``x``.

    Shapes: ``x`` ``(N, C, H, W)``, ``(C, H, W)`` or ``(H, W)``; ``grad_out`` the shape of
    ``max_pool2d(x, ...)``; the result has the shape of ``x``. Arguments as in ``max_pool2d``
    (``ceil_mode`` too: a window hanging over the edge routes to its winner like any other).

    Each window sends *all* of its ``grad_out`` to the one position that won the max and
    nothing to the others; overlapping windows (stride < kernel) add up. The winner is the
    one PyTorch's CPU kernel picks (the position ``max_pool2d(..., return_indices=True)`` names):

    * on a tie, the *first* maximum in row-major order within the window;
    * a NaN always wins, and the *last* NaN in the window if there are several;
    * padding never wins (a window that holds only ``-inf`` picks its first real position);
    * a dilated window whose taps all miss the input (all padding) outputs ``-inf`` whatever
      ``x`` is, so its gradient is dropped. (PyTorch's CPU kernel adds it at a position outside
      the window, even in the next plane: a bug this reference does not copy.)
    """
    op = "max_pool2d_backward"
    call = prepare_pool2d(x, kernel_size, stride, padding, dilation, op, -np.inf, ceil_mode)
    g4 = _pool_grad_out(grad_out, call, x, op, "max_pool2d")
    _, best_offset = max_pool2d_winners(call)
    grad_xp = np.zeros(call.x.shape, g4.dtype)
    zero = np.zeros((), g4.dtype)
    for i, j, target in _scatter_views(grad_xp, call):
        target += np.where(best_offset == i * call.kernel[1] + j, g4, zero)
    return call.restore_layout(crop_sides(grad_xp, call.sides))


def avg_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None) -> np.ndarray:
    """Gradient of :func:`~course_utils.reference.avg_pool2d` with respect to ``x``.

    Shapes as :func:`max_pool2d_backward`; arguments as in ``avg_pool2d``. Each window spreads
    its ``grad_out`` evenly: every position in it gets ``grad_out / divisor`` -- ``KH*KW`` by
    default, or whatever ``ceil_mode``, ``count_include_pad`` and ``divisor_override`` made the
    forward divide that window by. The share that falls on padding (or past the edge) is simply
    dropped; overlapping windows add up.
    """
    op = "avg_pool2d_backward"
    call = prepare_pool2d(x, kernel_size, stride, padding, 1, op, 0.0, ceil_mode)
    count_include_pad = check_avg_options(count_include_pad, divisor_override, op)
    g4 = _pool_grad_out(grad_out, call, x, op, "avg_pool2d")
    divisor = avg_divisors(call, count_include_pad, divisor_override)
    share = g4 / (divisor.astype(g4.dtype) if isinstance(divisor, np.ndarray) else divisor)
    grad_xp = np.zeros(call.x.shape, g4.dtype)
    for _, _, target in _scatter_views(grad_xp, call):
        target += share
    return call.restore_layout(crop_sides(grad_xp, call.sides))
