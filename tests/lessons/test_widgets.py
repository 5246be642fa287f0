"""The explorers: pure drawing functions on fixed states, then the widget wiring.

Drawing functions return HTML; the tests read the highlighted cells (``class="hl"`` with
``data-row``/``data-col``), the arithmetic and size sentences, and compare numbers with
course_utils.reference and the lessons' worked examples.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from course_utils import images, kernels, plotting
from course_utils.reference import conv2d, max_pool2d
from course_utils.widgets import (
    conv_explorer,
    conv_window,
    draw_conv,
    draw_feature_maps,
    draw_pooling,
    draw_relu,
    draw_shape,
    feature_map_explorer,
    feature_maps,
    kernel_as_text,
    parse_kernel,
    pool_arithmetic,
    pool_window,
    pooling_explorer,
    relu_explorer,
    shape_explorer,
    shape_warning,
    window_arithmetic,
)


def highlighted_cells(table_html: str) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in
            re.findall(r'<td class="hl" data-row="(\d+)" data-col="(\d+)"', table_html)}


def tables(view: str) -> dict[str, str]:
    """The view's grids by their css class (input-grid, kernel-grid, output-grid, ...)."""
    return {name: body for name, body in
            re.findall(r'<table class="grid ([\w-]+)"(.*?)</table>', view, flags=re.S)}


def paragraph(view: str, css_class: str) -> str:
    match = re.search(rf'<p class="{css_class}"[^>]*>(.*?)</p>', view, flags=re.S)
    assert match, f"no <p class={css_class}> in the view"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


# ------------------------------------------------------------------ conv: pure parts


def test_first_window_arithmetic_is_the_worked_example():
    window = images.binary_image_5x5()[:3, :3]
    text = window_arithmetic(window, kernels.kernel("x_pattern"))
    assert text == "1*1 + 1*0 + 1*1 + 0*0 + 1*1 + 1*0 + 0*1 + 0*0 + 1*1 = 4"


def test_negative_weights_are_bracketed_in_the_arithmetic():
    text = window_arithmetic(np.full((1, 3), 10.0), np.array([[1.0, 0.0, -1.0]]))
    assert text == "10*1 + 10*0 + 10*(-1) = 0"


@pytest.mark.parametrize("position", range(9))
def test_every_window_of_the_worked_example_has_its_value(position):
    state = conv_window(images.binary_image_5x5(), kernels.kernel("x_pattern"), position=position)
    row, col = divmod(position, 3)
    assert (state.row, state.col) == (row, col)
    assert state.box == (row, col, 3, 3)
    assert state.value == images.WORKED_EXAMPLE_OUTPUT[row, col]
    np.testing.assert_array_equal(state.output, images.WORKED_EXAMPLE_OUTPUT)


def test_conv_window_with_stride_and_padding_matches_the_reference():
    image = np.arange(49.0).reshape(7, 7)
    weights = kernels.kernel("sobel_x")
    state = conv_window(image, weights, stride=2, padding=1, position=5)
    expected = conv2d(image, weights, stride=2, padding=1)
    assert expected.shape == (4, 4) and (state.row, state.col) == (1, 1)
    assert state.box == (2, 2, 3, 3)  # row 1 * stride 2, in padded coordinates
    assert state.value == expected[1, 1]
    assert state.padded.shape == (9, 9)


def test_parse_kernel_reads_rows_and_explains_mistakes():
    np.testing.assert_array_equal(parse_kernel("1 0 1; 0 1 0; 1 0 1"), kernels.kernel("x_pattern"))
    np.testing.assert_array_equal(parse_kernel("1, -2\n0.5 3"), [[1, -2], [0.5, 3]])
    with pytest.raises(ValueError, match="same number of values; the rows have 3, 2"):
        parse_kernel("1 0 1; 0 1")
    with pytest.raises(ValueError, match="'x' is not a number"):
        parse_kernel("1 x 1")
    with pytest.raises(ValueError, match="empty"):
        parse_kernel("  ; ")


