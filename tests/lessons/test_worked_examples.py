"""The lessons' worked examples give exactly the published numbers; output_size matches PyTorch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from course_utils import images, kernels, reference


def test_5x5_binary_image_with_x_kernel_gives_the_published_map():
    image, kernel = images.binary_image_5x5(), kernels.kernel("x_pattern")
    first_window = image[:3, :3]
    assert np.sum(first_window * kernel) == 4  # the nine products of the first window
    for conv in (reference.conv2d, reference.conv2d_naive):
        out = conv(image, kernel)
        np.testing.assert_array_equal(out, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
        np.testing.assert_array_equal(out, images.WORKED_EXAMPLE_OUTPUT)


def test_vertical_edge_kernel_finds_the_edge_of_the_6x6_image():
    out = reference.conv2d(images.edge_image_6x6(), kernels.kernel("vertical_edge"))
    np.testing.assert_array_equal(out, [[0, 30, 30, 0]] * 4)
    np.testing.assert_array_equal(out, images.EDGE_EXAMPLE_OUTPUT)


def test_max_and_average_pooling_of_a_4x4_map_by_hand():
    feature_map = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])
    np.testing.assert_array_equal(reference.max_pool2d(feature_map, 2), [[9, 2], [6, 3]])
    np.testing.assert_array_equal(reference.avg_pool2d(feature_map, 2), [[3.75, 1.25], [3.75, 2.0]])


def test_relu_zeroes_negatives_only():
    np.testing.assert_array_equal(reference.relu([[-2.0, 0.0, 3.5]]), [[0.0, 0.0, 3.5]])


def test_softmax_rows_are_probabilities():
    probabilities = reference.softmax([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0]])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_allclose(probabilities[1], 1 / 3)
    assert probabilities[0].argmax() == 2


@pytest.mark.parametrize(
    "n, k, p, s, expected",
    [(5, 3, 0, 1, 3), (6, 3, 0, 1, 4), (7, 3, 1, 2, 4), (6, 3, 0, 2, 2), (32, 5, 0, 1, 28),
     (32, 3, 1, 1, 32), (227, 11, 0, 4, 55)],
)
def test_output_size_worked_examples(n, k, p, s, expected):
    assert reference.output_size(n, k, padding=p, stride=s) == expected


def test_output_size_same_and_valid():
    assert reference.output_size(10, 3, padding="same") == 10
    assert reference.output_size(10, 4, padding="same", dilation=2) == 10
    assert reference.output_size(10, 3, padding="valid") == 8


def test_output_size_matches_torch_conv_and_pool_shapes_over_a_grid():
    checked = 0
    for n, k, p, s, d in itertools.product(range(1, 13), range(1, 6), range(0, 4), range(1, 4), range(1, 3)):
        if d * (k - 1) + 1 > n + 2 * p:
            with pytest.raises(ValueError, match="kernel"):
                reference.output_size(n, k, padding=p, stride=s, dilation=d)
            continue
        size = reference.output_size(n, k, padding=p, stride=s, dilation=d)
        x = torch.zeros(1, 1, n, n)
        conv = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
        assert conv(x).shape[-2:] == (size, size), (n, k, p, s, d)
        if p <= k // 2:  # PyTorch's pooling rule: padding at most half the kernel
            pool = torch.nn.MaxPool2d(k, stride=s, padding=p, dilation=d)
            assert pool(x).shape[-2:] == (size, size), (n, k, p, s, d)
        checked += 1
    assert checked > 1000


def test_pad_worked_example():
    np.testing.assert_array_equal(
        reference.pad(np.ones((2, 2)), 1),
        [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]],
    )
    assert reference.pad(np.ones((2, 3, 4, 5)), (1, 2)).shape == (2, 3, 6, 9)
    np.testing.assert_array_equal(reference.pad(np.zeros((1, 1)), 1, value=7.0)[0], [7, 7, 7])
