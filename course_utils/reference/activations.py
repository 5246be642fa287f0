"""Activation functions (lesson 03, ``03_relu.ipynb``), matching ``torch.nn.functional``."""

from __future__ import annotations

import numpy as np

from course_utils.reference.arguments import as_float_array


def relu(x) -> np.ndarray:
    """Rectified linear unit, elementwise: ``max(0, x)``. Any shape in, the same shape out.

    Negative values become 0, positive values pass unchanged, NaN stays NaN (as in PyTorch).
    float32/float64 are kept; integer and boolean input becomes float64. ``x`` is not modified.
    """
    x = as_float_array(x, "x", "relu")
    return np.where(x < 0, np.zeros((), x.dtype), x)


def softmax(scores, axis: int = -1) -> np.ndarray:
    """Turn scores into probabilities along ``axis``: ``exp(s_i) / sum_j exp(s_j)``.

    Computed as ``exp(s_i - max s)`` so large scores do not overflow; rows sum to 1.
    Same as ``torch.softmax(scores, dim=axis)``.
    """
    scores = as_float_array(scores, "scores", "softmax")
    if scores.ndim == 0:
        raise ValueError("softmax: scores must have at least one dimension, got a scalar")
    shifted = scores - np.max(scores, axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=axis, keepdims=True)


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
