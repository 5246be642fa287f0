"""The activation explorer of lesson 03 (``03_relu.ipynb``).

A kernel is applied to the photo; the feature map has negative and positive values (blue and
red). :func:`draw_relu` shows it before and after an activation function, a 5x5 patch of its
numbers, the function's curve, and how many values became 0.
"""

from __future__ import annotations

import html
from functools import lru_cache

import numpy as np

from course_utils import images, kernels, plotting
from course_utils.reference import ACTIVATION_NAMES, activation, conv2d
from course_utils.widgets.base import Explorer, dropdown

PATCH = (88, 48, 5, 5)  # (top, left, height, width) in the feature map: both signs, big values


@lru_cache(maxsize=32)
def photo_feature_map(kernel_name: str) -> np.ndarray:
    """``conv2d(photo, kernel(kernel_name))`` on the 150x128 grey photo (values in [0, 1]), cached."""
    out = conv2d(images.small_photo(), kernels.kernel(kernel_name))
    out.setflags(write=False)
    return out


def curve_svg(name: str, slope: float = 0.1, width: int = 220, height: int = 160) -> str:
    """The activation's graph on ``[-4, 4]`` as a small SVG (axes through 0)."""
    xs = np.linspace(-4, 4, 161)
    ys = activation(name, xs, slope)
    low, high = -4.0, 4.0

    def point(x, y):
        return (width * (x - low) / (high - low), height * (1 - (y - low) / (high - low)))

    path = " ".join(f"{px:.1f},{py:.1f}" for px, py in (point(x, y) for x, y in zip(xs, ys)))
    zero_x, zero_y = point(0, 0)
    label = html.escape(f"Graph of {plotting.describe_curve(xs, ys, name)}", quote=True)
    return (f'<svg class="curve" width="{width}" height="{height}" role="img" '
            f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg">'
            f'<line x1="0" y1="{zero_y}" x2="{width}" y2="{zero_y}" stroke="#999"/>'
            f'<line x1="{zero_x}" y1="0" x2="{zero_x}" y2="{height}" stroke="#999"/>'
            f'<polyline points="{path}" fill="none" stroke="{plotting.HIGHLIGHT}" stroke-width="3"/>'
            f'<text x="4" y="14" font-size="12">{name}</text></svg>')


def draw_relu(kernel: str = "sobel_x", activation_name: str = "ReLU", slope: float = 0.1) -> str:
    """HTML: the photo's feature map for ``kernel`` before and after ``activation_name``, a 5x5
    patch of the numbers before and after, the function's curve and the share of values set to 0.
    """
    before = photo_feature_map(kernel)
    after = activation(activation_name, before, slope)
    top, left, height, width = PATCH
    patch_before = before[top:top + height, left:left + width]
    patch_after = after[top:top + height, left:left + width]
    negative = float(np.mean(before < 0))
    zeroed = float(np.mean((after == 0) & (before != 0)))
    bound = float(np.max(np.abs(before))) or 1.0
    pictures = plotting.row_html(
        plotting.image_html(images.small_photo(), title="photo", width_px=150),
        plotting.image_html(before, title=f"feature map ({kernel})", width_px=150, signed=True),
        plotting.image_html(after, title=f"after {activation_name}", width_px=150, signed=True,
                            vmin=-bound if activation_name not in ("sigmoid", "tanh") else None,
                            vmax=bound if activation_name not in ("sigmoid", "tanh") else None),
        curve_svg(activation_name, slope),
    )
    where = f"rows {top}-{top + height - 1}, columns {left}-{left + width - 1} of the feature map"
    numbers = plotting.row_html(
        plotting.grid_html(patch_before, title="5x5 patch before", signed=True,
                           css_class="grid before-grid", description=f"5 by 5 grid, {where}"),
        '<span style="font-size:24px">&#8594;</span>',
        plotting.grid_html(patch_after, title=f"after {activation_name}", signed=True,
                           css_class="grid after-grid",
                           description=f"the same 5 by 5 patch after {activation_name}"),
    )
    summary = (f'<p class="summary">{negative:.0%} of the feature map is negative (blue); '
               f"{activation_name} sets {zeroed:.0%} of all values to exactly 0. "
               f"Range before: [{before.min():.2f}, {before.max():.2f}], after: "
               f"[{after.min():.2f}, {after.max():.2f}]. Leaky slope: {slope:g}"
               f"{'' if activation_name == 'leaky ReLU' else ' (only leaky ReLU uses it)'}.</p>")
    return pictures + numbers + summary


class ReluExplorer(Explorer):
    """Controls: kernel, activation, slope (used by leaky ReLU)."""


def relu_explorer(kernel: str = "sobel_x", activation_name: str = "ReLU") -> ReluExplorer:
    """Apply an activation to a feature map of the photo and see which values survive (lesson 03).
    """
    import ipywidgets as widgets

    controls = {
        "kernel": dropdown("kernel", kernels.KERNEL_NAMES, kernel),
        "activation_name": dropdown("activation", ACTIVATION_NAMES, activation_name),
        "slope": widgets.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.05,
                                     description="leaky slope",
                                     style={"description_width": "initial"}),
    }
    return ReluExplorer("relu-explorer", controls, draw_relu)