def test_draw_conv_highlights_the_receptive_field_and_the_output_cell():
    view = draw_conv(position=4)  # 5x5 example, window (1, 1)
    grids = tables(view)
    assert highlighted_cells(grids["input-grid"]) == {(r, c) for r in (1, 2, 3) for c in (1, 2, 3)}
    assert highlighted_cells(grids["output-grid"]) == {(1, 1)}
    assert paragraph(view, "arithmetic") == (
        "output[1, 1] = 1*1 + 1*0 + 1*1 + 0*0 + 1*1 + 1*0 + 0*1 + 1*0 + 1*1 = 4")
    assert "floor((5 + 2*0 - 3) / 1) + 1 = 3" in paragraph(view, "output-size")


def test_draw_conv_leaves_later_output_cells_blank_until_show_all():
    view = draw_conv(position=1)
    output = tables(view)["output-grid"]
    assert re.search(r'data-row="0" data-col="1"[^>]*>3</td>', output)
    assert re.search(r'data-row="2" data-col="2"[^>]*></td>', output)
    full = tables(draw_conv(position=1, show_all=True))["output-grid"]
    assert re.search(r'data-row="2" data-col="2"[^>]*>4</td>', full)


def test_draw_conv_with_padding_shifts_the_window_into_the_padded_grid():
    view = draw_conv(input="6x6 edge image", kernel="vertical_edge", padding=1, position=0)
    assert highlighted_cells(tables(view)["input-grid"]) == {(r, c) for r in range(3) for c in range(3)}
    # Padding zeros on the left look like a dark-to-bright edge: 0 - 10 - 10 = -20.
    assert paragraph(view, "arithmetic").endswith("= -20")
    assert "so 6x6" in paragraph(view, "output-size")


def test_draw_conv_typed_kernel_and_its_error_message():
    view = draw_conv(kernel="typed in", kernel_text="0 0 0; 0 2 0; 0 0 0", position=0)
    assert paragraph(view, "arithmetic").endswith("= 2")
    assert "is not a number" in paragraph(draw_conv(kernel="typed in", kernel_text="1 a"), "error")


def test_draw_conv_says_when_the_kernel_does_not_fit():
    message = paragraph(draw_conv(kernel="typed in", kernel_text="; ".join(["1 1 1 1 1 1"] * 6)),
                        "error")
    assert "kernel covers 6x6" in message


# ------------------------------------------------------------------ shape


def test_shape_warning_only_when_the_division_is_not_whole():
    assert shape_warning(7, 3, 0, 2) is None
    assert shape_warning(5, 3, 1, 1) is None
    assert shape_warning(6, 3, 0, 2) == (
        "(n + 2p - f) = 3 is not divisible by s = 2: floor(3 / 2) = 1, so the last pixel of "
        "the padded row is never covered by a window")
    assert "last 2 pixels" in shape_warning(7, 2, 0, 3)


def test_draw_shape_fills_in_the_formula_and_draws_one_bar_per_window():
    view = draw_shape(n=7, f=3, p=1, s=2)
    assert "floor((7 + 2*1 - 3) / 2) + 1 = floor(6 / 2) + 1 = 3 + 1 = 4" in paragraph(view, "formula")
    assert 'class="warning"' not in view
    bars = re.findall(r'<rect [^>]*rx="3"', view)
    assert len(bars) == 4
    assert paragraph(draw_shape(n=6, f=3, p=0, s=2), "warning").startswith("\u26a0 (n + 2p - f) = 3")


def test_draw_shape_explains_a_kernel_larger_than_the_input():
    assert "wider than the padded input" in paragraph(draw_shape(n=3, f=5, p=0, s=1), "error")


def test_draw_shape_names_same_padding():
    assert "same" in paragraph(draw_shape(n=8, f=5, p=2, s=1), "note")


# ------------------------------------------------------------------ pooling


def test_pool_window_max_and_its_winner():
    state = pool_window(np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]),
                        "max", 2, 2, position=1)
    assert state.box == (0, 2, 2, 2) and state.value == 8 and state.winner == (1, 3)


def test_pool_arithmetic_strings():
    window = np.array([[1, 1], [5, 6]])
    assert pool_arithmetic(window, "max") == "max(1, 1, 5, 6) = 6"
    assert pool_arithmetic(window, "average") == "(1 + 1 + 5 + 6) / 4 = 3.25"


