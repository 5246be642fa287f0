"""numerical_gradient and rel_error: right on known functions, catch a wrong gradient, fail clearly."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.gradcheck import numerical_gradient, rel_error
from course_utils.reference import conv2d, conv2d_backward, pad


def test_numerical_gradient_of_a_scalar_function_matches_calculus():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda v: np.sum(v**3) + np.sin(v[0, 0]), x)
    expected = 3 * x**2
    expected[0, 0] += np.cos(1.0)
    assert rel_error(grad, expected) < 1e-9


def test_with_grad_out_it_is_the_gradient_of_the_weighted_sum_of_outputs():
    x = np.array([1.0, 2.0, 3.0])
    grad_out = np.array([[1.0, 10.0, 100.0], [-1.0, 0.5, 2.0]])
    # f(x)[k, i] = x_i ** 2 * (k + 1); d/dx_i sum_k grad_out[k, i] * f[k, i] = 2 x_i sum_k (k+1) grad_out[k, i]
    grad = numerical_gradient(lambda v: np.stack([v**2, 2 * v**2]), x, grad_out=grad_out)
    expected = 2 * x * (grad_out[0] + 2 * grad_out[1])
    assert rel_error(grad, expected) < 1e-9


def test_x_is_nudged_in_place_so_closures_see_it_and_is_restored_bit_for_bit():
    weight = np.array([0.1, 0.2, 0.30000000000000004])
    before = weight.copy()
    x = np.array([1.0, -1.0, 2.0])
    grad = numerical_gradient(lambda _: float(np.dot(x, weight) ** 2), weight)  # ignores its argument
    assert rel_error(grad, 2 * np.dot(x, before) * x) < 1e-9
    np.testing.assert_array_equal(weight, before)
    assert weight.tobytes() == before.tobytes()


def test_a_correct_backward_pass_scores_tiny_and_a_classic_bug_scores_near_one():
    """What lesson 06 shows: the right grad_x of a convolution, and one that forgot the flip."""
    rng = np.random.default_rng(0)
    image, kernel = rng.standard_normal((6, 6)), rng.standard_normal((3, 3))
    grad_out = rng.standard_normal((4, 4))
    numerical = numerical_gradient(lambda _: conv2d(image, kernel), image, grad_out=grad_out)
    right, _, _ = conv2d_backward(grad_out, image, kernel)
    unflipped = conv2d(pad(grad_out, 2), kernel)  # the bug: full correlation, kernel not flipped
    assert rel_error(right, numerical) < 1e-8
    assert rel_error(unflipped, numerical) > 0.5


def test_rel_error_follows_the_cs231n_definition():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert rel_error([1.0, -1.0], [-1.0, 1.0]) == 1.0  # opposite signs: the worst possible
    # Near zero the 1e-8 floor applies: 1e-12 and 3e-12 are "the same" (2e-12 / 1e-8).
    assert rel_error([1e-12], [3e-12]) == pytest.approx(2e-4)
    # The maximum over elements, not an average: one bad entry is enough.
    assert rel_error(np.ones(100), np.r_[np.ones(99), 2.0]) == pytest.approx(1 / 3)


def test_errors_say_what_to_do():
    with pytest.raises(TypeError, match="x must be a float64 numpy array .* got list"):
        numerical_gradient(lambda v: 0.0, [1.0, 2.0])
    with pytest.raises(TypeError, match="got an array of int64"):
        numerical_gradient(lambda v: 0.0, np.array([1, 2]))
    with pytest.raises(ValueError, match=r"f returned an array of shape \(2,\), not a scalar; .* grad_out"):
        numerical_gradient(lambda v: v * 2, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"f returned shape \(2,\) but grad_out has shape \(3,\)"):
        numerical_gradient(lambda v: v * 2, np.array([1.0, 2.0]), grad_out=np.ones(3))
    with pytest.raises(ValueError, match="eps must be positive"):
        numerical_gradient(lambda v: 0.0, np.array([1.0]), eps=0)
    with pytest.raises(ValueError, match=r"rel_error: a has shape \(2,\) but b has shape \(3,\)"):
        rel_error(np.ones(2), np.ones(3))
