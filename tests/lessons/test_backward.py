"""The reference backward passes equal torch.autograd, pass gradient checks and fail clearly.

Float64 throughout, compared with ``rtol=1e-10`` (plus an ``atol`` far below any real error, for
entries that cancel to ~1e-16). Max pooling is tested on tie-heavy integer inputs with integer
``grad_out``, where every sum is exact: there the comparison with PyTorch is *equality*, so a
gradient routed to the wrong one of two equal maxima cannot hide.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from course_utils.gradcheck import numerical_gradient, rel_error
from course_utils.reference import (
    avg_pool2d,
    avg_pool2d_backward,
    conv2d,
    conv2d_backward,
    max_pool2d,
    max_pool2d_backward,
    pad,
    relu,
    relu_backward,
)

RTOL, ATOL = 1e-10, 1e-12
# course_utils.gradcheck's rule of thumb: below 1e-7 in float64 the analytic gradient is right.
GRADCHECK = 1e-7


def assert_close(mine, theirs, what: str):
    np.testing.assert_allclose(mine, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def torch_grads(forward, inputs, grad_out):
    """Run ``forward(*tensors)`` with autograd and return every input's gradient as numpy."""
    tensors = [torch.tensor(value, requires_grad=True) for value in inputs]
    out = forward(*tensors)
    out.backward(torch.as_tensor(grad_out))
    return [t.grad.numpy() for t in tensors]


def seeded(seed):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------------------------------
# conv2d_backward
# ------------------------------------------------------------------------------------------


@st.composite
def conv_cases(draw):
    """A conv2d call whose kernel fits: shapes, stride, padding, dilation all pairs."""
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    hw = tuple(
        max(1, dilation[a] * (kernel[a] - 1) + 1 - 2 * padding[a]) + draw(st.integers(0, 5))
        for a in range(2)
    )
    return (n, c, *hw), (f, c, *kernel), stride, padding, dilation, draw(st.integers(0, 2**32 - 1))


@given(conv_cases())
def test_conv2d_backward_equals_torch_autograd(case):
    x_shape, w_shape, stride, padding, dilation, seed = case
    rng = seeded(seed)
    x, weight, bias = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    out_shape = conv2d(x, weight, bias, stride, padding, dilation).shape
    grad_out = rng.standard_normal(out_shape)
    expected = torch_grads(
        lambda xt, wt, bt: F.conv2d(xt, wt, bt, stride=stride, padding=padding, dilation=dilation),
        [x, weight, bias], grad_out,
    )
    got = conv2d_backward(grad_out, x, weight, stride, padding, dilation)
    for name, mine, theirs in zip(("grad_x", "grad_weight", "grad_bias"), got, expected):
        assert mine.shape == theirs.shape, name
        assert_close(mine, theirs, name)


@given(st.sampled_from(["same", "valid"]), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 2), st.integers(0, 2**32 - 1))
def test_conv2d_backward_accepts_same_and_valid_padding(padding, kh, kw, dilation, seed):
    rng = seeded(seed)
    x, weight = rng.standard_normal((2, 2, 9, 8)), rng.standard_normal((3, 2, kh, kw))
    grad_out = rng.standard_normal(conv2d(x, weight, padding=padding, dilation=dilation).shape)
    expected = torch_grads(lambda xt, wt: F.conv2d(xt, wt, padding=padding, dilation=dilation),
                           [x, weight], grad_out)
    grad_x, grad_weight, _ = conv2d_backward(grad_out, x, weight, padding=padding, dilation=dilation)
    assert_close(grad_x, expected[0], "grad_x")
    assert_close(grad_weight, expected[1], "grad_weight")


def test_conv2d_backward_follows_the_unbatched_and_plain_image_layouts():
    rng = seeded(1)
    x, weight = rng.standard_normal((2, 7, 6)), rng.standard_normal((3, 2, 3, 3))
    grad_out = rng.standard_normal((3, 4, 3))
    batched = conv2d_backward(grad_out[None], x[None], weight, stride=2, padding=1)
    unbatched = conv2d_backward(grad_out, x, weight, stride=2, padding=1)
    np.testing.assert_array_equal(unbatched[0], batched[0][0])
    np.testing.assert_array_equal(unbatched[1], batched[1])
    np.testing.assert_array_equal(unbatched[2], batched[2])

    image, kernel, grad_image = rng.standard_normal((5, 6)), rng.standard_normal((2, 3)), rng.standard_normal((4, 4))
    grad_x, grad_weight, grad_bias = conv2d_backward(grad_image, image, kernel)
    full = conv2d_backward(grad_image[None, None], image[None, None], kernel[None, None])
    assert grad_x.shape == (5, 6) and grad_weight.shape == (2, 3) and grad_bias.shape == ()
    np.testing.assert_array_equal(grad_x, full[0][0, 0])
    np.testing.assert_array_equal(grad_weight, full[1][0, 0])
    assert grad_bias == full[2][0]


