"""Text alternatives for pictures of arrays: what a figure shows, in words and its numbers.

A screen reader reads a figure's ``alt`` text instead of the picture, so the text must carry
what a sighted student reads off it: the shape, the numbers (all of them when the grid is small,
the range otherwise), which cells are outlined, what the colours mean. Every sentence here is
computed from the data drawn, never written by hand, so it cannot drift from the picture.
:mod:`course_utils.plotting` attaches these sentences to its figures and HTML views.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Grids with at most this many cells have every number in their text; larger ones the range.
MAX_LISTED_CELLS = 64


def number(value: float, decimals: int = 2) -> str:
    """A number as the lessons write it: ``4`` not ``4.0``, ``0.25``, ``-1.5``, ``0`` not ``-0``."""
    value = float(value)
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    rounded = round(value, decimals)
    if rounded == 0:
        return "0"
    if rounded == int(rounded) and abs(rounded) < 1e15:
        return str(int(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def span(first, last) -> str:
    """``"3"``, ``"1-3"`` or ``"pad to 1"``: a range of rows or columns as the lessons write it."""
    if first == last:
        return str(first)
    joiner = "-" if isinstance(first, int) and isinstance(last, int) and first >= 0 else " to "
    return f"{first}{joiner}{last}"


def index_label(index: int, size: int = 0, padding: int = 0):
    """A row or column as its header names it: the image's own index, or ``"pad"`` for a row of
    the padded ring (``size`` is the padded length)."""
    if padding and (index < padding or index >= size - padding):
        return "pad"
    return index - padding


def box_text(box, size: tuple[int, int] = (0, 0), padding: int = 0) -> str:
    """``"rows 1-3, columns 2-4"`` for a ``(top, left, height, width)`` box of cells of a grid of
    ``size`` (its padded shape) with ``padding``; padded rows and columns are called ``pad``."""
    top, left, height, width = (int(v) for v in box)
    rows = span(index_label(top, size[0], padding), index_label(top + height - 1, size[0], padding))
    cols = span(index_label(left, size[1], padding), index_label(left + width - 1, size[1], padding))
    return f"row{'s' if height > 1 else ''} {rows}, column{'s' if width > 1 else ''} {cols}"


def value_range(values, decimals: int = 2) -> str:
    """``"values from -3.5 to 3.47"`` (or ``"every value 0"``)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return "no values"
    low, high = np.nanmin(values), np.nanmax(values)
    if low == high:
        return f"every value {number(low, decimals)}"
    return f"values from {number(low, decimals)} to {number(high, decimals)}"


def grid_numbers(values, decimals: int = 2) -> str:
    """Every number of a small 2-D grid, rows split by ``/``: ``"1 1 1 / 0 1 0"``; the range for
    a grid of more than :data:`MAX_LISTED_CELLS` cells."""
    values = np.asarray(values, dtype=np.float64)
    if values.size > MAX_LISTED_CELLS:
        return value_range(values, decimals)
    return " / ".join(" ".join(number(v, decimals) for v in row) for row in values)


def colour_key(signed: bool) -> str:
    return ("blue = negative, white = 0, red = positive" if signed
            else "grey levels, black = lowest, white = highest")


def describe_grid(values, title: str | None = None, *, decimals: int = 2, padding: int = 0,
                  highlight=None, highlight_name: str = "orange box") -> str:
    """One grid: ``"'5x5 image', 5 by 5 (rows from the top): 1 1 1 0 0 / ...; the orange box
    covers rows 0-2, columns 0-2"``. Rows and columns are counted as the grid's headers count
    them: from 0 in the image, ``pad`` in a padded ring."""
    values = np.asarray(values, dtype=np.float64)
    height, width = values.shape
    name = f"'{title}', " if title else ""
    text = f"{name}{height} by {width}"
    text += f" (rows from the top): {grid_numbers(values, decimals)}" if values.size <= \
        MAX_LISTED_CELLS else f", {value_range(values, decimals)}"
    if padding:
        ring = np.ones(values.shape, dtype=bool)
        ring[padding:height - padding, padding:width - padding] = False
        zeros = " of zeros" if not np.any(values[ring]) else ""
        rings = f"ring{zeros} is" if padding == 1 else f"{padding} rings{zeros} are"
        text += f"; the outer {rings} padding (rows and columns pad)"
    if highlight is not None:
        text += f"; the {highlight_name} covers {box_text(highlight, values.shape, padding)}"
    return text


def describe_map(values, title: str | None = None, *, signed: bool = False,
                 decimals: int = 2) -> str:
    """A picture of a large array: ``"'sobel_x' (148x126): values from -3.5 to 3.5"``."""
    values = np.asarray(values, dtype=np.float64)
    name = f"'{title}'" if title else "a map"
    shape = "x".join(str(n) for n in values.shape)
    if values.size <= MAX_LISTED_CELLS and values.ndim == 2:
        return f"{name} ({shape}): {grid_numbers(values, decimals)}"
    return f"{name} ({shape}): {value_range(values, decimals)}"


def describe_picture(picture, title: str | None = None) -> str:
    """A photo: ``"'red channel', 600x512 grey, brightness 0.02 to 1"``."""
    picture = np.asarray(picture, dtype=np.float64)
    name = f"'{title}'" if title else "a picture"
    height, width = picture.shape[:2]
    if picture.ndim == 3:
        return f"{name}, {height}x{width} in colour"
    low, high = picture.min(), picture.max()
    clipped = ", values below 0 drawn black and above 1 white" if low < 0 or high > 1 else ""
    return (f"{name}, {height}x{width} grey, brightness from {number(low)} to {number(high)} "
            f"(0 black, 1 white{clipped})")


def join_panels(descriptions: Sequence[str]) -> str:
    """``"1) ...; 2) ..."`` for the panels of one figure, left to right."""
    if len(descriptions) == 1:
        return descriptions[0]
    return "; ".join(f"{index}) {text}" for index, text in enumerate(descriptions, start=1))


def describe_curve(x, y, name: str, decimals: int = 2) -> str:
    """A graph ``y(x)`` read at its ends and at 0: ``"ReLU: x = -4 gives 0, 0 gives 0, 4 gives 4"``."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    picks = [0, int(np.argmin(np.abs(x))), len(x) - 1]
    picks = sorted(set(picks))
    readings = ", ".join(f"{number(x[i], decimals)} gives {number(y[i], decimals)}" for i in picks)
    return f"{name}: x = {readings}"


def describe_bars(labels: Sequence[str], values, title: str | None = None,
                  decimals: int = 2) -> str:
    """``"'scores': cat 2, dog 1, ship 0.1"``."""
    name = f"'{title}': " if title else ""
    return name + ", ".join(f"{label} {number(value, decimals)}"
                            for label, value in zip(labels, np.asarray(values, dtype=float)))


def place(row: int, col: int, shape: tuple[int, int]) -> str:
    """Where a pixel is in a picture of ``shape``, in words: the picture cut into thirds
    ("top left", "middle", "bottom centre"), and "on the border" for its outermost ring:
    ``place(2, 31, (32, 32)) == "top right, on the border"``."""
    height, width = shape
    vertical = ("top", "middle", "bottom")[min(2, 3 * int(row) // max(height, 1))]
    horizontal = ("left", "centre", "right")[min(2, 3 * int(col) // max(width, 1))]
    words = "middle" if (vertical, horizontal) == ("middle", "centre") else \
        f"{vertical} {horizontal}" if vertical != "middle" else f"middle {horizontal}"
    on_border = row in (0, height - 1) or col in (0, width - 1)
    return words + (", on the border" if on_border else "")
