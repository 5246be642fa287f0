"""Activation functions (lesson 03, ``03_relu.ipynb``), matching ``torch.nn.functional``."""

from __future__ import annotations

import numpy as np

from course_utils.reference.arguments import KEPT_DTYPES, _is_int, as_float_array


def relu(x) -> np.ndarray:
    """Rectified linear unit, elementwise: ``max(0, x)``. Any shape in, the same shape out.

    Negative values become 0, positive values pass unchanged, NaN stays NaN (as in PyTorch).
    float32/float64 are kept; integer and boolean input becomes float64. ``x`` is not modified.
    """
    x = as_float_array(x, "x", "relu")
    return np.where(x < 0, np.zeros((), x.dtype), x)


def softmax(scores, axis: int = -1, *, dim=None, dtype=None) -> np.ndarray:
    """Turn scores into probabilities along ``axis``: ``exp(s_i) / sum_j exp(s_j)``.

    Computed as ``exp(s_i - max s)`` so large scores do not overflow; every slice along ``axis``
    sums to 1. Same as ``torch.softmax(scores, dim=axis, dtype=dtype)``:

    * ``axis`` (or PyTorch's name, ``dim=``) may be negative, counting from the end; it must be
      in ``[-ndim, ndim - 1]``, and a 0-d ``scores`` is treated as one value (``axis`` 0 or -1;
      the result is 1.0, or NaN for an infinite or NaN score);
    * empty ``scores`` give an empty result of the same shape;
    * ``dtype`` (``np.float32`` or ``np.float64``) casts the scores before computing, so the
      result has that dtype; by default float32/float64 are kept and integers become float64.
    """
    op = "softmax"
    if dim is not None:
        if axis != -1:
            raise TypeError(f"{op}: got both axis={axis!r} and dim={dim!r}; they are the same "
                            f"argument (dim is PyTorch's name), give one")
        axis = dim
    scores = as_float_array(scores, "scores", op)
    if dtype is not None:
        try:
            wanted = np.dtype(dtype)
        except TypeError:
            wanted = None
        if wanted not in KEPT_DTYPES:
            raise TypeError(
                f"{op}: dtype must be np.float32 or np.float64 (or None), got {dtype!r}"
            )
        scores = scores.astype(wanted)
    if not _is_int(axis):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    rank = max(scores.ndim, 1)
    if not -rank <= axis < rank:
        raise np.exceptions.AxisError(
            f"{op}: axis must be in [{-rank}, {rank - 1}] for scores of shape {scores.shape}, "
            f"got {axis}"
        )
    if scores.size == 0:
        return scores.copy()
    values = scores.reshape(1) if scores.ndim == 0 else scores
    with np.errstate(invalid="ignore"):  # inf - inf is NaN, silently, as in PyTorch
        shifted = values - np.max(values, axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return (exps / np.sum(exps, axis=axis, keepdims=True)).reshape(scores.shape)


def leaky_relu(x, negative_slope: float = 0.01) -> np.ndarray:
    """``x`` where ``x > 0``, ``negative_slope * x`` elsewhere (``torch.nn.functional.leaky_relu``).

    Any shape in, the same shape out; float32/float64 kept, integer and boolean input become
    float64.
    """
    x = as_float_array(x, "x", "leaky_relu")
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def sigmoid(x) -> np.ndarray:
    """``1 / (1 + exp(-x))`` elementwise, squashing every number into (0, 1) (``torch.sigmoid``)."""
    x = as_float_array(x, "x", "sigmoid")
    return 1 / (1 + np.exp(-x))


def tanh(x) -> np.ndarray:
    """``(exp(x) - exp(-x)) / (exp(x) + exp(-x))`` elementwise, into (-1, 1) (``torch.tanh``)."""
    return np.tanh(as_float_array(x, "x", "tanh"))


#: The activations lesson 03 compares, by the name its explorer shows.
ACTIVATION_NAMES = ("ReLU", "leaky ReLU", "sigmoid", "tanh", "none")


def activation(name: str, x, slope: float = 0.1) -> np.ndarray:
    """Apply the activation called ``name`` (one of ``ACTIVATION_NAMES``) elementwise.

    ``slope`` is leaky ReLU's negative slope; ``"none"`` returns ``x`` as floats.
    """
    if name == "ReLU":
        return relu(x)
    if name == "leaky ReLU":
        return leaky_relu(x, slope)
    if name == "sigmoid":
        return sigmoid(x)
    if name == "tanh":
        return tanh(x)
    if name == "none":
        return as_float_array(x, "x", "activation")
    raise ValueError(f"activation: unknown name {name!r}; choose one of {', '.join(ACTIVATION_NAMES)}")
