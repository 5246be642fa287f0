"""The pooling explorer of lesson 04 (``04_pooling.ipynb``).

Pure parts: :func:`pool_window` (one window: where it sits, its numbers, its result),
:func:`pool_arithmetic` ("max(1, 1, 5, 6) = 6") and :func:`draw_pooling` (state in, HTML out).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course_utils import images, kernels, plotting
from course_utils.reference import avg_pool2d, conv2d, max_pool2d, output_size, relu
from course_utils.widgets.base import Explorer, dropdown, error_html, shape_warning, slider, warning_html


def example_feature_map() -> np.ndarray:
    """The 4x4 feature map lesson 04 pools by hand (the classic CS231n example), shape (4, 4).

    2x2 max pooling with stride 2 gives ``[[6, 8], [3, 4]]``; average pooling
    ``[[3.25, 5.25], [2, 2]]``.
    """
    return np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)


@lru_cache(maxsize=1)
def photo_feature_map_8x8() -> np.ndarray:
    """ReLU(Sobel-x) of a 10x10 crop of the photo (0-255): an 8x8 map with a bright edge."""
    top, left, _, _ = images.PHOTO_CROP
    crop = np.round(images.photo(crop=(top - 1, left - 1, 10, 10)) * 255)
    out = np.round(relu(conv2d(crop, kernels.kernel("sobel_x"))))
    out.setflags(write=False)
    return out


def pooling_inputs() -> dict[str, np.ndarray]:
    """The maps a student can pool: name -> 2-D array."""
    return {"4x4 example": example_feature_map(), "photo feature map 8x8": photo_feature_map_8x8()}


def pool_arithmetic(window, mode: str, decimals: int = 2) -> str:
    """``"max(1, 1, 5, 6) = 6"`` or ``"(1 + 1 + 5 + 6) / 4 = 3.25"`` for one window."""
    values = [plotting.format_number(v, decimals) for v in np.asarray(window, float).flat]
    if mode == "max":
        return f"max({', '.join(values)}) = {plotting.format_number(np.max(window), decimals)}"
    if mode == "average":
        return (f"({' + '.join(values)}) / {len(values)} = "
                f"{plotting.format_number(np.mean(window), decimals)}")
    raise ValueError(f"pool_arithmetic: mode must be 'max' or 'average', got {mode!r}")


@dataclass(frozen=True)
class PoolWindow:
    """One window of a pooling layer."""

    output: np.ndarray  # (H_out, W_out)
    row: int
    col: int
    box: plotting.Box  # (top, left, size, size) in the input
    window: np.ndarray  # (size, size)
    winner: tuple[int, int] | None  # input cell of the maximum (max pooling), first on ties
    value: float


def pool_window(x, mode: str = "max", size: int = 2, stride: int = 2,
                position: int = 0) -> PoolWindow:
    """The ``position``-th window (row by row, clamped to the last) of ``mode`` pooling of the
    2-D map ``x`` with a ``size x size`` window and ``stride``; no padding."""
    x = np.asarray(x, dtype=np.float64)
    if mode not in ("max", "average"):
        raise ValueError(f"pool_window: mode must be 'max' or 'average', got {mode!r}")
    pool = max_pool2d if mode == "max" else avg_pool2d
    output = pool(x, size, stride)
    h_out, w_out = output.shape
    position = int(np.clip(position, 0, h_out * w_out - 1))
    row, col = divmod(position, w_out)
    top, left = row * stride, col * stride
    window = x[top:top + size, left:left + size]
    winner = None
    if mode == "max":
        i, j = np.unravel_index(int(np.argmax(window)), window.shape)
        winner = (top + int(i), left + int(j))
    return PoolWindow(output, row, col, (top, left, size, size), window, winner,
                      float(output[row, col]))


def draw_pooling(input: str = "4x4 example", mode: str = "max", size: int = 2, stride: int = 2,
                 position: int = 0) -> str:
    """HTML: the input map with the window outlined (its maximum bold), the pooled output with
    the current cell outlined, the window's arithmetic and the output size."""
    x = pooling_inputs()[input]
    try:
        state = pool_window(x, mode, size, stride, position)
    except ValueError as error:
        return error_html(str(error))
    h_out, w_out = state.output.shape
    window = plotting.box_text(state.box)
    winner = (f"; the window's maximum, in bold and underlined, is at row {state.winner[0]}, "
              f"column {state.winner[1]}" if state.winner else "")
    pictures = plotting.row_html(
        plotting.grid_html(x, title=f"feature map {x.shape[0]}x{x.shape[1]}", highlight=state.box,
                           marked=[state.winner] if state.winner else (),
                           css_class="grid input-grid",
                           description=f"{x.shape[0]} by {x.shape[1]} grid; the window (orange "
                                       f"box) covers {window}{winner}"),
        f'<span style="font-size:16px">{mode} pool {size}x{size}, stride {stride} &#8594;</span>',
        plotting.grid_html(state.output, title=f"output {h_out}x{w_out}",
                           highlight=(state.row, state.col, 1, 1),
                           highlight_colour=plotting.SECOND_HIGHLIGHT,
                           css_class="grid output-grid",
                           description=f"{h_out} by {w_out} grid; the blue box is "
                                       f"output[{state.row}, {state.col}], from the window at "
                                       f"{window}"),
    )
    n = x.shape[0]
    warning = shape_warning(n, size, 0, stride)
    text = (
        f'<p class="arithmetic" style="font-family:monospace">output[{state.row}, {state.col}] = '
        f"{html.escape(pool_arithmetic(state.window, mode))}</p>"
        f'<p class="output-size" style="font-family:monospace">output size: floor(({n} - {size})'
        f" / {stride}) + 1 = {output_size(n, size, 0, stride)} per side, so {h_out}x{w_out} "
        f"(from {x.size} numbers to {state.output.size}); window "
        f"{state.row * w_out + state.col + 1} of {h_out * w_out}. Parameters to learn: 0.</p>"
        + (warning_html(warning) if warning else "")
    )
    return pictures + text


class PoolingExplorer(Explorer):
    """Controls: input, mode, size, stride, position."""

    def sync_controls(self) -> None:
        state = self.state()
        n = pooling_inputs()[state["input"]].shape[0]
        self.controls["size"].max = n
        cells = output_size(n, min(state["size"], n), 0, state["stride"]) ** 2
        self.controls["position"].max = cells - 1


def pooling_explorer(input: str = "4x4 example", mode: str = "max", size: int = 2,
                     stride: int = 2) -> PoolingExplorer:
    """Max or average pooling one window at a time: choose the map, mode, window size, stride
    and window position (lesson 04). ``.controls`` by name, ``.view`` the HTML."""
    controls = {
        "input": dropdown("input", list(pooling_inputs()), input),
        "mode": dropdown("mode", ["max", "average"], mode),
        "size": slider("size", size, 1, 4),
        "stride": slider("stride", stride, 1, 3),
        "position": slider("position", 0, 0, 3),
    }
    return PoolingExplorer("pooling-explorer", controls, draw_pooling,
                           [["input", "mode"], ["size", "stride", "position"]])
