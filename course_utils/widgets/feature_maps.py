"""The feature-map explorer of lessons 01, 03 and 04: a bank of kernels applied to the photo.

:func:`feature_maps` computes the maps (conv, optional ReLU, optional pooling) as one
``(K, H, W)`` array with :mod:`course_utils.reference`; :func:`draw_feature_maps` shows them
side by side with the shape at every step.
"""

from __future__ import annotations

import html

import numpy as np

from course_utils import images, kernels, plotting
from course_utils.reference import avg_pool2d, conv2d, max_pool2d, relu
from course_utils.widgets.base import Explorer, checkbox, dropdown, error_html

POOLING_CHOICES = ("none", "max 2x2", "average 2x2", "max 4x4")
DEFAULT_BANK = ("vertical_edge", "horizontal_edge", "sobel_x", "sobel_y", "scharr_x",
                "laplacian", "sharpen", "gaussian_blur")


def feature_maps(image, kernel_names, apply_relu: bool = False, pooling: str = "none") -> np.ndarray:
    """``(K, H', W')``: one map per kernel, ``conv2d`` (valid) then ReLU then pooling.

    ``image`` is ``(H, W)``; the K 3x3 kernels are stacked into a weight ``(K, 1, 3, 3)`` and
    applied in one call, exactly what a conv layer with K filters does.
    """
    if not kernel_names:
        raise ValueError("feature_maps: choose at least one kernel")
    if pooling not in POOLING_CHOICES:
        raise ValueError(f"feature_maps: pooling must be one of {POOLING_CHOICES}, got {pooling!r}")
    weight = np.stack([kernels.kernel(name) for name in kernel_names])[:, None]  # (K, 1, 3, 3)
    maps = conv2d(np.asarray(image, dtype=np.float64)[None], weight)  # (K, H-2, W-2)
    if apply_relu:
        maps = relu(maps)
    if pooling != "none":
        kind, size = pooling.split()
        pool = max_pool2d if kind == "max" else avg_pool2d
        maps = pool(maps, int(size[0]))
    return maps


def draw_feature_maps(kernel_names=DEFAULT_BANK, apply_relu: bool = False,
                      pooling: str = "none") -> str:
    """HTML: the photo, then one image per kernel, and the shape after each step."""
    image = images.small_photo()
    try:
        maps = feature_maps(image, tuple(kernel_names), apply_relu, pooling)
    except ValueError as error:
        return error_html(str(error), lead="")
    width = 130 if pooling == "none" else 110
    tiles = [plotting.image_html(image, title=f"photo {image.shape[0]}x{image.shape[1]}",
                                 width_px=width)]
    tiles += [plotting.image_html(single, title=name, width_px=width)
              for name, single in zip(kernel_names, maps)]
    steps = [f"photo {image.shape[0]}x{image.shape[1]}",
             f"conv with {len(kernel_names)} filters 3x3 -> {len(kernel_names)} maps of "
             f"{image.shape[0] - 2}x{image.shape[1] - 2}"]
    if apply_relu:
        steps.append("ReLU (same shape; negatives become 0)")
    if pooling != "none":
        steps.append(f"{pooling} pooling -> {maps.shape[1]}x{maps.shape[2]}")
    text = (f'<p class="output-size" style="font-family:monospace">{html.escape(" -> ".join(steps))}'
            f"; output shape {tuple(maps.shape)}</p>"
            '<p style="font-size:12px">Grey maps: all values >= 0. Blue/red maps: negative/positive '
            "responses, white = 0.</p>")
    return text + "".join(tiles)


class FeatureMapExplorer(Explorer):
    """Controls: kernels (multiple choice), ReLU, pooling."""


def feature_map_explorer(kernel_names=DEFAULT_BANK) -> FeatureMapExplorer:
    """A bank of kernels on the photo, with and without ReLU and pooling (lessons 01, 03, 04)."""
    import ipywidgets as widgets

    controls = {
        "kernel_names": widgets.SelectMultiple(options=list(kernels.KERNEL_NAMES),
                                               value=tuple(kernel_names), rows=6,
                                               description="kernels",
                                               style={"description_width": "initial"}),
        "apply_relu": checkbox("ReLU"),
        "pooling": dropdown("pooling", POOLING_CHOICES),
    }
    return FeatureMapExplorer("feature-map-explorer", controls, draw_feature_maps,
                              [["kernel_names", "apply_relu", "pooling"]])
