"""course_utils.reference.receptive_field: the formula equals what the gradient measures.

The receptive field of a unit is the set of input pixels its gradient can reach. For random
stacks of convolutions and pools (kernel, stride, padding, dilation) we build the same network
in PyTorch and backpropagate one unit: with all-ones weights the input gradient *is*
``path_counts`` (exactly, small integers), its non-zero pixels are exactly ``unit_box``; with
random weights, several channels and real max pooling the reached pixels never leave the box.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from course_utils.reference.receptive_field import (
    Field,
    Layer,
    field_of,
    field_table,
    path_counts,
    receptive_fields,
    unit_at,
    unit_box,
)


@st.composite
def stacks(draw):
    """A random stack of square layers and an input size on which every layer fits."""
    layers = []
    for index in range(draw(st.integers(1, 4))):
        kernel = draw(st.integers(1, 4))
        padding = draw(st.integers(0, kernel // 2))
        layers.append(Layer(f"layer{index}", kernel, draw(st.integers(1, 2)), padding,
                            draw(st.integers(1, 2))))
    size = draw(st.integers(6, 20))
    units = size
    for layer in layers:
        units = (units + 2 * layer.padding - layer.dilation * (layer.kernel - 1) - 1) // layer.stride + 1
        assume(units >= 1)
    row, col = draw(st.integers(0, units - 1)), draw(st.integers(0, units - 1))
    return layers, size, row, col


def torch_stack(layers, channels=1, weights="ones", pool_every=None, seed=0):
    """The stack as PyTorch callables; ``pool_every`` lists the layers done as real max pools."""
    generator = torch.Generator().manual_seed(seed)
    steps = []
    for index, layer in enumerate(layers):
        if pool_every and index in pool_every and layer.padding <= layer.kernel // 2:
            steps.append(lambda x, l=layer: F.max_pool2d(x, l.kernel, l.stride, l.padding, l.dilation))
            continue
        shape = (channels, channels if index else 1, layer.kernel, layer.kernel)
        weight = (torch.ones(shape, dtype=torch.float64) if weights == "ones"
                  else torch.randn(shape, generator=generator, dtype=torch.float64))
        steps.append(lambda x, l=layer, w=weight: F.conv2d(x, w, stride=l.stride,
                                                           padding=l.padding, dilation=l.dilation))
    return steps


def input_gradient(steps, x, row, col):
    x = x.clone().requires_grad_(True)
    out = x
    for step in steps:
        out = step(out)
    out[:, 0, row, col].sum().backward()
    return x.grad


@given(case=stacks())
def test_path_counts_equal_torch_autograd_through_all_ones_layers(case):
    layers, size, row, col = case
    grad = input_gradient(torch_stack(layers), torch.zeros(1, 1, size, size, dtype=torch.float64),
                          row, col)[0, 0].numpy()
    np.testing.assert_array_equal(path_counts(layers, row, col, size), grad)


@given(case=stacks())
def test_the_gradient_never_leaves_the_box_the_formula_gives(case):
    layers, size, row, col = case
    field = receptive_fields(layers, size)[-1]
    top, left, height, width = unit_box(field, row, col, size)
    expected = np.zeros((size, size), dtype=bool)
    expected[top:top + height, left:left + width] = True
    reached = path_counts(layers, row, col, size) > 0
    assert not reached[~expected].any()
    if layers_all_dense(layers) and all(layer.padding == 0 for layer in layers[1:]):
        # Only the input is padded: the box clipped to the image is reached pixel for pixel.
        np.testing.assert_array_equal(reached, expected)


def layers_all_dense(layers) -> bool:
    """No holes: each layer's taps are ``d * j`` input pixels apart and each tap sees ``r``
    pixels of the layer below, so the taps' fields touch as long as ``d * j <= r``."""
    size, jump = 1, 1
    for layer in layers:
        if layer.kernel > 1 and layer.dilation * jump > size:
            return False
        size += (layer.kernel - 1) * layer.dilation * jump
        jump *= layer.stride
    return True


@given(case=stacks(), seed=st.integers(0, 2**16))
def test_random_weights_and_max_pools_never_reach_outside_the_box(case, seed):
    layers, size, row, col = case
    field = receptive_fields(layers, size)[-1]
    top, left, height, width = unit_box(field, row, col, size)
    outside = np.ones((size, size), dtype=bool)
    outside[top:top + height, left:left + width] = False
    steps = torch_stack(layers, channels=3, weights="random", pool_every={1, 3}, seed=seed)
    x = torch.randn(4, 1, size, size, generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)
    grad = input_gradient(steps, x, row, col)
    assert not (grad[:, 0].abs().sum(0).numpy()[outside] != 0).any()


def test_course_cnn_worked_numbers():
    block = [Layer("conv_a", 3, 1, 1), Layer("conv_b", 3, 1, 1), Layer("pool", 2, 2)]
    layers = [Layer(f"{layer.name}{b}", layer.kernel, layer.stride, layer.padding)
              for b in (1, 2, 3) for layer in block]
    fields = receptive_fields(layers, 32)
    assert [f.size for f in fields] == [3, 5, 6, 10, 14, 16, 24, 32, 36]
    assert [f.jump for f in fields] == [1, 1, 2, 2, 2, 4, 4, 4, 8]
    assert [f.output_size for f in fields] == [32, 32, 16, 16, 16, 8, 8, 8, 4]
    assert fields[6].span(0) == (-10, 13)
    assert unit_box(fields[6], 0, 0, 32) == (0, 0, 14, 14)
    assert field_of(layers, "conv_a3", 32) == fields[6]
    assert "conv_a3" in field_table(fields) and "24" in field_table(fields)


def test_unit_at_picks_the_unit_centred_nearest_a_pixel():
    field = Field("conv", size=10, jump=2, start=-4, output_size=16)
    # unit i covers -4 + 2i .. 5 + 2i, centred at 0.5 + 2i
    assert unit_at(field, 15) == 7 and field.span(7) == (10, 19)
    assert unit_at(field, -100) == 0 and unit_at(field, 100) == 15


def test_bad_layers_and_units_are_explained():
    with pytest.raises(ValueError, match="kernel must be >= 1"):
        Layer("x", 0)
    with pytest.raises(ValueError, match="outside the last layer"):
        path_counts([Layer("a", 3)], 5, 0, 6)
    with pytest.raises(ValueError, match="no layer 'z'"):
        field_of([Layer("a", 3)], "z")