def test_draw_pooling_highlights_window_and_output_and_matches_reference():
    view = draw_pooling(position=3)
    grids = tables(view)
    assert highlighted_cells(grids["input-grid"]) == {(2, 2), (2, 3), (3, 2), (3, 3)}
    assert highlighted_cells(grids["output-grid"]) == {(1, 1)}
    assert paragraph(view, "arithmetic") == "output[1, 1] = max(1, 0, 3, 4) = 4"
    assert "Parameters to learn: 0" in paragraph(view, "output-size")
    pooled = max_pool2d(np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]), 2)
    np.testing.assert_array_equal(pooled, [[6, 8], [3, 4]])


def test_draw_pooling_warns_when_windows_do_not_tile():
    assert "not divisible" in paragraph(draw_pooling(size=3, stride=2), "warning")


# ------------------------------------------------------------------ relu and feature maps


def test_draw_relu_counts_the_zeroed_values():
    from course_utils.widgets.relu import photo_feature_map

    before = photo_feature_map("sobel_x")
    share = np.mean(before < 0)
    assert 0.2 < share < 0.8
    assert f"sets {share:.0%} of all values to exactly 0" in paragraph(draw_relu(), "summary")
    assert "sets 0% of all values" in paragraph(draw_relu(activation_name="leaky ReLU"), "summary")


def test_draw_relu_patch_after_relu_has_no_negative_numbers():
    after = tables(draw_relu())["after-grid"]
    numbers = [float(v) for v in re.findall(r">(-?[\d.]+)</td>", after)]
    assert len(numbers) == 25 and min(numbers) >= 0
    before = tables(draw_relu())["before-grid"]
    assert min(float(v) for v in re.findall(r">(-?[\d.]+)</td>", before)) < 0


def test_feature_maps_stack_kernels_like_a_conv_layer():
    image = np.random.default_rng(0).random((12, 10))
    maps = feature_maps(image, ("sobel_x", "laplacian"), apply_relu=True, pooling="max 2x2")
    assert maps.shape == (2, 5, 4)
    expected = max_pool2d(np.maximum(conv2d(image, kernels.kernel("laplacian")), 0), 2)
    np.testing.assert_allclose(maps[1], expected)


def test_draw_feature_maps_reports_shapes_and_one_image_per_kernel():
    view = draw_feature_maps(("sobel_x", "sobel_y", "sharpen"), apply_relu=True, pooling="max 2x2")
    assert "output shape (3, 74, 63)" in paragraph(view, "output-size")
    assert view.count("<img") == 4  # the photo and three maps


# ------------------------------------------------------------------ plotting helpers


def test_format_number_writes_numbers_as_the_lessons_do():
    assert [plotting.format_number(v) for v in (4.0, 0.25, -1.5, -0.0, 1 / 3, 1e-9)] == \
        ["4", "0.25", "-1.5", "0", "0.33", "0"]


def test_grid_html_marks_the_box_and_writes_every_number():
    table = plotting.grid_html(np.arange(12.0).reshape(3, 4), highlight=(1, 2, 2, 2))
    assert highlighted_cells(table) == {(1, 2), (1, 3), (2, 2), (2, 3)}
    assert re.findall(r">(\d+)</td>", table) == [str(v) for v in range(12)]


def test_matplotlib_grid_writes_every_number_and_closes_its_figure():
    import matplotlib.pyplot as plt

    open_before = len(plt.get_fignums())
    figure = plotting.show_grids([images.binary_image_5x5(), kernels.kernel("x_pattern")],
                                 ["image", "kernel"], highlights=[(0, 0, 3, 3), None])
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts == [plotting.format_number(v) for v in images.binary_image_5x5().flat]
    assert len(figure.axes[0].patches) == 1  # the highlight rectangle
    assert len(plt.get_fignums()) == open_before


def test_array_to_png_is_a_png_of_the_right_size():
    from io import BytesIO

    from PIL import Image

    png = plotting.array_to_png(np.linspace(-1, 1, 20).reshape(4, 5), scale=3)
    picture = Image.open(BytesIO(png)).convert("RGB")
    assert picture.size == (15, 12)
    # Signed data: the most negative value is drawn blue, the most positive red.
    red, _, blue = picture.getpixel((0, 0))
    assert blue > red
    red, _, blue = picture.getpixel((14, 11))
    assert red > blue
    grey = Image.open(BytesIO(plotting.array_to_png(np.array([[0.0, 1.0]]))))
    assert grey.mode == "L" and np.asarray(grey).tolist() == [[0, 255]]


