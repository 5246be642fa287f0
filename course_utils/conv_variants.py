"""Convolutions that are not plain 3x3 (lesson 07): 1x1, dilated, grouped, depthwise-separable.

* A **1x1 convolution** mixes channels and nothing else: at every pixel it multiplies the
  vector of ``C`` channel values by an ``F x C`` matrix. :func:`conv1x1_as_matmul` computes it
  as one matrix product (a dense layer applied to every pixel).
* A **dilated convolution** spreads its ``k x k`` weights ``d`` pixels apart: the same weights
  cover ``d(k - 1) + 1`` pixels. :func:`dilate_kernel` writes the equivalent larger kernel
  (zeros in the gaps).
* A **grouped convolution** (``groups=g``) splits the channels into ``g`` groups, each with its
  own filters; ``groups = C`` is **depthwise**: one filter per channel. Followed by a 1x1
  convolution it is **depthwise-separable** (MobileNet): :func:`depthwise_separable_conv2d`.
* :func:`conv_cost` and :func:`separable_cost` count parameters and multiply-adds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from course_utils.reference import conv2d, output_size


def conv1x1_as_matmul(x, weight, bias=None) -> np.ndarray:
    """A 1x1 convolution as one matrix product.

    ``x`` ``(N, C, H, W)``, ``weight`` ``(F, C, 1, 1)`` or ``(F, C)``, ``bias`` ``(F,)``.
    Every pixel's channel vector is a column of ``X`` ``(C, N*H*W)``; the output is
    ``weight (F, C) @ X`` reshaped to ``(N, F, H, W)``: a dense layer applied at every pixel.
    """
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim == 4:
        if weight.shape[2:] != (1, 1):
            raise ValueError(f"conv1x1_as_matmul: the kernel must be 1x1, got weight shape "
                             f"{weight.shape}")
        weight = weight[:, :, 0, 0]
    if x.ndim != 4 or weight.ndim != 2 or weight.shape[1] != x.shape[1]:
        raise ValueError(f"conv1x1_as_matmul: need x (N, C, H, W) and weight (F, C), got x "
                         f"{x.shape} and weight {weight.shape}")
    n, c, h, w = x.shape
    columns = x.transpose(1, 0, 2, 3).reshape(c, n * h * w)      # one column per pixel
    out = weight @ columns                                        # (F, N*H*W)
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.float64)[:, None]
    return out.reshape(-1, n, h, w).transpose(1, 0, 2, 3)


def dilate_kernel(kernel, dilation: int) -> np.ndarray:
    """The kernel ``(..., KH, KW)`` with ``dilation - 1`` zeros between neighbouring weights:
    ``(..., d(KH-1)+1, d(KW-1)+1)``. A convolution with it equals the dilated convolution."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if int(dilation) < 1 or kernel.ndim < 2:
        raise ValueError(f"dilate_kernel: need a kernel (..., KH, KW) and dilation >= 1, got "
                         f"shape {kernel.shape} and dilation {dilation}")
    kh, kw = kernel.shape[-2:]
    out = np.zeros(kernel.shape[:-2] + (dilation * (kh - 1) + 1, dilation * (kw - 1) + 1))
    out[..., ::dilation, ::dilation] = kernel
    return out


def depthwise_separable_conv2d(x, depthwise_weight, pointwise_weight, stride=1, padding=0,
                               dilation=1) -> np.ndarray:
    """A depthwise convolution (one ``k x k`` filter per channel, ``groups = C``) followed by a
    1x1 convolution that mixes the channels.

    ``x`` ``(N, C, H, W)``, ``depthwise_weight`` ``(C * m, 1, KH, KW)`` (``m`` filters per
    channel, usually 1), ``pointwise_weight`` ``(F, C * m, 1, 1)`` -> ``(N, F, H_out, W_out)``.
    """
    x = np.asarray(x, dtype=np.float64)
    channels = x.shape[1] if x.ndim == 4 else None
    if channels is None:
        raise ValueError(f"depthwise_separable_conv2d: x must be (N, C, H, W), got {x.shape}")
    per_channel = conv2d(x, depthwise_weight, stride=stride, padding=padding, dilation=dilation,
                         groups=channels)
    return conv2d(per_channel, pointwise_weight)


@dataclass(frozen=True)
class ConvCost:
    """``parameters`` (weights + biases) and ``multiply_adds`` (one per weight per output
    position) of a layer or of several added together."""

    parameters: int
    multiply_adds: int

    def __add__(self, other: "ConvCost") -> "ConvCost":
        return ConvCost(self.parameters + other.parameters,
                        self.multiply_adds + other.multiply_adds)


def conv_cost(in_channels: int, out_channels: int, kernel_size: int, input_size: int,
              stride: int = 1, padding: int = 0, groups: int = 1, bias: bool = False) -> ConvCost:
    """The cost of ``nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
    groups=groups, bias=bias)`` on a square ``input_size`` image.

    Each filter sees ``in_channels / groups`` channels: ``out * (in / groups) * k * k`` weights
    (plus ``out`` biases); each weight is used once per output position: ``multiply_adds =
    weights * H_out * W_out``.
    """
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"conv_cost: groups={groups} must divide in_channels={in_channels} and "
                         f"out_channels={out_channels}")
    weights = out_channels * (in_channels // groups) * kernel_size * kernel_size
    side = output_size(input_size, kernel_size, padding, stride)
    return ConvCost(weights + (out_channels if bias else 0), weights * side * side)


def separable_cost(in_channels: int, out_channels: int, kernel_size: int, input_size: int,
                   stride: int = 1, padding: int = 0, bias: bool = False
                   ) -> tuple[ConvCost, ConvCost]:
    """``(depthwise, pointwise)`` costs of a depthwise-separable layer standing in for a
    ``kernel_size`` convolution: depthwise ``in -> in`` with ``groups = in``, then 1x1 ``in ->
    out``. Add them for the total (``sum(parts, ConvCost(0, 0))``)."""
    depthwise = conv_cost(in_channels, in_channels, kernel_size, input_size, stride, padding,
                          groups=in_channels, bias=bias)
    side = output_size(input_size, kernel_size, padding, stride)
    pointwise = conv_cost(in_channels, out_channels, 1, side, bias=bias)
    return depthwise, pointwise


def best_time(function: Callable[[], object], repeats: int = 10, warmup: int = 2) -> float:
    """The fastest of ``repeats`` calls of ``function()``, in seconds, after ``warmup`` calls
    (the first calls pay for memory allocation and caches). The minimum, not the mean: other
    programs only ever make a call slower."""
    for _ in range(warmup):
        function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best
