"""Which group a case counts for, by what it tests: shared by the assignments with the same kinds
of case (a1's and a3's convolutions, a2's and a3's pooling)."""

from __future__ import annotations

import numpy as np

from course_utils.grading.specs import BATCH_AND_CHANNELS, NON_SQUARE, STRIDE_AND_PADDING

NON_SQUARE_INPUTS = "non-square inputs"
STRIDE_AND_OVERLAP = "stride and overlapping windows"
TIED_MAXIMA = "tied maxima"


def conv_group(x_shape, w_shape, stride, padding) -> str:
    """A convolution case: non-square first (a height/width mix-up fails only there), then
    stride and padding, else batch and channels."""
    if x_shape[-2] != x_shape[-1] or w_shape[-2] != w_shape[-1]:
        return NON_SQUARE
    if stride != 1 or padding != 0:
        return STRIDE_AND_PADDING
    return BATCH_AND_CHANNELS


def pool_group(x: np.ndarray, size: int, stride: int, ties_count: bool = False) -> str:
    """A pooling case: (with ``ties_count``) a window whose maximum is tied, then non-square,
    then a stride other than the window size, else batch and channels."""
    if ties_count and has_tied_maxima(x, size, stride):
        return TIED_MAXIMA
    if x.shape[-2] != x.shape[-1]:
        return NON_SQUARE_INPUTS
    if stride != size:
        return STRIDE_AND_OVERLAP
    return BATCH_AND_CHANNELS


def has_tied_maxima(x: np.ndarray, size: int, stride: int) -> bool:
    """Does any ``size x size`` window (every ``stride`` pixels) hold its maximum twice?"""
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(-2, -1))
    windows = windows[..., ::stride, ::stride, :, :].reshape(*x.shape[:-2], -1, size * size)
    top = windows.max(axis=-1, keepdims=True)
    return bool(np.any((windows == top).sum(axis=-1) > 1))