def test_conv2d_backward_keeps_float32():
    rng = seeded(2)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    weight = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    grad_out = rng.standard_normal((2, 4, 4, 4)).astype(np.float32)
    got = conv2d_backward(grad_out, x, weight)
    expected = torch_grads(lambda xt, wt: F.conv2d(xt, wt), [x, weight], grad_out)
    assert all(part.dtype == np.float32 for part in got)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=1e-5)


def test_grad_weight_is_the_cross_correlation_of_the_input_with_grad_out():
    """Lesson 06's first identity (stride 1, no padding, one channel)."""
    rng = seeded(3)
    image, kernel = rng.standard_normal((7, 6)), rng.standard_normal((3, 2))
    grad_out = rng.standard_normal((5, 5))
    _, grad_weight, _ = conv2d_backward(grad_out, image, kernel)
    assert_close(grad_weight, conv2d(image, grad_out), "grad_weight vs conv2d(x, grad_out)")


def test_grad_x_is_the_full_convolution_of_grad_out_with_the_flipped_kernel():
    """Lesson 06's second identity: pad grad_out by k-1, cross-correlate with the kernel rotated 180 degrees."""
    rng = seeded(4)
    image, kernel = rng.standard_normal((7, 6)), rng.standard_normal((3, 3))
    grad_out = rng.standard_normal((5, 4))
    grad_x, _, _ = conv2d_backward(grad_out, image, kernel)
    assert_close(grad_x, conv2d(pad(grad_out, 2), kernel[::-1, ::-1]), "grad_x vs full convolution")


def test_stride_becomes_zeros_between_grad_out_cells_and_padding_is_cropped():
    """Lesson 06: with stride s, grad_x is the full convolution of grad_out with s-1 zeros
    inserted between its cells; with padding p, the outer p rows/columns are cut off."""
    rng = seeded(5)
    image, kernel = rng.standard_normal((8, 8)), rng.standard_normal((3, 3))
    stride, padding = 2, 1
    grad_out = rng.standard_normal(conv2d(image, kernel, stride=stride, padding=padding).shape)
    grad_x, grad_weight, _ = conv2d_backward(grad_out, image, kernel, stride=stride, padding=padding)
    spread = np.zeros((stride * (grad_out.shape[0] - 1) + 1,) * 2)
    spread[::stride, ::stride] = grad_out
    full = conv2d(pad(spread, 2), kernel[::-1, ::-1])  # gradient w.r.t. the padded input (rows that fit)
    expected = np.zeros((10, 10))
    expected[: full.shape[0], : full.shape[1]] = full
    assert_close(grad_x, expected[1:-1, 1:-1], "grad_x with stride and padding")
    # ... and grad_weight is the padded input cross-correlated with grad_out *dilated* by the stride.
    assert_close(grad_weight, conv2d(pad(image, padding), grad_out, dilation=stride)[:3, :3],
                 "grad_weight with stride")


def test_conv2d_backward_passes_a_numerical_gradient_check():
    rng = seeded(6)
    x, weight = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    bias, grad_out = rng.standard_normal(3), rng.standard_normal((2, 3, 3, 3))
    args = dict(stride=2, padding=1, dilation=1)

    def forward(_):  # reads x, weight and bias, whichever numerical_gradient is nudging
        return conv2d(x, weight, bias, **args)

    analytic = conv2d_backward(grad_out, x, weight, **args)
    for name, value, grad in zip(("x", "weight", "bias"), (x, weight, bias), analytic):
        numerical = numerical_gradient(forward, value, grad_out=grad_out)
        assert rel_error(grad, numerical) < GRADCHECK, name


# ------------------------------------------------------------------------------------------
# relu_backward
# ------------------------------------------------------------------------------------------


@given(st.lists(st.sampled_from([-2.0, -0.0, 0.0, 0.5, 3.0, np.nan, np.inf, -np.inf]),
                min_size=1, max_size=12),
       st.integers(0, 2**32 - 1))