# ------------------------------------------------------------------ widget wiring

EXPLORERS = [conv_explorer, shape_explorer, relu_explorer, pooling_explorer, feature_map_explorer]


@pytest.mark.parametrize("make", EXPLORERS, ids=lambda f: f.__name__)
def test_each_explorer_renders_its_first_view_when_built_headless(make):
    explorer = make()
    assert explorer.view.value == explorer.draw(**explorer.state())
    assert len(explorer.view.value) > 200 and 'class="error"' not in explorer.view.value
    assert explorer.view in explorer.children


def test_conv_explorer_redraws_when_stride_and_position_change():
    explorer = conv_explorer()
    assert paragraph(explorer.view.value, "arithmetic").startswith("output[0, 0]")
    explorer.controls["stride"].value = 2
    assert explorer.controls["position"].max == 3  # 2x2 windows now
    assert "so 2x2" in paragraph(explorer.view.value, "output-size")
    explorer.controls["position"].value = 3
    assert paragraph(explorer.view.value, "arithmetic").startswith("output[1, 1]")
    assert highlighted_cells(tables(explorer.view.value)["input-grid"]) == \
        {(r, c) for r in (2, 3, 4) for c in (2, 3, 4)}


def test_conv_explorer_clamps_position_when_the_output_shrinks():
    explorer = conv_explorer()
    explorer.controls["position"].value = 8
    explorer.controls["stride"].value = 3  # only one window fits now
    assert explorer.controls["position"].value == 0
    assert paragraph(explorer.view.value, "arithmetic").startswith("output[0, 0]")


def test_conv_explorer_applies_a_typed_kernel_when_it_is_entered():
    """Enter (or leaving the box) sends the text; the explorer switches to "typed in" and draws."""
    explorer = conv_explorer()
    explorer.controls["kernel_text"].value = "0 0 0; 0 5 0; 0 0 0"
    assert explorer.controls["kernel"].value == "typed in"
    assert paragraph(explorer.view.value, "arithmetic").endswith("= 5")
    assert "kernel 3x3" in explorer.view.value


def test_conv_explorer_apply_button_draws_the_typed_kernel():
    explorer = conv_explorer(kernel="typed in", kernel_text="0 0 0; 0 2 0; 0 0 0")
    explorer.controls["kernel"].value = "sobel_x"
    assert paragraph(explorer.view.value, "arithmetic").endswith("= 3")
    explorer.set_quietly("kernel_text", "0 0 0; 0 7 0; 0 0 0")  # typed, not yet applied
    assert paragraph(explorer.view.value, "arithmetic").endswith("= 3")
    explorer.buttons["apply"].click()
    assert explorer.controls["kernel"].value == "typed in"
    assert paragraph(explorer.view.value, "arithmetic").endswith("= 7")


@pytest.mark.parametrize("name", kernels.KERNEL_NAMES)
def test_the_kernel_text_box_shows_the_chosen_kernel(name):
    explorer = conv_explorer()
    explorer.controls["kernel"].value = name
    np.testing.assert_allclose(parse_kernel(explorer.controls["kernel_text"].value),
                               kernels.kernel(name), atol=1e-4)
    assert explorer.controls["kernel"].value == name  # writing the text did not switch to typed


def test_kernel_as_text_reads_back_with_parse_kernel():
    assert kernel_as_text(kernels.kernel("sobel_x")) == "-1 0 1; -2 0 2; -1 0 1"
    assert conv_explorer().controls["kernel_text"].value == "1 0 1; 0 1 0; 1 0 1"


def test_the_kernel_text_box_is_a_labelled_one_line_box_and_the_apply_button_says_what_it_does():
    import ipywidgets

    explorer = conv_explorer()
    box = explorer.controls["kernel_text"]
    assert isinstance(box, ipywidgets.Text) and not isinstance(box, ipywidgets.Textarea)
    assert box.continuous_update is False  # sent on Enter (or when the box is left)
    assert box.description
    assert "apply" in explorer.buttons["apply"].description
    assert explorer.buttons["apply"] in explorer.children[1].children


