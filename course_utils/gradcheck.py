"""Gradient checking: compare an analytic gradient with a numerical one (lesson 06).

The analytic gradient (what a backward pass computes) is fast but easy to get wrong; the
numerical gradient (nudge one input, see how much the output moves) is slow but hard to get
wrong. If the two agree, the backward pass is right. ``06_backprop_through_conv.ipynb`` shows
the relative errors to expect; the functions follow CS231n's ``gradient_check.py``.

Rules of thumb for :func:`rel_error` in float64 with ``eps = 1e-6``:

* below ``1e-7``: the gradient is right;
* ``1e-7`` to ``1e-4``: suspicious, unless the function has kinks (ReLU at 0, max pooling
  with a near-tie) close to the point being checked;
* above ``1e-4``, and especially near 1: a bug.
"""

from __future__ import annotations

import numpy as np


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6, grad_out=None) -> np.ndarray:
    """Central-difference gradient of ``f`` at ``x``: ``(f(x + eps) - f(x - eps)) / (2 eps)``.

    Shapes: ``x`` any shape (a float64 ndarray); the result has the shape of ``x``.

    Two conventions for ``f``:

    * ``grad_out=None``: ``f(x)`` returns a scalar (a loss). The result is ``df/dx``.
    * ``grad_out`` given: ``f(x)`` returns an array of ``grad_out``'s shape (a layer's output)
      and the result is the gradient of ``sum(f(x) * grad_out)`` -- exactly what a layer's
      backward pass computes when ``grad_out`` arrives from above.

    ``x`` is changed *in place*, one element at a time, and put back exactly after each
    evaluation, so ``f`` may ignore its argument and read ``x`` from a closure (handy when
    checking the gradient of a weight: ``numerical_gradient(lambda _: loss(x, w), w)``).
    That is why ``x`` must already be a float64 array: a converted copy would not be the array
    ``f`` reads. Costs ``2 * x.size`` calls of ``f``: use small inputs.
    """
    op = "numerical_gradient"
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = type(x).__name__ if not isinstance(x, np.ndarray) else f"an array of {x.dtype}"
        raise TypeError(
            f"{op}: x must be a float64 numpy array (it is nudged in place), got {got}; "
            f"pass np.asarray(x, dtype=np.float64) and use that array inside f"
        )
    if not eps > 0:
        raise ValueError(f"{op}: eps must be positive, got {eps!r}")
    if grad_out is not None:
        grad_out = np.asarray(grad_out, dtype=np.float64)

    def value():
        out = np.asarray(f(x), dtype=np.float64)
        if grad_out is None:
            if out.size != 1:
                raise ValueError(
                    f"{op}: f returned an array of shape {out.shape}, not a scalar; return a "
                    f"loss, or pass grad_out to check sum(f(x) * grad_out)"
                )
            return out.reshape(())
        if out.shape != grad_out.shape:
            raise ValueError(
                f"{op}: f returned shape {out.shape} but grad_out has shape {grad_out.shape}"
            )
        return out

    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = value()
        x[index] = original - eps
        minus = value()
        x[index] = original
        # Subtract before weighting (as CS231n does): outputs that did not move cancel exactly
        # instead of adding their round-off to a large sum.
        change = plus - minus if grad_out is None else np.sum((plus - minus) * grad_out)
        grad[index] = change / (2 * eps)
    return grad


def rel_error(a, b) -> float:
    """CS231n's scale-free relative error: ``max |a - b| / max(1e-8, |a| + |b|)`` (elementwise).

    ``a`` and ``b`` have the same shape (or broadcast). 0 when equal (or empty), at most 1; the
    ``1e-8`` keeps two near-zero entries from counting as very different.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"rel_error: a has shape {a.shape} but b has shape {b.shape}") from None
    if a.size == 0 or b.size == 0:
        return 0.0  # nothing to differ
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
