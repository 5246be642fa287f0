"""Output sizes and padding: the arithmetic of lesson 02 (``02_padding_and_stride.ipynb``)."""

from __future__ import annotations

import numpy as np

from course_utils.reference.arguments import _is_int, as_float_array, flag, int_pair


def output_size(
    n: int, kernel_size: int, padding=0, stride: int = 1, dilation: int = 1, ceil_mode: bool = False
) -> int:
    """Length of a convolution's (or pooling's) output along one axis.

    ``floor((n + 2p - d(k - 1) - 1) / s) + 1``, which for ``d = 1`` is the familiar
    ``floor((n + 2p - k) / s) + 1``. The division rounds *down*, as in PyTorch: a window that
    would hang over the padded edge is dropped.

    ``ceil_mode=True`` (pooling only, as ``nn.MaxPool2d(..., ceil_mode=True)``) rounds *up*
    instead, so the last window may hang over the padded edge by up to ``s - 1`` pixels --
    with PyTorch's rule that it must still *start* inside the input or the left padding
    (``(out - 1) * s < n + p``; otherwise that last window is dropped).

    ``padding`` is an int, ``'valid'`` (0) or ``'same'`` (output length ``n``; stride 1 only).

    >>> output_size(5, 3)                        # 5x5 image, 3x3 kernel
    3
    >>> output_size(7, 3, padding=1, stride=2)   # (7 + 2 - 3) / 2 + 1
    4
    >>> output_size(6, 3, stride=2)              # (6 - 3) / 2 = 1.5 rounds down to 1
    2
    >>> output_size(6, 3, stride=2, ceil_mode=True)  # ... or up to 2
    3
    >>> output_size(5, 2, padding=1, stride=2, ceil_mode=True)  # ceil: 4, but the 4th would start in the padding
    3
    """
    op = "output_size"
    for name, value, minimum in (("n", n, 1), ("kernel_size", kernel_size, 1),
                                 ("stride", stride, 1), ("dilation", dilation, 1)):
        if not _is_int(value):
            raise TypeError(f"{op}: {name} must be an int, got {value!r}")
        if value < minimum:
            raise ValueError(f"{op}: {name} must be at least {minimum}, got {value}")
    ceil_mode = flag(ceil_mode, "ceil_mode", op)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if stride != 1:
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
            return n
        else:
            raise ValueError(f"{op}: padding must be an int, 'valid' or 'same', got {padding!r}")
    if not _is_int(padding):
        raise TypeError(f"{op}: padding must be an int, 'valid' or 'same', got {padding!r}")
    if padding < 0:
        raise ValueError(f"{op}: padding must be at least 0 (no negative padding), got {padding}")
    length = pool_output_length(n, kernel_size, stride, padding, dilation, ceil_mode)
    if length < 1:
        span = dilation * (kernel_size - 1) + 1
        overhang = f" plus the stride - 1 = {stride - 1} that ceil_mode lets a window hang over" \
            if ceil_mode else ""
        raise ValueError(
            f"{op}: the kernel covers {span} pixels (kernel_size {kernel_size}, dilation "
            f"{dilation}) but the padded input is only {n + 2 * padding} (n {n}, padding {padding})"
            f"{overhang}"
        )
    return length


def pool_output_length(
    n: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """PyTorch's ``pooling_output_shape`` for checked ints; below 1 means "too small".

    ``floor`` or ``ceil`` of ``(n + 2p - d(k - 1) - 1) / s``, plus 1; in ceil mode a last
    window that would start in the right padding (``(out - 1) * s >= n + p``) is dropped.
    """
    span = dilation * (kernel - 1) + 1
    length = (n + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and length >= 1 and (length - 1) * stride >= n + padding:
        length -= 1
    return length


def pad(x, padding, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of ``x`` (``(..., H, W)`` -> ``(..., H + 2ph, W + 2pw)``).

    ``padding`` is an int (the same on every side) or ``(ph, pw)``. ``x`` is not modified; a new
    array of the same dtype is returned (integer input becomes float64, like every reference op).

    >>> pad(np.ones((2, 2)), 1)
    array([[0., 0., 0., 0.],
           [0., 1., 1., 0.],
           [0., 1., 1., 0.],
           [0., 0., 0., 0.]])
    """
    x = as_float_array(x, "x", "pad")
    if x.ndim < 2:
        raise ValueError(f"pad: x must have at least 2 dimensions (..., H, W), got shape {x.shape}")
    ph, pw = int_pair(padding, "padding", "pad", minimum=0)
    return pad_sides(x, (ph, ph, pw, pw), value)


def pad_sides(x: np.ndarray, sides: tuple[int, int, int, int], value: float = 0.0) -> np.ndarray:
    """Pad the last two axes by ``(top, bottom, left, right)``; returns ``x`` itself if all 0."""
    top, bottom, left, right = sides
    if not any(sides):
        return x
    out = np.full(
        x.shape[:-2] + (x.shape[-2] + top + bottom, x.shape[-1] + left + right), value, x.dtype
    )
    out[..., top : top + x.shape[-2], left : left + x.shape[-1]] = x
    return out


def crop_sides(x: np.ndarray, sides: tuple[int, int, int, int]) -> np.ndarray:
    """Undo :func:`pad_sides`: remove ``(top, bottom, left, right)`` from the last two axes.

    Returns a contiguous copy. The slice runs to ``size - bottom``, never to ``-bottom``: with
    ``bottom = 0``, ``x[..., top:-0]`` would be empty.
    """
    top, bottom, left, right = sides
    h = x.shape[-2] - top - bottom
    w = x.shape[-1] - left - right
    return np.ascontiguousarray(x[..., top : top + h, left : left + w])
