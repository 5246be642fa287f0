"""The receptive-field explorer (lesson 07): the box it draws is the formula's, its controls
follow the layer, and a redraw is fast."""

from __future__ import annotations

import re
import time

import numpy as np

from course_utils.reference.receptive_field import Layer
from course_utils.widgets.receptive_field import draw_receptive_field, receptive_field_explorer

BLOCK = [Layer("conv_a", 3, 1, 1), Layer("relu", 1), Layer("conv_b", 3, 1, 1), Layer("pool", 2, 2)]
LAYERS = [Layer(f"{layer.name}{b}", layer.kernel, layer.stride, layer.padding)
          for b in (1, 2, 3) for layer in BLOCK]
IMAGE = np.linspace(0, 1, 32 * 32).reshape(32, 32)


def box_style(html: str) -> dict[str, int]:
    style = re.search(r'class="field-box" style="([^"]+)"', html).group(1)
    return {key: int(value) for key, value in re.findall(r"(left|top|width|height):(\d+)px", style)}


def test_the_drawn_box_is_the_formulas_field():
    html = draw_receptive_field("conv_a3", 2, 5, layers=LAYERS, image=IMAGE)
    # conv_a3: field 24, jump 4, start -10: unit 2 sees rows -2..21, unit 5 columns 10..33.
    assert "field 24x24 (jump 4, start -10), input rows -2..21, columns 10..33" in html
    reach = 14                       # pool3's fields reach 14 pixels past the image
    assert box_style(html) == {"left": (10 + reach) * 6, "top": (-2 + reach) * 6,
                               "width": 24 * 6, "height": 24 * 6}
    assert "92 of its 576 positions are padding, 484 are image pixels" in html
    assert 'alt="32x32 image; the box of conv_a3 unit (2, 5)' in html


def test_a_first_layer_unit_sees_three_pixels_and_one_path_each():
    html = draw_receptive_field("conv_a1", 10, 10, layers=LAYERS, image=IMAGE)
    assert "field 3x3" in html and "all of it lies inside the image" in html
    assert "Paths: 1 from the busiest pixel, 1 from the least-used" in html


def test_the_unit_sliders_follow_the_layer_and_redraw_fast():
    explorer = receptive_field_explorer(LAYERS, IMAGE, layer="conv_a1", row=20, col=20)
    assert explorer.controls["row"].max == 31
    explorer.controls["layer"].value = "pool2"
    assert explorer.controls["row"].max == 7 and explorer.state()["row"] == 7
    assert "pool2 unit (7, 7)" in explorer.view.value
    assert list(explorer.controls["layer"].options) == [l.name for l in LAYERS if l.kernel > 1]
    assert all(control.description for control in explorer.controls.values())
    timings = []
    for row in range(8):
        start = time.perf_counter()
        explorer.controls["row"].value = row
        timings.append(time.perf_counter() - start)
    assert np.median(timings) < 0.1, timings


def test_an_unknown_layer_is_explained():
    assert "no layer &#x27;conv9&#x27;" in draw_receptive_field("conv9", layers=LAYERS, image=IMAGE)
