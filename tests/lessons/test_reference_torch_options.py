"""The reference's PyTorch options equal torch on random cases: groups, ceil_mode, indices, unpooling,
count_include_pad, divisor_override, softmax's dim/dtype/empty input, output_size's ceil mode.

Where PyTorch refuses a random case (a ceil-mode window that cannot start inside the input, an
unpooling index outside the output), the reference must refuse it too, with a ValueError.
Float64 to 1e-10 as in ``test_reference_vs_torch.py``; max pooling's values, indices and
gradients on tie-heavy integer input are compared for *equality*.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from course_utils import reference

RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The cases are tiny: a second thread only adds waiting (badly, on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def assert_same(ours: np.ndarray, theirs: torch.Tensor, what: str = ""):
    theirs = theirs.detach().numpy()
    assert isinstance(ours, np.ndarray), what
    assert ours.shape == theirs.shape, f"{what} shape {ours.shape}, torch {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{what} dtype {ours.dtype}, torch {theirs.dtype}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def torch_grads(forward, inputs, grad_out):
    """Run ``forward(*tensors)`` with autograd and return every input's gradient as numpy."""
    tensors = [torch.tensor(value, requires_grad=True) for value in inputs]
    out = forward(*tensors)
    out = out[0] if isinstance(out, tuple) else out
    out.backward(torch.as_tensor(grad_out))
    return [t.grad for t in tensors]


def torch_or_none(call):
    """PyTorch's answer, or None where PyTorch refuses the call."""
    try:
        return call()
    except (RuntimeError, ValueError):
        return None


def unbatch(draw, x: np.ndarray) -> np.ndarray:
    """Sometimes drop the batch axis: (1, C, H, W) -> (C, H, W), as PyTorch's unbatched input."""
    return x[0] if x.shape[0] == 1 and draw(st.booleans()) else x


# ------------------------------------------------------------------------------------------
# conv2d(groups=...)
# ------------------------------------------------------------------------------------------


