"""The receptive-field explorer of lesson 07 (``07_what_a_cnn_sees.ipynb``).

Pick a layer of a network and one of its units: the view outlines, on the input image, the
pixels that unit sees (its receptive field, from the formula in
:mod:`course_utils.reference.receptive_field`), shades the padding it reaches into, and draws
how many paths lead from each input pixel to it (every weight 1): the count is largest in the
middle of the field and 1 at its corners.

Pure parts, tested directly: :func:`draw_receptive_field` (state in, HTML out).
:func:`receptive_field_explorer` only wires controls. The network is given as a list of
:class:`~course_utils.reference.receptive_field.Layer` (lesson 07 reads it off ``CourseCNN``).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from functools import partial

import numpy as np

from course_utils import images, plotting
from course_utils.reference.receptive_field import (
    Layer,
    field_of,
    path_counts,
    receptive_fields,
    unit_box,
)
from course_utils.widgets.base import Explorer, dropdown, error_html, slider

SCALE = 6  # screen pixels per image pixel


def explorer_image(size: int = 32) -> np.ndarray:
    """The grey photo cut to a square and shrunk to ``size x size`` (values in [0, 1])."""
    return images.photo(crop=(40, 0, 512, 512), size=size)


def _png(values, **options) -> str:
    return base64.b64encode(plotting.array_to_png(values, **options)).decode()


def field_picture_html(image: np.ndarray, span_rows: tuple[int, int], span_cols: tuple[int, int],
                       reach: int, alt: str) -> str:
    """The image with a padding margin of ``reach`` pixels around it and the field's box (input
    rows and columns, inclusive, possibly outside the image) outlined."""
    size = image.shape[0]
    side = (size + 2 * reach) * SCALE
    top, left = (span_rows[0] + reach) * SCALE, (span_cols[0] + reach) * SCALE
    height = (span_rows[1] - span_rows[0] + 1) * SCALE
    width = (span_cols[1] - span_cols[0] + 1) * SCALE
    return (f'<div class="field-picture" style="position:relative;width:{side}px;height:{side}px;'
            f'background:{plotting.PAD_COLOUR};border:1px solid #999">'
            f'<img src="data:image/png;base64,{_png(image, signed=False, vmin=0.0, vmax=1.0)}" '
            f'alt="{html.escape(alt, quote=True)}" width="{size * SCALE}" '
            f'style="position:absolute;left:{reach * SCALE}px;top:{reach * SCALE}px;'
            f'image-rendering:pixelated">'
            f'<div class="field-box" style="position:absolute;left:{left}px;top:{top}px;'
            f'width:{width}px;height:{height}px;border:3px solid {plotting.HIGHLIGHT};'
            f'box-sizing:border-box"></div></div>')


def draw_receptive_field(layer: str, row: int = 0, col: int = 0, *, layers: Sequence[Layer],
                         image=None) -> str:
    """The explorer's view as HTML: the image with unit ``(row, col)`` of ``layer``'s field
    outlined (padding shaded), the path counts, the layer's grid of units with the chosen one
    lit, and a sentence with the numbers."""
    image = explorer_image() if image is None else np.asarray(image, dtype=np.float64)
    size = image.shape[0]
    try:
        field = field_of(layers, layer, size)
        units = field.output_size
        row, col = int(np.clip(row, 0, units - 1)), int(np.clip(col, 0, units - 1))
        cut = [item.name for item in layers].index(layer) + 1
        counts = path_counts(layers[:cut], row, col, size)
    except ValueError as error:
        return error_html(str(error))
    span_rows, span_cols = field.span(row), field.span(col)
    deepest = receptive_fields(layers, size)[-1]
    reach = max(0, -deepest.start, deepest.span(deepest.output_size - 1)[1] - (size - 1))
    top, left, height, width = unit_box(field, row, col, size)
    inside = height * width
    alt = (f"{size}x{size} image; the box of {layer} unit ({row}, {col}) covers rows "
           f"{span_rows[0]}..{span_rows[1]}, columns {span_cols[0]}..{span_cols[1]}")
    picture = field_picture_html(image, span_rows, span_cols, reach, alt)
    lit = np.zeros((units, units))
    lit[row, col] = 1.0
    grid_width = max(48, min(160, units * 12))
    layer_grid = (f'<figure style="display:inline-block;margin:4px">'
                  f'<img src="data:image/png;base64,{_png(lit, signed=False)}" width="{grid_width}" '
                  f'style="image-rendering:pixelated;border:1px solid #999" '
                  f'alt="{html.escape(layer)}: {units}x{units} units, unit ({row}, {col}) lit">'
                  f'<figcaption style="font-size:12px;text-align:center">{html.escape(layer)}: '
                  f"{units}x{units} units</figcaption></figure>")
    peak = counts.max()
    counts_picture = (f'<figure style="display:inline-block;margin:4px">'
                      f'<img src="data:image/png;base64,{_png(counts, signed=False, vmin=0.0)}" '
                      f'width="{size * SCALE}" style="image-rendering:pixelated;border:1px solid #999" '
                      f'alt="paths from each input pixel to the unit: up to {plotting.format_number(peak)}">'
                      f'<figcaption style="font-size:12px;text-align:center">paths to the unit '
                      f"(white = most)</figcaption></figure>")
    padding_text = (f"{field.size * field.size - inside} of its {field.size * field.size} "
                    f"positions are padding, {inside} are image pixels"
                    if inside < field.size * field.size else "all of it lies inside the image")
    text = (f'<p class="field-text" style="font-family:monospace">{html.escape(layer)} unit '
            f"({row}, {col}): field {field.size}x{field.size} (jump {field.jump}, start "
            f"{field.start}), input rows {span_rows[0]}..{span_rows[1]}, columns "
            f"{span_cols[0]}..{span_cols[1]}; {padding_text}. Paths: "
            f"{plotting.format_number(peak)} from the busiest pixel, "
            f"{plotting.format_number(counts[counts > 0].min())} from the least-used one in the field.</p>")
    return plotting.row_html(picture, counts_picture, layer_grid) + text


class ReceptiveFieldExplorer(Explorer):
    """Controls: layer, unit row, unit column (their maximum follows the layer's size)."""

    def __init__(self, *args, layers: Sequence[Layer], size: int, **kwargs):
        self.fields = {field.name: field for field in receptive_fields(layers, size)}
        super().__init__(*args, **kwargs)

    def sync_controls(self) -> None:
        units = self.fields[self.controls["layer"].value].output_size
        self.controls["row"].max = units - 1  # ipywidgets clamps the value into range
        self.controls["col"].max = units - 1


def receptive_field_explorer(layers: Sequence[Layer], image=None, layer: str | None = None,
                             row: int = 0, col: int = 0) -> ReceptiveFieldExplorer:
    """Pick a layer (only those that change the field: kernels larger than 1) and a unit; see
    which input pixels it sees (lesson 07). ``image`` ``(H, H)`` grey in [0, 1] defaults to the
    photo at 32x32. ``.controls`` holds the widgets by name, ``.view`` the HTML."""
    image = explorer_image() if image is None else np.asarray(image, dtype=np.float64)
    names = [item.name for item in layers if item.kernel > 1]
    if not names:
        raise ValueError("receptive_field_explorer: no layer with a kernel larger than 1")
    controls = {
        "layer": dropdown("layer", names, layer or names[-1]),
        "row": slider("unit row", row, 0, image.shape[0] - 1),
        "col": slider("unit column", col, 0, image.shape[0] - 1),
    }
    return ReceptiveFieldExplorer("receptive-field-explorer", controls,
                                  partial(draw_receptive_field, layers=list(layers), image=image),
                                  [["layer"], ["row", "col"]], layers=layers, size=image.shape[0])
