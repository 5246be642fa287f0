"""Lesson 06's gradient explorer: one output cell's gradient reaches exactly the pixels it read."""

from __future__ import annotations

import re

import numpy as np

from course_utils.reference import conv2d
from course_utils.widgets.gradient import (
    draw_gradient,
    explorer_image,
    explorer_kernel,
    gradient_explorer,
    gradient_footprint,
)


def cells(html: str, css_class: str) -> list[str]:
    table = re.search(rf'<table class="grid {css_class}".*?</table>', html, re.S).group(0)
    return re.findall(r"<td[^>]*data-row[^>]*>([^<]*)</td>", table)  # the cells, not the headers


def test_the_footprint_is_the_receptive_field_weighted_by_the_kernel():
    state = gradient_footprint(row=1, col=2, stride=1, padding=0)
    expected = np.zeros((6, 6))
    expected[1:4, 2:5] = explorer_kernel(3)
    np.testing.assert_array_equal(state.grad_x, expected)
    np.testing.assert_array_equal(state.grad_weight, explorer_image()[1:4, 2:5])
    assert state.box == (1, 2, 3, 3) and state.in_padding == 0


def test_stride_dilation_and_padding_move_spread_and_crop_the_footprint():
    state = gradient_footprint(row=0, col=1, stride=2, padding=1, dilation=2)
    # Output (0, 1) reads padded rows 0, 2, 4 and columns 2, 4, 6.
    assert state.touched == tuple((y, x) for y in (0, 2, 4) for x in (2, 4, 6))
    assert state.in_padding == 3  # padded row 0
    assert np.count_nonzero(state.grad_padded) == 9
    assert np.count_nonzero(state.grad_x) == 6  # the padding's share is cropped away
    np.testing.assert_array_equal(state.grad_x, state.grad_padded[1:-1, 1:-1])
    np.testing.assert_array_equal(state.grad_weight[0], [0, 0, 0])  # it multiplied padding zeros


def test_the_weight_gradient_summed_over_all_cells_is_the_correlation_of_input_and_ones():
    """Sanity link to the lesson: grad_weight for grad_out = all ones is conv2d(x, ones)."""
    total = sum(gradient_footprint(row=r, col=c).grad_weight for r in range(4) for c in range(4))
    np.testing.assert_array_equal(total, conv2d(explorer_image(), np.ones((4, 4))))


def test_draw_gradient_shows_the_numbers_and_says_what_is_dropped():
    html = draw_gradient(row=0, col=0, stride=1, padding=1, dilation=1, kernel_size=3)
    assert cells(html, "grad-weight-grid") == ["0", "0", "0", "0", "1", "2", "0", "7", "8"]
    assert "5 of the 9 pixels it read are padding" in html
    assert "reaches 4 input pixels" in html
    assert 'class="error"' in draw_gradient(kernel_size=4, dilation=2)


def test_the_explorer_redraws_and_keeps_the_cell_inside_the_output():
    explorer = gradient_explorer(row=3, col=3)
    explorer.controls["stride"].value = 3  # 6x6, kernel 3, stride 3: a 2x2 output
    assert explorer.controls["row"].max == 1 and explorer.controls["row"].value == 1
    assert "grad_out = 1 at output[1, 1]" in explorer.view.value
    explorer.controls["col"].value = 0
    assert "grad_out = 1 at output[1, 0]" in explorer.view.value