def test_relu_backward_equals_torch_including_zero_and_nan(values, seed):
    x = np.array(values)
    grad_out = seeded(seed).standard_normal(x.shape)
    grad_out[::3] = np.nan  # a NaN arriving at a closed gate stays out, as in PyTorch
    (expected,) = torch_grads(torch.relu, [x], grad_out)
    np.testing.assert_array_equal(relu_backward(grad_out, x), expected)


def test_relu_backward_gates_the_gradient():
    x = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 1e-9]])
    grad_out = np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    np.testing.assert_array_equal(relu_backward(grad_out, x), [[0, 0, 30], [40, 0, 60]])
    # Away from the kink at 0 the numerical gradient agrees (at 0 it would give the average slope 1/2).
    smooth = np.array([[-1.0, 0.25, 2.0], [3.0, -0.5, 0.1]])
    assert rel_error(relu_backward(grad_out, smooth),
                     numerical_gradient(lambda _: relu(smooth), smooth, grad_out=grad_out)) < GRADCHECK


# ------------------------------------------------------------------------------------------
# max_pool2d_backward
# ------------------------------------------------------------------------------------------


@st.composite
def pool_cases(draw, max_dilation=1):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    hw = tuple(max(1, span[a] - 2 * padding[a]) + draw(st.integers(0, 5)) for a in range(2))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *hw)
    return shape, kernel, stride, padding, dilation, draw(st.integers(0, 2**32 - 1))


@given(pool_cases(max_dilation=2), st.integers(2, 4), st.floats(0, 0.3), st.floats(0, 0.5))
def test_max_pool2d_backward_equals_torch_on_tie_heavy_input(case, levels, nan_share, ninf_share):
    """Integers from a few levels tie all the time; NaN and -inf test PyTorch's special cases."""
    shape, kernel, stride, padding, dilation, seed = case
    rng = seeded(seed)
    x = rng.integers(0, levels, shape).astype(np.float64)
    x[rng.random(shape) < ninf_share] = -np.inf
    x[rng.random(shape) < nan_share] = np.nan
    out_shape = max_pool2d(x, kernel, stride, padding, dilation).shape
    grad_out = rng.integers(-9, 10, out_shape).astype(np.float64)  # sums of integers are exact
    (expected,) = torch_grads(
        lambda xt: F.max_pool2d(xt, kernel, stride, padding, dilation), [x], grad_out
    )
    np.testing.assert_array_equal(max_pool2d_backward(grad_out, x, kernel, stride, padding, dilation),
                                  expected)


@given(pool_cases(max_dilation=2))
def test_max_pool2d_backward_equals_torch_on_random_input(case):
    shape, kernel, stride, padding, dilation, seed = case
    rng = seeded(seed)
    x = rng.standard_normal(shape)
    grad_out = rng.standard_normal(max_pool2d(x, kernel, stride, padding, dilation).shape)
    (expected,) = torch_grads(lambda xt: F.max_pool2d(xt, kernel, stride, padding, dilation), [x], grad_out)
    assert_close(max_pool2d_backward(grad_out, x, kernel, stride, padding, dilation), expected, "grad_x")


def test_max_pool2d_backward_routes_to_the_first_maximum_on_a_tie():
    x = np.array([[1.0, 5.0, 2.0, 2.0],
                  [5.0, 0.0, 2.0, 2.0],
                  [7.0, 7.0, 0.0, 0.0],
                  [7.0, 7.0, 0.0, 0.0]])
    grad_out = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = np.array([[0, 1, 2, 0],
                         [0, 0, 0, 0],
                         [3, 0, 4, 0],
                         [0, 0, 0, 0]])
    np.testing.assert_array_equal(max_pool2d_backward(grad_out, x, 2), expected)


