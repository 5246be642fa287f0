"""course_utils.reference equals torch.nn.functional on random cases (float64, 1e-10 relative)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from course_utils import reference

RTOL, ATOL = 1e-10, 1e-12


def assert_same(ours: np.ndarray, theirs: torch.Tensor):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"shape {ours.shape}, torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))
ints_or_pairs = st.one_of(st.integers(1, 3), pairs)


@st.composite
def conv_cases(draw):
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 11)), draw(st.integers(1, 11))
    dilation = draw(st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    padding = draw(st.one_of(
        st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)),
        st.sampled_from(["valid", "same"]),
    ))
    stride = 1 if padding == "same" else draw(ints_or_pairs)
    # Only cases PyTorch accepts: the dilated kernel must fit in the padded input.
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    if isinstance(padding, str):
        ph = pw = 0 if padding == "valid" else 10
    else:
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
    assume(dh * (kh - 1) + 1 <= h + 2 * ph and dw * (kw - 1) + 1 <= w + 2 * pw)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((f, c, kh, kw))
    bias = rng.standard_normal(f) if draw(st.booleans()) else None
    return x, weight, bias, stride, padding, dilation


@pytest.mark.parametrize("implementation", [reference.conv2d, reference.conv2d_naive],
                         ids=["conv2d", "conv2d_naive"])
@given(case=conv_cases())
def test_conv2d_equals_torch(implementation, case):
    x, weight, bias, stride, padding, dilation = case
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(weight),
                        None if bias is None else torch.from_numpy(bias),
                        stride=stride, padding=padding, dilation=dilation)
    assert_same(implementation(x, weight, bias, stride, padding, dilation), expected)


@st.composite
def pool_cases(draw, dilated: bool):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    kernel = draw(ints_or_pairs)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    stride = draw(st.one_of(st.none(), ints_or_pairs))
    dilation = draw(st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2)))) if dilated else 1
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    padding = draw(st.tuples(st.integers(0, kh // 2), st.integers(0, kw // 2)))
    assume(dh * (kh - 1) + 1 <= h + 2 * padding[0] and dw * (kw - 1) + 1 <= w + 2 * padding[1])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # Small integers make ties common: the max must still be the same value.
    x = rng.integers(-3, 4, (n, c, h, w)).astype(np.float64) if draw(st.booleans()) \
        else rng.standard_normal((n, c, h, w))
    return x, kernel, stride, padding, dilation


@given(case=pool_cases(dilated=True))
def test_max_pool2d_equals_torch(case):
    x, kernel, stride, padding, dilation = case
    expected = F.max_pool2d(torch.from_numpy(x), kernel, stride, padding, dilation)
    assert_same(reference.max_pool2d(x, kernel, stride, padding, dilation), expected)


@given(case=pool_cases(dilated=False))
def test_avg_pool2d_equals_torch(case):
    x, kernel, stride, padding, _ = case
    expected = F.avg_pool2d(torch.from_numpy(x), kernel, stride, padding)
    assert_same(reference.avg_pool2d(x, kernel, stride, padding), expected)


@given(seed=st.integers(0, 2**32 - 1), shape=st.lists(st.integers(1, 5), min_size=1, max_size=4))
def test_relu_and_softmax_equal_torch(seed, shape):
    x = np.random.default_rng(seed).standard_normal(shape) * 10
    assert_same(reference.relu(x), F.relu(torch.from_numpy(x)))
    assert_same(reference.softmax(x, axis=-1), torch.softmax(torch.from_numpy(x), dim=-1))


def test_unbatched_inputs_match_torch():
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    assert_same(reference.conv2d(x, weight, stride=2, padding=1),
                F.conv2d(torch.from_numpy(x), torch.from_numpy(weight), stride=2, padding=1))
    assert_same(reference.max_pool2d(x, 2), F.max_pool2d(torch.from_numpy(x), 2))
    assert_same(reference.avg_pool2d(x, 3, 2, 1), F.avg_pool2d(torch.from_numpy(x), 3, 2, 1))


def test_plain_2d_image_with_2d_kernel_matches_torch():
    rng = np.random.default_rng(1)
    image, kernel = rng.standard_normal((8, 9)), rng.standard_normal((3, 2))
    expected = F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None],
                        padding="same")[0, 0]
    assert_same(reference.conv2d(image, kernel, padding="same"), expected)
    assert reference.conv2d(image, kernel).shape == (6, 8)


def test_even_kernel_same_padding_puts_the_extra_row_at_the_bottom_right():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    weight = np.zeros((1, 1, 2, 2))
    weight[0, 0, 0, 0] = 1.0  # picks the top-left of each window: the input itself
    np.testing.assert_array_equal(reference.conv2d(x, weight, padding="same"), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtypes_are_kept(dtype):
    x = np.ones((1, 1, 4, 4), dtype=dtype)
    w = np.ones((1, 1, 3, 3), dtype=dtype)
    for out in (reference.conv2d(x, w), reference.conv2d_naive(x, w), reference.relu(x),
                reference.max_pool2d(x, 2), reference.avg_pool2d(x, 2), reference.pad(x, 1)):
        assert out.dtype == dtype


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_boolean_input_becomes_float64(dtype):
    x = np.ones((1, 1, 4, 4), dtype=dtype)
    w = np.ones((1, 1, 3, 3), dtype=dtype)
    for out in (reference.conv2d(x, w), reference.conv2d_naive(x, w), reference.relu(x),
                reference.max_pool2d(x, 2), reference.avg_pool2d(x, 2), reference.pad(x, 1)):
        assert out.dtype == np.float64
    np.testing.assert_array_equal(reference.conv2d(x, w), np.full((1, 1, 2, 2), 9.0))


def test_float32_conv_is_close_to_torch_float32():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 9, 9), dtype=np.float32)
    w = rng.standard_normal((3, 5, 3, 3), dtype=np.float32)
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    np.testing.assert_allclose(reference.conv2d(x, w, padding=1), expected, rtol=1e-4, atol=1e-5)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((2, 2, 3, 3))
    x_copy, w_copy = x.copy(), w.copy()
    reference.conv2d(x, w, padding=1)
    reference.conv2d_naive(x, w, padding=1)
    reference.relu(x)
    reference.max_pool2d(x, 2, padding=1)
    reference.avg_pool2d(x, 2, padding=1)
    reference.pad(x, 2)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(w, w_copy)
