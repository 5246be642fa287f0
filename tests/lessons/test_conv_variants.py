"""course_utils.conv_variants equals PyTorch on random cases: 1x1 convolution as a matrix
product, dilation as a spread kernel, depthwise-separable convolution, and the parameter and
multiply-add counts (against ``nn.Conv2d``'s own parameters and PyTorch's operation counter)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_utils.conv_variants import (
    ConvCost,
    best_time,
    conv1x1_as_matmul,
    conv_cost,
    depthwise_separable_conv2d,
    dilate_kernel,
    separable_cost,
)
from course_utils.reference import conv2d

RTOL, ATOL = 1e-10, 1e-12
seeds = st.integers(0, 2**32 - 1)


def multiply_adds(module: nn.Module, x: torch.Tensor) -> int:
    """PyTorch's own count: FlopCounterMode counts 2 FLOPs per multiply-add of a convolution."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(x)
    return counter.get_total_flops() // 2


@given(n=st.integers(1, 3), c=st.integers(1, 5), f=st.integers(1, 5), h=st.integers(1, 7),
       w=st.integers(1, 7), with_bias=st.booleans(), seed=seeds)
def test_a_1x1_convolution_is_one_matrix_product(n, c, f, h, w, with_bias, seed):
    rng = np.random.default_rng(seed)
    x, weight = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, 1, 1))
    bias = rng.standard_normal(f) if with_bias else None
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(weight),
                        None if bias is None else torch.from_numpy(bias)).numpy()
    np.testing.assert_allclose(conv1x1_as_matmul(x, weight, bias), expected, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(conv1x1_as_matmul(x, weight[:, :, 0, 0], bias), expected,
                               rtol=RTOL, atol=ATOL)


@given(k=st.integers(1, 4), dilation=st.integers(1, 3), size=st.integers(1, 12),
       padding=st.integers(0, 3), seed=seeds)
def test_a_dilated_convolution_is_the_spread_kernel(k, dilation, size, padding, seed):
    assume(dilation * (k - 1) + 1 <= size + 2 * padding)
    rng = np.random.default_rng(seed)
    x, kernel = rng.standard_normal((1, 2, size, size)), rng.standard_normal((3, 2, k, k))
    spread = dilate_kernel(kernel, dilation)
    assert spread.shape[-1] == dilation * (k - 1) + 1
    assert np.count_nonzero(spread) == np.count_nonzero(kernel)
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(kernel), padding=padding,
                        dilation=dilation).numpy()
    np.testing.assert_allclose(conv2d(x, spread, padding=padding), expected, rtol=RTOL, atol=ATOL)


@given(c=st.integers(1, 4), multiplier=st.integers(1, 2), f=st.integers(1, 5), k=st.integers(1, 3),
       size=st.integers(3, 9), stride=st.integers(1, 2), padding=st.integers(0, 1), seed=seeds)
def test_depthwise_separable_equals_torch_modules(c, multiplier, f, k, size, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, c, size, size))
    depthwise = nn.Conv2d(c, c * multiplier, k, stride, padding, groups=c, bias=False).double()
    pointwise = nn.Conv2d(c * multiplier, f, 1, bias=False).double()
    with torch.no_grad():
        expected = pointwise(depthwise(torch.from_numpy(x))).numpy()
    ours = depthwise_separable_conv2d(x, depthwise.weight.detach().numpy(),
                                      pointwise.weight.detach().numpy(), stride, padding)
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL)


@st.composite
def conv_layers(draw):
    groups = draw(st.integers(1, 4))
    in_channels = groups * draw(st.integers(1, 4))
    out_channels = groups * draw(st.integers(1, 4))
    kernel = draw(st.integers(1, 4))
    padding, stride = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    size = draw(st.integers(kernel, 12))
    return in_channels, out_channels, kernel, size, stride, padding, groups, draw(st.booleans())


@given(layer=conv_layers())
def test_conv_cost_counts_what_pytorch_counts(layer):
    in_channels, out_channels, kernel, size, stride, padding, groups, bias = layer
    module = nn.Conv2d(in_channels, out_channels, kernel, stride, padding, groups=groups, bias=bias)
    cost = conv_cost(in_channels, out_channels, kernel, size, stride, padding, groups, bias)
    assert cost.parameters == sum(p.numel() for p in module.parameters())
    assert cost.multiply_adds == multiply_adds(module, torch.zeros(1, in_channels, size, size))


@given(in_channels=st.integers(1, 8), out_channels=st.integers(1, 8), kernel=st.integers(1, 4),
       size=st.integers(4, 12), padding=st.integers(0, 1))
def test_separable_cost_counts_what_pytorch_counts(in_channels, out_channels, kernel, size, padding):
    module = nn.Sequential(nn.Conv2d(in_channels, in_channels, kernel, padding=padding,
                                     groups=in_channels, bias=False),
                           nn.Conv2d(in_channels, out_channels, 1, bias=False))
    total = sum(separable_cost(in_channels, out_channels, kernel, size, padding=padding),
                ConvCost(0, 0))
    assert total.parameters == sum(p.numel() for p in module.parameters())
    assert total.multiply_adds == multiply_adds(module, torch.zeros(1, in_channels, size, size))


def test_the_lessons_worked_numbers():
    standard = conv_cost(64, 128, 3, 32, padding=1)
    depthwise, pointwise = separable_cost(64, 128, 3, 32, padding=1)
    assert standard == ConvCost(73_728, 75_497_472)
    assert depthwise == ConvCost(576, 589_824) and pointwise == ConvCost(8_192, 8_388_608)
    assert (depthwise + pointwise) == ConvCost(8_768, 8_978_432)
    assert round(standard.parameters / (depthwise + pointwise).parameters, 1) == 8.4


def test_wrong_shapes_and_groups_are_explained():
    with pytest.raises(ValueError, match="kernel must be 1x1"):
        conv1x1_as_matmul(np.zeros((1, 2, 3, 3)), np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match="groups=3 must divide"):
        conv_cost(4, 6, 3, 8, groups=3)
    with pytest.raises(ValueError, match="dilation >= 1"):
        dilate_kernel(np.ones((3, 3)), 0)


def test_best_time_keeps_the_fastest_call_after_the_warm_up(monkeypatch):
    import course_utils.conv_variants as module

    calls = []
    clock = iter([0.0, 0.3, 0.6, 0.7, 0.8, 1.0])     # three timed calls: 0.3, 0.1, 0.2 s
    monkeypatch.setattr(module.time, "perf_counter", lambda: next(clock))
    assert best_time(lambda: calls.append(1), repeats=3, warmup=2) == pytest.approx(0.1)
    assert len(calls) == 5