def test_max_pool2d_backward_adds_up_where_windows_overlap():
    x = np.array([[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]])
    # Kernel 2, stride 1: all four windows share the centre, which wins each of them.
    got = max_pool2d_backward(np.array([[1.0, 2.0], [3.0, 4.0]]), x, 2, stride=1)
    np.testing.assert_array_equal(got, [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


def test_max_pool2d_backward_passes_a_numerical_gradient_check():
    x = seeded(7).permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) / 10.0  # distinct: no near-ties
    grad_out = seeded(8).standard_normal((2, 3, 3, 3))
    numerical = numerical_gradient(lambda _: max_pool2d(x, 3, 2, 1), x, grad_out=grad_out)
    assert rel_error(max_pool2d_backward(grad_out, x, 3, 2, 1), numerical) < GRADCHECK


# ------------------------------------------------------------------------------------------
# avg_pool2d_backward
# ------------------------------------------------------------------------------------------


@given(pool_cases())
def test_avg_pool2d_backward_equals_torch_autograd(case):
    shape, kernel, stride, padding, _, seed = case
    rng = seeded(seed)
    x = rng.standard_normal(shape)
    grad_out = rng.standard_normal(avg_pool2d(x, kernel, stride, padding).shape)
    (expected,) = torch_grads(lambda xt: F.avg_pool2d(xt, kernel, stride, padding), [x], grad_out)
    assert_close(avg_pool2d_backward(grad_out, x, kernel, stride, padding), expected, "grad_x")


def test_avg_pool2d_backward_spreads_evenly_and_follows_the_layout():
    grad = avg_pool2d_backward(np.array([[4.0, 8.0]]), np.zeros((2, 4)), 2)
    np.testing.assert_array_equal(grad, [[1, 1, 2, 2], [1, 1, 2, 2]])
    x = seeded(9).standard_normal((3, 5, 5))
    grad_out = seeded(10).standard_normal((3, 3, 3))
    numerical = numerical_gradient(lambda _: avg_pool2d(x, 3, 2, 1), x, grad_out=grad_out)
    assert rel_error(avg_pool2d_backward(grad_out, x, 3, 2, 1), numerical) < GRADCHECK


# ------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------


def test_a_grad_out_of_the_wrong_shape_is_named_with_the_shape_it_needs():
    x, weight = np.zeros((2, 3, 6, 6)), np.zeros((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d_backward: grad_out has shape \(2, 4, 6, 6\) "
                                         r"but conv2d's output has shape \(2, 4, 4, 4\)"):
        conv2d_backward(np.zeros((2, 4, 6, 6)), x, weight)
    with pytest.raises(ValueError, match=r"max_pool2d_backward: grad_out has shape \(2, 3, 6, 6\) "
                                         r"but max_pool2d's output has shape \(2, 3, 3, 3\)"):
        max_pool2d_backward(np.zeros((2, 3, 6, 6)), x, 2)
    with pytest.raises(ValueError, match=r"avg_pool2d's output has shape \(2, 3, 2, 2\)"):
        avg_pool2d_backward(np.zeros((2, 3, 3, 3)), x, 3)
    with pytest.raises(ValueError, match=r"relu_backward: grad_out has shape \(3,\) but relu's "
                                         r"output has shape \(2, 3, 6, 6\)"):
        relu_backward(np.zeros(3), x)


def test_bad_input_gets_the_forward_ops_errors():
    x = np.zeros((2, 3, 6, 6))
    with pytest.raises(ValueError, match="conv2d_backward: input has 3 channels but weight expects 1"):
        conv2d_backward(np.zeros((2, 4, 4, 4)), x, np.zeros((4, 1, 3, 3)))
    with pytest.raises(ValueError, match="conv2d_backward: x must be 4-D"):
        conv2d_backward(np.zeros((1,)), np.zeros(6), np.zeros((1, 1, 1, 1)))
    with pytest.raises(ValueError, match="conv2d_backward: padding='same' needs stride 1"):
        conv2d_backward(np.zeros((2, 4, 3, 3)), x, np.zeros((4, 3, 3, 3)), stride=2, padding="same")
    with pytest.raises(ValueError, match="conv2d_backward: the kernel covers 7x7 pixels"):
        conv2d_backward(np.zeros((2, 4, 1, 1)), x, np.zeros((4, 3, 7, 7)))
    with pytest.raises(TypeError, match="conv2d_backward: stride must be an int or a pair"):
        conv2d_backward(np.zeros((2, 4, 4, 4)), x, np.zeros((4, 3, 3, 3)), stride=1.5)
    with pytest.raises(ValueError, match="max_pool2d_backward: padding must be at most half the kernel"):
        max_pool2d_backward(np.zeros((2, 3, 4, 4)), x, 2, padding=2)
    with pytest.raises(ValueError, match="avg_pool2d_backward: x must not be empty"):
        avg_pool2d_backward(np.zeros((0,)), np.zeros((0, 4)), 2)
    with pytest.raises(TypeError, match="relu_backward: grad_out must hold real numbers"):
        relu_backward(np.array(["a"]), np.zeros(1))
    with pytest.raises(TypeError, match="max_pool2d_backward: x is None"):
        max_pool2d_backward(np.zeros((1, 1)), None, 2)