@st.composite
def grouped_conv_cases(draw):
    groups = draw(st.integers(1, 4))
    c, f = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)),
                             st.sampled_from(["valid", "same"])))
    stride = (1, 1) if padding == "same" else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad_hw = (0, 0) if padding == "valid" else (9, 9) if padding == "same" else padding
    hw = tuple(max(1, dilation[a] * (kernel[a] - 1) + 1 - 2 * pad_hw[a]) + draw(st.integers(0, 5))
               for a in range(2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = unbatch(draw, rng.standard_normal((draw(st.integers(1, 3)), c, *hw)))
    weight = rng.standard_normal((f, c // groups, *kernel))
    bias = rng.standard_normal(f) if draw(st.booleans()) else None
    return x, weight, bias, stride, padding, dilation, groups


@pytest.mark.parametrize("implementation", [reference.conv2d, reference.conv2d_naive],
                         ids=["conv2d", "conv2d_naive"])
@given(case=grouped_conv_cases())
def test_grouped_conv2d_equals_torch(implementation, case):
    x, weight, bias, stride, padding, dilation, groups = case
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(weight),
                        None if bias is None else torch.from_numpy(bias), stride, padding,
                        dilation, groups)
    assert_same(implementation(x, weight, bias, stride, padding, dilation, groups), expected)


@given(case=grouped_conv_cases(), seed=st.integers(0, 2**32 - 1))
def test_grouped_conv2d_backward_equals_torch_autograd(case, seed):
    x, weight, _, stride, padding, dilation, groups = case
    bias = np.random.default_rng(seed).standard_normal(weight.shape[0])
    out_shape = reference.conv2d(x, weight, bias, stride, padding, dilation, groups).shape
    grad_out = np.random.default_rng(seed).standard_normal(out_shape)
    expected = torch_grads(
        lambda xt, wt, bt: F.conv2d(xt, wt, bt, stride, padding, dilation, groups),
        [x, weight, bias], grad_out,
    )
    got = reference.conv2d_backward(grad_out, x, weight, stride, padding, dilation, groups)
    for name, mine, theirs in zip(("grad_x", "grad_weight", "grad_bias"), got, expected):
        assert_same(mine, theirs, name)


def test_depthwise_conv2d_convolves_each_channel_with_its_own_filter():
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((3, 1, 3, 3))
    out = reference.conv2d(x, weight, padding=1, groups=3)
    for channel in range(3):
        np.testing.assert_allclose(
            out[:, channel], reference.conv2d(x[:, channel:channel + 1], weight[channel:channel + 1],
                                              padding=1)[:, 0], rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------------------------------
# pooling: ceil_mode, return_indices, count_include_pad, divisor_override
# ------------------------------------------------------------------------------------------


@st.composite
def pool_cases(draw, dilated: bool):
    """Any pooling call whose padding PyTorch allows; the input may be smaller than the kernel
    (ceil mode sometimes accepts that), the stride may be None or ``()`` (both: the kernel)."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.just(()), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    hw = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *hw)
    # Small integers make ties common; NaN and -inf exercise PyTorch's special cases.
    if draw(st.booleans()):
        x = rng.integers(0, draw(st.integers(2, 4)), shape).astype(np.float64)
        x[rng.random(shape) < draw(st.sampled_from([0.0, 0.3]))] = -np.inf
        x[rng.random(shape) < draw(st.sampled_from([0.0, 0.1]))] = np.nan
    else:
        x = rng.standard_normal(shape)
    return unbatch(draw, x), kernel, stride, padding, dilation, draw(st.booleans())


def assert_equal_with_nan(ours: np.ndarray, theirs: torch.Tensor, what: str):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, what
    np.testing.assert_array_equal(ours, theirs, err_msg=what)


@given(case=pool_cases(dilated=True))
def test_max_pool2d_values_and_indices_equal_torch_in_floor_and_ceil_mode(case):
    x, kernel, stride, padding, dilation, ceil_mode = case
    expected = torch_or_none(lambda: F.max_pool2d(torch.from_numpy(x), kernel, stride, padding,
                                                  dilation, ceil_mode, return_indices=True))
    if expected is None:
        with pytest.raises(ValueError, match="max_pool2d: the kernel covers"):
            reference.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
        return
    out, indices = reference.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode,
                                        return_indices=True)
    assert_equal_with_nan(out, expected[0], "values")
    assert_equal_with_nan(indices, expected[1], "indices")
    assert_equal_with_nan(reference.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode),
                          expected[0], "values without indices")


@given(case=pool_cases(dilated=True), seed=st.integers(0, 2**32 - 1))
def test_max_pool2d_backward_equals_torch_in_ceil_mode(case, seed):
    x, kernel, stride, padding, dilation, ceil_mode = case
    assume(torch_or_none(lambda: F.max_pool2d(torch.from_numpy(x), kernel, stride, padding,
                                              dilation, ceil_mode)) is not None)
    # Not a dilated window whose taps all miss the input: PyTorch routes its gradient to a pixel
    # outside the window (a bug; the reference drops it, see max_pool2d_backward).
    assume(np.isfinite(reference.max_pool2d(np.ones_like(x), kernel, stride, padding, dilation,
                                            ceil_mode)).all())
    out_shape = reference.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode).shape
    grad_out = np.random.default_rng(seed).integers(-9, 10, out_shape).astype(np.float64)
    (expected,) = torch_grads(
        lambda xt: F.max_pool2d(xt, kernel, stride, padding, dilation, ceil_mode), [x], grad_out
    )
    got = reference.max_pool2d_backward(grad_out, x, kernel, stride, padding, dilation, ceil_mode)
    assert_equal_with_nan(got, expected, "grad_x")  # integers: every sum is exact


@st.composite
def avg_options(draw):
    divisor = draw(st.one_of(st.none(), st.integers(-5, 5).filter(lambda d: d != 0)))
    return draw(st.booleans()), divisor


@given(case=pool_cases(dilated=False), options=avg_options())
def test_avg_pool2d_equals_torch_with_every_option(case, options):
    x, kernel, stride, padding, _, ceil_mode = case
    x = np.nan_to_num(x, nan=0.5, neginf=-2.0)
    count_include_pad, divisor_override = options
    expected = torch_or_none(lambda: F.avg_pool2d(torch.from_numpy(x), kernel, stride, padding,
                                                  ceil_mode, count_include_pad, divisor_override))
    if expected is None:
        with pytest.raises(ValueError, match="avg_pool2d: the kernel covers"):
            reference.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad,
                                 divisor_override)
        return
    assert_same(reference.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad,
                                     divisor_override), expected)


@given(case=pool_cases(dilated=False), options=avg_options(), seed=st.integers(0, 2**32 - 1))
def test_avg_pool2d_backward_equals_torch_with_every_option(case, options, seed):
    x, kernel, stride, padding, _, ceil_mode = case
    x = np.nan_to_num(x, nan=0.5, neginf=-2.0)
    count_include_pad, divisor_override = options
    args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    assume(torch_or_none(lambda: F.avg_pool2d(torch.from_numpy(x), *args)) is not None)
    grad_out = np.random.default_rng(seed).standard_normal(reference.avg_pool2d(x, *args).shape)
    (expected,) = torch_grads(lambda xt: F.avg_pool2d(xt, *args), [x], grad_out)
    assert_same(reference.avg_pool2d_backward(grad_out, x, *args), expected, "grad_x")


def test_ceil_mode_keeps_a_last_window_that_hangs_over_and_divides_by_what_it_covers():
    x = np.arange(1.0, 6.0).reshape(1, 5)  # one row: 1 2 3 4 5
    assert reference.max_pool2d(x, (1, 2)).tolist() == [[2, 4]]  # floor: the 5 is dropped
    assert reference.max_pool2d(x, (1, 2), ceil_mode=True).tolist() == [[2, 4, 5]]
    # The last window holds only the 5: average 5, not (5 + 0) / 2 ...
    assert reference.avg_pool2d(x, (1, 2), ceil_mode=True).tolist() == [[1.5, 3.5, 5.0]]
    # ... but padding counts (count_include_pad) and divisor_override divides every window.
    assert reference.avg_pool2d(x, (1, 2), padding=(0, 1), ceil_mode=True).tolist() == [[0.5, 2.5, 4.5]]
    assert reference.avg_pool2d(x, (1, 2), ceil_mode=True, divisor_override=4).tolist() == [[0.75, 1.75, 1.25]]
    # A 4th window would start in the right padding: PyTorch drops it.
    assert reference.max_pool2d(np.ones((1, 6)), (1, 2), padding=(0, 1), ceil_mode=True).shape == (1, 4)


# ------------------------------------------------------------------------------------------
# max_unpool2d
# ------------------------------------------------------------------------------------------


@given(case=pool_cases(dilated=True), choice=st.sampled_from(["none", "input", "random"]),
       offsets=st.tuples(st.integers(-3, 3), st.integers(-3, 3)))
def test_max_unpool2d_equals_torch(case, choice, offsets):
    x, kernel, stride, padding, dilation, ceil_mode = case
    xt = torch.from_numpy(x)
    pooled = torch_or_none(lambda: F.max_pool2d(xt, kernel, stride, padding, dilation, ceil_mode,
                                                return_indices=True))
    assume(pooled is not None)
    out, indices = reference.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, True)
    stride = stride or None  # F.max_unpool2d takes None for the default, not ()
    if choice == "none":
        output_size = None
    elif choice == "input":
        output_size = x.shape[-2:]
    else:  # near the default (H_in - 1) * stride + kernel - 2 * padding: inside or outside the range
        steps = stride or kernel
        output_size = tuple((out.shape[-2 + a] - 1) * steps[a] + kernel[a] - 2 * padding[a]
                            + offsets[a] for a in range(2))
    expected = torch_or_none(lambda: F.max_unpool2d(pooled[0], pooled[1], kernel, stride, padding,
                                                    output_size))
    if expected is None:
        with pytest.raises(ValueError, match="max_unpool2d: "):
            reference.max_unpool2d(out, indices, kernel, stride, padding, output_size)
        return
    assert_equal_with_nan(reference.max_unpool2d(out, indices, kernel, stride, padding, output_size),
                          expected, "unpooled")


def test_max_pool2d_indices_and_unpooling_of_the_4x4_worked_example():
    feature_map = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])
    out, indices = reference.max_pool2d(feature_map, 2, return_indices=True)
    np.testing.assert_array_equal(out, [[9, 2], [6, 3]])
    np.testing.assert_array_equal(indices, [[5, 2], [13, 11]])  # row * 4 + column
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(
        reference.max_unpool2d(out, indices, 2),
        [[0, 0, 2, 0], [0, 9, 0, 0], [0, 0, 0, 3], [0, 6, 0, 0]],
    )
    # 5x5: floor pooling drops the last row and column, so unpooling needs the size back.
    out, indices = reference.max_pool2d(np.arange(25.0).reshape(5, 5), 2, return_indices=True)
    assert reference.max_unpool2d(out, indices, 2, output_size=(5, 5)).shape == (5, 5)
    with pytest.raises(ValueError, match=r"indices holds 16 at position \(1, 0\).* output planes are 4x4 .*output_size"):
        reference.max_unpool2d(out, indices, 2)


# ------------------------------------------------------------------------------------------
# softmax: dim, dtype, empty and 0-d input
# ------------------------------------------------------------------------------------------


@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=4), data=st.data(),
       dtype=st.sampled_from([None, np.float32, np.float64]),
       input_dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_softmax_equals_torch_for_every_dim_dtype_and_empty_or_0d_input(shape, data, dtype,
                                                                         input_dtype, seed):
    x = np.asarray(np.random.default_rng(seed).standard_normal(shape) * 10, dtype=input_dtype)
    rank = max(len(shape), 1)
    dim = data.draw(st.integers(-rank - 1, rank), label="dim")
    torch_dtype = {None: None, np.float32: torch.float32, np.float64: torch.float64}[dtype]
    try:
        expected = torch.softmax(torch.from_numpy(x), dim, dtype=torch_dtype)
    except IndexError:
        with pytest.raises(IndexError, match=r"softmax: axis must be in \["):
            reference.softmax(x, dim, dtype=dtype)
        return
    got = reference.softmax(x, dim, dtype=dtype)
    tolerance = 1e-6 if np.float32 in (dtype, input_dtype) and dtype != np.float64 else RTOL
    assert got.shape == tuple(expected.shape) and got.dtype == expected.numpy().dtype
    np.testing.assert_allclose(got, expected.numpy(), rtol=tolerance, atol=tolerance)
    np.testing.assert_array_equal(reference.softmax(x, dim=dim, dtype=dtype), got)


def test_softmax_of_empty_and_0d_input():
    empty = reference.softmax(np.zeros((5, 0, 0)), -1)
    assert empty.shape == (5, 0, 0) and empty.dtype == np.float64
    assert reference.softmax(np.zeros((0, 3)), 1).shape == (0, 3)
    scalar = reference.softmax(np.float32(7.0), 0)
    assert isinstance(scalar, np.ndarray) and scalar.shape == () and scalar.dtype == np.float32
    assert scalar == 1.0
    assert np.isnan(reference.softmax(np.inf, -1))  # inf - inf, as in PyTorch


# ------------------------------------------------------------------------------------------
# output_size(ceil_mode=True)
# ------------------------------------------------------------------------------------------


def test_output_size_in_ceil_mode_matches_torch_pooling_shapes_over_a_grid():
    checked = refused = 0
    for n, k, s, d in itertools.product(range(1, 12), range(1, 6), range(1, 5), range(1, 3)):
        for p in range(0, k // 2 + 1):  # PyTorch's pooling rule: padding at most half the kernel
            x = torch.zeros(1, 1, n, n)
            pools = [torch.nn.MaxPool2d(k, s, p, d, ceil_mode=True)]
            if d == 1:
                pools.append(torch.nn.AvgPool2d(k, s, p, ceil_mode=True))
            for pool in pools:
                shape = torch_or_none(lambda: pool(x).shape)
                if shape is None:
                    with pytest.raises(ValueError, match="kernel covers"):
                        reference.output_size(n, k, padding=p, stride=s, dilation=d, ceil_mode=True)
                    refused += 1
                    continue
                size = reference.output_size(n, k, padding=p, stride=s, dilation=d, ceil_mode=True)
                assert shape[-2:] == (size, size), (type(pool).__name__, n, k, p, s, d)
                checked += 1
    assert checked > 1000 and refused > 20


# ------------------------------------------------------------------------------------------
# dtypes
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype, expected", [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.int64, np.float64), (np.bool_, np.float64)])
def test_the_new_options_keep_float32_and_float64_and_turn_integers_into_float64(dtype, expected):
    x, w = np.ones((1, 4, 5, 5), dtype), np.ones((4, 2, 3, 3), dtype)
    pooled, indices = reference.max_pool2d(x, 2, ceil_mode=True, return_indices=True)
    outputs = [
        reference.conv2d(x, w, groups=2), reference.conv2d_naive(x, w, groups=2),
        *reference.conv2d_backward(np.ones((1, 4, 3, 3), dtype), x, w, groups=2),
        pooled, reference.max_unpool2d(pooled, indices, 2, output_size=(5, 5)),
        reference.max_pool2d_backward(np.ones((1, 4, 3, 3), dtype), x, 2, ceil_mode=True),
        reference.avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False, divisor_override=3),
        reference.avg_pool2d_backward(np.ones((1, 4, 3, 3), dtype), x, 2, ceil_mode=True,
                                      divisor_override=np.int64(3)),
        reference.softmax(x[0, 0, 0], dim=0), reference.softmax(np.zeros((0, 2), dtype), 0),
    ]
    assert [out.dtype for out in outputs] == [np.dtype(expected)] * len(outputs)
    assert indices.dtype == np.int64
