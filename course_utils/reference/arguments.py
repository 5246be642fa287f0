"""Checking and normalising the arguments of the reference ops.

Every public op in :mod:`course_utils.reference` runs its arguments through these functions
first, so a bad call fails *here*, with a message that names the function, the argument, what
it got and what it needs -- never with an IndexError from deep inside numpy.
"""

from __future__ import annotations

import numbers

import numpy as np

KEPT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_array(value, name: str, op: str) -> np.ndarray:
    """Return ``value`` as a float ndarray.

    float32 and float64 keep their dtype; integer and boolean input (and other real float
    types such as float16) become float64. Anything else is a ``TypeError`` naming ``name``.
    """
    if value is None:
        raise TypeError(f"{op}: {name} is None; it must be a numeric array")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists, odd objects
        raise TypeError(f"{op}: {name} must be a rectangular numeric array ({error})") from None
    if array.dtype in KEPT_DTYPES:
        return array
    if array.dtype.kind in "biuf":
        return array.astype(np.float64)
    raise TypeError(
        f"{op}: {name} must hold real numbers (float, int or bool), "
        f"got dtype {array.dtype}{' (complex)' if array.dtype.kind == 'c' else ''}"
    )


def check_ndim(array: np.ndarray, name: str, op: str, allowed: dict[int, str]) -> None:
    """Raise ``ValueError`` unless ``array.ndim`` is one of ``allowed`` (ndim -> layout)."""
    if array.ndim not in allowed:
        layouts = " or ".join(f"{ndim}-D {layout}" for ndim, layout in allowed.items())
        raise ValueError(
            f"{op}: {name} must be {layouts}, got a {array.ndim}-D array of shape {array.shape}"
        )


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def int_pair(value, name: str, op: str, minimum: int) -> tuple[int, int]:
    """Normalise an int or a pair of ints to ``(height, width)``, each at least ``minimum``.

    A one-element sequence ``(k,)`` means ``(k, k)``, as in PyTorch.
    """
    if _is_int(value):
        pair = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list, np.ndarray))
        and len(value) in (1, 2)
        and all(_is_int(item) for item in value)
    ):
        pair = (int(value[0]), int(value[-1]))
    else:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        need = "at least 1" if minimum == 1 else f"at least {minimum} (no negative padding)"
        raise ValueError(f"{op}: {name} must be {need}, got {value!r}")
    return pair


def pool_stride(stride, kernel: tuple[int, int], op: str) -> tuple[int, int]:
    """A pooling stride: ``None`` or an empty sequence means the kernel size (as in PyTorch)."""
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return kernel
    return int_pair(stride, "stride", op, minimum=1)


def flag(value, name: str, op: str) -> bool:
    """A switch such as ``ceil_mode``: ``True`` or ``False`` only, as PyTorch requires."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{op}: {name} must be True or False, got {value!r}")


def conv_padding(
    padding, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int], op: str
) -> tuple[int, int, int, int]:
    """Padding as ``(top, bottom, left, right)``.

    ``'valid'`` is no padding. ``'same'`` (stride 1 only, as in PyTorch) pads a total of
    ``dilation * (kernel - 1)`` per axis, half before and the rest after, so an even kernel puts
    the extra row/column at the bottom/right exactly as ``torch.nn.functional.conv2d`` does.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(
                    f"{op}: padding='same' needs stride 1 (as in PyTorch), got stride {stride}"
                )
            total_h = dilation[0] * (kernel[0] - 1)
            total_w = dilation[1] * (kernel[1] - 1)
            return (total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2)
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = int_pair(padding, "padding", op, minimum=0)
    return (ph, ph, pw, pw)


def check_window_fits(
    padded_hw: tuple[int, int],
    kernel: tuple[int, int],
    dilation: tuple[int, int],
    op: str,
    detail: str,
) -> None:
    """Raise ``ValueError`` when the (dilated) kernel is larger than the padded input."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if span[0] > padded_hw[0] or span[1] > padded_hw[1]:
        raise ValueError(
            f"{op}: the kernel covers {span[0]}x{span[1]} pixels (kernel_size {kernel}, "
            f"dilation {dilation}) but the padded input is only {padded_hw[0]}x{padded_hw[1]} "
            f"({detail}); use a smaller kernel or more padding"
        )