def test_conv_explorer_input_choice_changes_the_image():
    explorer = conv_explorer(kernel="vertical_edge")
    explorer.controls["input"].value = "6x6 edge image"
    explorer.controls["position"].value = 1
    assert paragraph(explorer.view.value, "arithmetic").endswith("= 30")


def test_shape_explorer_updates_formula_and_warning():
    explorer = shape_explorer(n=7, f=3, p=0, s=1)
    assert 'class="warning"' not in explorer.view.value
    explorer.controls["n"].value = 6
    explorer.controls["s"].value = 2
    assert paragraph(explorer.view.value, "formula").endswith("= floor(3 / 2) + 1 = 1 + 1 = 2")
    assert "not divisible by s = 2" in paragraph(explorer.view.value, "warning")


def test_pooling_explorer_redraws_for_mode_and_position():
    explorer = pooling_explorer()
    explorer.controls["position"].value = 1
    assert paragraph(explorer.view.value, "arithmetic") == "output[0, 1] = max(2, 4, 7, 8) = 8"
    explorer.controls["mode"].value = "average"
    assert paragraph(explorer.view.value, "arithmetic") == "output[0, 1] = (2 + 4 + 7 + 8) / 4 = 5.25"
    explorer.controls["stride"].value = 1
    assert explorer.controls["position"].max == 8


def test_pooling_explorer_switching_to_the_photo_map_allows_more_windows():
    explorer = pooling_explorer()
    explorer.controls["input"].value = "photo feature map 8x8"
    assert explorer.controls["position"].max == 15
    assert "so 4x4" in paragraph(explorer.view.value, "output-size")


def test_relu_and_feature_map_explorers_redraw_on_control_change():
    relu_view = relu_explorer()
    before = relu_view.view.value
    relu_view.controls["activation_name"].value = "sigmoid"
    assert relu_view.view.value != before and "after sigmoid" in relu_view.view.value
    maps = feature_map_explorer(("sobel_x", "sobel_y"))
    maps.controls["pooling"].value = "max 2x2"
    assert "output shape (2, 74, 63)" in paragraph(maps.view.value, "output-size")
    maps.controls["kernel_names"].value = ("sobel_x",)
    assert "output shape (1, 74, 63)" in paragraph(maps.view.value, "output-size")


# ------------------------------------------------------------------ what the pictures say


def test_the_shape_explorer_counts_pixels_from_zero_like_lesson_02():
    """n = 6, f = 3, s = 2: windows start at 0 and 2, pixel 5 is never covered (not "6")."""
    from course_utils.widgets.shape import uncovered_pixels

    view = draw_shape(n=6, f=3, p=0, s=2)
    labels = re.findall(r'<text [^>]*text-anchor="middle"[^>]*>([^<]*)</text>', view)
    assert labels == ["0", "1", "2", "3", "4", "5"]
    assert uncovered_pixels(6, 3, 0, 2) == [5]
    assert "never covered: pixel 5" in paragraph(view, "warning")
    svg = re.search(r"<svg[^>]*>", view).group(0)
    assert 'role="img"' in svg and "Never covered: pixel 5." in html.unescape(svg)
    padded = draw_shape(n=4, f=3, p=1, s=1)
    assert re.findall(r'text-anchor="middle"[^>]*>([^<]*)</text>', padded) == \
        ["pad", "0", "1", "2", "3", "pad"]


def test_the_shape_explorer_marks_the_gaps_a_large_stride_leaves():
    from course_utils.widgets.shape import uncovered_pixels

    assert uncovered_pixels(7, 1, 0, 2) == [1, 3, 5]
    assert "Never covered: pixels 1, 3, 5." in html.unescape(draw_shape(n=7, f=1, p=0, s=2))


@pytest.mark.parametrize("draw", [draw_conv, draw_shape, draw_relu, draw_pooling, draw_feature_maps],
                         ids=lambda f: f.__name__)
