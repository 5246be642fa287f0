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
