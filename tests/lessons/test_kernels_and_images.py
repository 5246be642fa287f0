"""Named kernels and the lessons' images."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import images, kernels, reference


def test_every_named_kernel_is_a_fresh_3x3_float_array():
    for name in kernels.KERNEL_NAMES:
        k = kernels.kernel(name)
        assert k.shape == (3, 3) and k.dtype == np.float64
        k[:] = 99  # a caller may modify it ...
        assert not np.all(kernels.kernel(name) == 99)  # ... without changing the library's copy


def test_contract_kernels_exist():
    for name in ["identity", "box_blur", "gaussian_blur", "sharpen", "vertical_edge",
                 "horizontal_edge", "sobel_x", "sobel_y", "scharr_x", "scharr_y", "laplacian"]:
        assert name in kernels.KERNEL_NAMES


def test_blurs_keep_brightness_and_edge_kernels_ignore_flat_regions():
    flat = np.full((6, 6), 0.5)
    for name in ["identity", "box_blur", "gaussian_blur", "sharpen"]:
        np.testing.assert_allclose(reference.conv2d(flat, kernels.kernel(name)), 0.5)
    for name in ["vertical_edge", "horizontal_edge", "sobel_x", "sobel_y", "scharr_x", "scharr_y", "laplacian"]:
        np.testing.assert_allclose(reference.conv2d(flat, kernels.kernel(name)), 0.0, atol=1e-12)


def test_edge_kernels_respond_to_their_own_direction():
    vertical = images.edge_image_6x6()  # change from left to right
    horizontal = vertical.T  # change from top to bottom
    for name in ["vertical_edge", "sobel_x", "scharr_x"]:
        assert np.abs(reference.conv2d(vertical, kernels.kernel(name))).max() > 0
        assert np.abs(reference.conv2d(horizontal, kernels.kernel(name))).max() == 0
    for name in ["horizontal_edge", "sobel_y", "scharr_y"]:
        assert np.abs(reference.conv2d(horizontal, kernels.kernel(name))).max() > 0
        assert np.abs(reference.conv2d(vertical, kernels.kernel(name))).max() == 0


def test_unknown_kernel_name_lists_the_choices():
    with pytest.raises(ValueError, match="unknown name 'blurry'.*sobel_x"):
        kernels.kernel("blurry")


def test_photo_is_a_real_grayscale_or_rgb_image_in_0_1():
    gray = images.photo()
    rgb = images.photo(gray=False)
    assert gray.shape == (600, 512) and rgb.shape == (600, 512, 3)
    for image in (gray, rgb):
        assert image.dtype == np.float64 and 0.0 <= image.min() and image.max() <= 1.0
        assert image.std() > 0.1  # a real photograph, not a flat placeholder
    np.testing.assert_allclose(gray, rgb @ [0.299, 0.587, 0.114])


def test_photo_crop_and_resize():
    assert images.photo(size=64).shape == (64, 64)
    assert images.photo(gray=False, size=(30, 40)).shape == (30, 40, 3)
    crop = images.photo(crop=(100, 150, 200, 120))
    np.testing.assert_allclose(crop, images.photo()[100:300, 150:270])
    with pytest.raises(ValueError, match="crop"):
        images.photo(crop=(500, 0, 200, 10))