def test_every_picture_in_an_explorer_view_has_a_text_alternative(draw):
    view = draw()
    for tag in re.findall(r"<img\b[^>]*>", view):
        assert re.search(r'alt="[^"]*\w', tag), tag[:80]
    for tag in re.findall(r"<svg\b[^>]*>", view):
        assert 'role="img"' in tag and 'aria-label="' in tag
    for table in re.findall(r"<table\b.*?</table>", view, flags=re.S):
        assert "<caption" in table and '<th scope="col"' in table and '<th scope="row"' in table


def test_grid_captions_say_in_words_what_the_colours_and_borders_show():
    view = draw_conv(position=5)  # window (1, 2)
    captions = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<caption.*?</caption>", view)]
    assert "the window (orange box): rows 1-3, columns 2-4" in captions[0]
    assert "the blue box is output[1, 2]" in captions[2]
    assert "empty: not computed yet" in captions[2]
    pooled = html.unescape(draw_pooling(position=1))
    assert "maximum, in bold and underlined, is at row 1, column 3" in pooled


def test_grid_headers_count_rows_and_columns_from_zero_and_name_the_padding():
    table = plotting.grid_html(np.zeros((4, 4)), padding=1)
    assert re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', table) == ["pad", "0", "1", "pad"]
    assert re.findall(r'<th scope="row"[^>]*>([^<]*)</th>', table) == ["pad", "0", "1", "pad"]


def test_every_grid_cell_colour_pair_meets_wcag_aa_contrast():
    from matplotlib import colormaps

    def ratio(foreground, background):
        high, low = sorted((plotting._relative_luminance(foreground),
                            plotting._relative_luminance(background)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    for name in ("RdBu_r", "gray"):
        for level in np.linspace(0, 1, 101):
            background = colormaps[name](level)
            foreground = (0, 0, 0) if plotting.text_colour_on(background) == "#000000" else (1, 1, 1)
            assert ratio(foreground, background) >= 4.5, (name, level)
    pad = [int(plotting.PAD_COLOUR[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    pad_text = [int(plotting.PAD_TEXT_COLOUR[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    assert ratio(pad_text, pad) >= 4.5


def test_figures_say_what_they_show_with_their_numbers():
    drawn = plotting.show_grids([images.binary_image_5x5(), kernels.kernel("x_pattern")],
                                ["image", "kernel"], highlights=[(0, 0, 3, 3), None])
    assert drawn.alt.startswith("2 numbered grids side by side: 1) 'image', 5 by 5")
    assert "1 1 1 0 0 / 0 1 1 1 0 / 0 0 1 1 1 / 0 0 1 1 0 / 0 1 1 0 0" in drawn.alt
    assert "the orange box covers rows 0-2, columns 0-2" in drawn.alt
    photo = images.small_photo()
    maps = [conv2d(photo, kernels.kernel(name)) for name in ("sobel_x", "scharr_x")]
    shared = plotting.show_feature_maps(maps, ["sobel_x", "scharr_x"], shared_scale=True)
    assert "all on one colour scale" in shared.alt and "'scharr_x' (148x126): values from" in shared.alt
    assert "each with its own colour scale" in plotting.show_feature_maps(maps).alt
    curves = plotting.show_curves(np.linspace(-4, 4, 9), {"ReLU": np.maximum(np.linspace(-4, 4, 9), 0)})
    assert "ReLU: x = -4 gives 0, 0 gives 0, 4 gives 4" in curves.alt
    bars = plotting.show_bars([("scores", ["cat", "dog"], [2.0, 1.0])])
    assert "'scores': cat 2, dog 1" in bars.alt


def test_a_shared_colour_scale_shows_the_stronger_kernel_stronger():
    """Lesson 01's claim: on one scale Scharr's map has more contrast than Sobel's."""
    photo = images.small_photo()
    sobel, scharr = (conv2d(photo, kernels.kernel(name)) for name in ("sobel_x", "scharr_x"))
    drawn = plotting.show_feature_maps([sobel, scharr], ["sobel_x", "scharr_x"], shared_scale=True)
    first, second = (ax.images[0] for ax in drawn.axes[:2])
    assert first.get_clim() == second.get_clim()
    assert np.abs(scharr).max() > 3.5 * np.abs(sobel).max()
