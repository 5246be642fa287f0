"""Pictures of arrays: grids with their numbers written in, kernels, feature maps.

Two families, both pure (arrays in, a picture out, nothing kept):

* **matplotlib**, for the lessons' static figures: :func:`draw_grid` (a 2-D array as a grid of
  cells with each number written in), :func:`highlight_cells`, :func:`draw_kernel`,
  :func:`show_grids` (several grids side by side, e.g. input, kernel, output),
  :func:`show_feature_maps` and :func:`show_images` (photos). Every function that makes a Figure closes it from pyplot's list
  (``plt.close``) and returns it, so a notebook shows it once and nothing leaks.
* **HTML**, for the explorers (:mod:`course_utils.widgets`): :func:`grid_html` (the same grid as
  an HTML table, its numbers real text a browser or a test can read) and :func:`image_html` (an
  array as an inline PNG). Building HTML takes a millisecond or two, where a matplotlib figure
  takes tens, which keeps every explorer's redraw far under 100 ms.

Colours: non-negative data (images) is drawn in grey, black = low; data with both signs
(filters, feature maps) in a diverging map, blue < 0 < red, with 0 white.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

Box = tuple[int, int, int, int]  # (top, left, height, width), in cells

HIGHLIGHT = "#e6550d"  # the receptive field / current window
SECOND_HIGHLIGHT = "#3182bd"  # the output cell it produces
PAD_COLOUR = "#fdf5d9"  # padded cells (not part of the image)


def format_number(value: float, decimals: int = 2) -> str:
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


def _is_signed(values: np.ndarray) -> bool:
    return bool(np.nanmin(values) < 0) if values.size else False


def colour_limits(values: np.ndarray, signed: bool | None = None) -> tuple[float, float]:
    """``(vmin, vmax)`` for drawing ``values``: symmetric around 0 when ``signed``.

    ``signed`` defaults to "does ``values`` contain a negative number".
    """
    values = np.asarray(values, dtype=np.float64)
    signed = _is_signed(values) if signed is None else signed
    if values.size == 0:
        return (0.0, 1.0)
    if signed:
        bound = float(np.nanmax(np.abs(values))) or 1.0
        return (-bound, bound)
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _cmap_name(signed: bool) -> str:
    return "RdBu_r" if signed else "gray"


def _check_2d(values, op: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{op}: values must be a 2-D array (H, W), got shape {array.shape}")
    return array


# --------------------------------------------------------------------------------------------
# matplotlib
# --------------------------------------------------------------------------------------------


def draw_grid(ax, values, *, title: str | None = None, decimals: int = 2,
              signed: bool | None = None, vmin: float | None = None, vmax: float | None = None,
              numbers: bool = True, padding: int = 0, highlight: Box | None = None,
              highlight_colour: str = HIGHLIGHT, fontsize: float | None = None):
    """Draw a 2-D array ``(H, W)`` on ``ax`` as a grid of coloured cells, each number written in.

    ``padding``: the outer ring of that many cells is padding, drawn pale with its zeros grey.
    ``highlight``: a ``(top, left, height, width)`` box of cells outlined in ``highlight_colour``.
    Colours: grey for non-negative data, blue/white/red around 0 for signed data (see module doc).
    Returns ``ax``.
    """
    values = _check_2d(values, "draw_grid")
    height, width = values.shape
    low, high = colour_limits(values, signed)
    vmin = low if vmin is None else vmin
    vmax = high if vmax is None else vmax
    is_signed = vmin < 0
    ax.imshow(values, cmap=_cmap_name(is_signed), vmin=vmin, vmax=vmax,
              extent=(-0.5, width - 0.5, height - 0.5, -0.5), interpolation="nearest")
    if padding:
        mask = np.ones_like(values, dtype=bool)
        mask[padding:height - padding, padding:width - padding] = False
        overlay = np.zeros((height, width, 4))
        overlay[mask] = (0.99, 0.96, 0.85, 1.0)
        ax.imshow(overlay, extent=(-0.5, width - 0.5, height - 0.5, -0.5), interpolation="nearest")
    if numbers:
        texts = [[format_number(v, decimals) for v in row] for row in values]
        longest = max(len(text) for row in texts for text in row)
        # Points per cell, from the axes' width on the figure: the longest number must fit.
        cell_points = ax.get_position().width * ax.figure.get_figwidth() * 72 / width
        size = fontsize or max(5.0, min(14.0, cell_points / (0.65 * max(longest, 2))))
        span = (vmax - vmin) or 1.0
        for y in range(height):
            for x in range(width):
                in_pad = padding and (y < padding or x < padding or y >= height - padding
                                      or x >= width - padding)
                level = (values[y, x] - vmin) / span
                if in_pad:
                    colour = "#9a8c5a"
                elif is_signed:
                    colour = "white" if abs(level - 0.5) > 0.3 else "black"
                else:
                    colour = "white" if level < 0.5 else "black"
                ax.text(x, y, texts[y][x], ha="center", va="center",
                        fontsize=size, color=colour)
    ax.set_xticks(np.arange(-0.5, width, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, height, 1), minor=True)
    ax.grid(which="minor", color="#888888", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    if highlight is not None:
        highlight_cells(ax, highlight, colour=highlight_colour)
    if title:
        ax.set_title(title)
    return ax


def highlight_cells(ax, box: Box, *, colour: str = HIGHLIGHT, linewidth: float = 3.0):
    """Outline the ``(top, left, height, width)`` box of cells on a grid drawn by :func:`draw_grid`."""
    from matplotlib.patches import Rectangle

    top, left, height, width = box
    patch = Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor=colour,
                      linewidth=linewidth, zorder=5)
    ax.add_patch(patch)
    return patch


def draw_kernel(ax, kernel, *, title: str | None = "kernel", decimals: int = 2):
    """Draw a kernel ``(KH, KW)`` with its weights written in, blue < 0 < red."""
    return draw_grid(ax, kernel, title=title, decimals=decimals, signed=True)


class Drawn:
    """A figure already shown in the notebook (by :func:`show_figure`), with its text alternative.

    As a cell's last value it shows nothing more, so a cell with several drawing calls shows
    every figure once, whatever comes after each call. Everything else is the Figure's:
    ``drawn.axes``, ``drawn.savefig(...)``; ``drawn.figure`` is the Figure itself.
    """

    def __init__(self, figure, alt: str):
        self.figure = figure
        self.alt = alt

    def __getattr__(self, name):
        return getattr(self.figure, name)

    def _ipython_display_(self) -> None:
        """Shown already: nothing to add when a cell ends with it."""

    def __repr__(self) -> str:
        return f"<figure shown: {self.alt}>"


def figure_html(figure, alt: str, dpi: int = 100) -> str:
    """The figure as an ``<img>`` (inline PNG) whose ``alt`` text says what it shows: a screen
    reader reads it, and the picture keeps its meaning where images are off."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            f'style="max-width:100%">')


def show_figure(figure, alt: str) -> Drawn:
    """Show ``figure`` now (in a notebook: as an image with the text alternative ``alt``; elsewhere
    nothing is shown) and return it as :class:`Drawn`. Every drawing function ends with this."""
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"show_figure: alt must say what the figure shows, got {alt!r}")
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython is installed with Jupyter
        return Drawn(figure, alt)
    if get_ipython() is not None:
        display(HTML(figure_html(figure, alt)))
    return Drawn(figure, alt)


def _new_figure(ncols: int, nrows: int = 1, cell_inches: float = 2.6, height_inches=None):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(cell_inches * ncols, height_inches or cell_inches * nrows))
    plt.close(fig)  # the caller shows it once (it is the cell's value); pyplot keeps nothing
    return fig, axes


def show_grids(arrays: Sequence, titles: Sequence[str] | None = None, *,
               highlights: Sequence[Box | None] | None = None, decimals: int = 2,
               paddings: Sequence[int] | None = None, signed: Sequence[bool | None] | None = None,
               cell_inches: float = 2.8, suptitle: str | None = None):
    """Several 2-D arrays side by side as numbered grids, e.g. ``[image, kernel, output]``.

    ``highlights[i]`` outlines a box on grid ``i``; ``paddings[i]`` marks a padded border.
    Returns the (closed) Figure.
    """
    count = len(arrays)
    titles = titles or [None] * count
    highlights = highlights or [None] * count
    paddings = paddings or [0] * count
    signed = signed or [None] * count
    fig, axes = _new_figure(count, cell_inches=cell_inches)
    for ax, values, title, box, pad, sign in zip(axes[0], arrays, titles, highlights, paddings,
                                                 signed):
        draw_grid(ax, values, title=title, highlight=box, padding=pad, decimals=decimals,
                  signed=sign)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_feature_maps(maps, titles: Sequence[str] | None = None, *, ncols: int = 4,
                      signed: bool | None = None, inches: float = 2.4, suptitle: str | None = None,
                      robust: bool = True):
    """Feature maps ``(K, H, W)`` (or a list of 2-D arrays) as small images in a grid.

    Each map gets its own colour scale; signed maps use blue < 0 < red. ``robust`` clips the
    scale at the 99th percentile of the magnitudes so that weak responses stay visible.
    Returns the Figure.
    """
    maps = [np.asarray(m, dtype=np.float64) for m in maps]
    for index, single in enumerate(maps):
        if single.ndim != 2:
            raise ValueError(
                f"show_feature_maps: map {index} must be 2-D (H, W), got shape {single.shape}"
            )
    if not maps:
        raise ValueError("show_feature_maps: maps is empty")
    ncols = max(1, min(ncols, len(maps)))
    nrows = -(-len(maps) // ncols)
    fig, axes = _new_figure(ncols, nrows, cell_inches=inches)
    titles = list(titles or [""] * len(maps))
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= len(maps):
            continue
        single = maps[index]
        sign = _is_signed(single) if signed is None else signed
        low, high = colour_limits(single, sign)
        if robust and single.size:
            # A few very strong responses would wash everything else out: clip at the 99th
            # percentile of the magnitudes.
            bound = float(np.percentile(np.abs(single), 99)) or max(abs(low), abs(high))
            low, high = (-bound, bound) if sign else (low, min(high, max(bound, low + 1e-12)))
        ax.imshow(single, cmap=_cmap_name(sign), vmin=low, vmax=high, interpolation="nearest")
        ax.set_title(titles[index], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_images(pictures: Sequence, titles: Sequence[str] | None = None, *, inches: float = 3.2,
                suptitle: str | None = None):
    """Photos side by side: each ``(H, W)`` (grey, values in [0, 1]) or ``(H, W, 3)`` (RGB).

    Unlike :func:`show_feature_maps` the grey scale is fixed to [0, 1], so brightness can be
    compared between pictures. Returns the Figure.
    """
    fig, axes = _new_figure(len(pictures), cell_inches=inches)
    titles = list(titles or [""] * len(pictures))
    for ax, picture, title in zip(axes[0], pictures, titles):
        picture = np.asarray(picture, dtype=np.float64)
        if picture.ndim == 2:
            ax.imshow(picture, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        elif picture.ndim == 3 and picture.shape[2] == 3:
            ax.imshow(np.clip(picture, 0.0, 1.0), interpolation="nearest")
        else:
            raise ValueError(f"show_images: each picture must be (H, W) or (H, W, 3), "
                             f"got shape {picture.shape}")
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# HTML (the explorers)
# --------------------------------------------------------------------------------------------


def _rgb_hex(rgba) -> str:
    red, green, blue = (int(round(255 * channel)) for channel in rgba[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def _cell_colours(values: np.ndarray, vmin: float, vmax: float, signed: bool) -> np.ndarray:
    """Background colours for every cell, as an array of ``'#rrggbb'`` strings."""
    from matplotlib import colormaps

    span = (vmax - vmin) or 1.0
    levels = np.clip((values - vmin) / span, 0.0, 1.0)
    if signed:
        rgba = colormaps["RdBu_r"](0.15 + 0.7 * levels)  # keep the ends light enough for text
    else:
        rgba = colormaps["gray"](0.35 + 0.65 * levels)
    flat = [_rgb_hex(colour) for colour in rgba.reshape(-1, 4)]
    return np.array(flat, dtype=object).reshape(values.shape)


def grid_html(values, *, title: str | None = None, decimals: int = 2, signed: bool | None = None,
              padding: int = 0, highlight: Box | None = None, highlight_colour: str = HIGHLIGHT,
              marked: Sequence[tuple[int, int]] = (), blank: np.ndarray | None = None,
              cell_px: int = 34, css_class: str = "grid") -> str:
    """A 2-D array ``(H, W)`` as an HTML table: one cell per number, the number written in it.

    ``padding``: outer ring of padded cells (pale yellow). ``highlight``: ``(top, left, height,
    width)`` box drawn with a thick ``highlight_colour`` border. ``marked``: cells whose number is
    shown in bold and underlined (e.g. the maximum of a pooling window). ``blank``: a boolean
    mask of cells drawn empty (e.g. output cells not computed yet). Each cell carries
    ``data-row``/``data-col`` attributes, and highlighted ones the class ``hl``, so a test (or
    a browser) can find them.
    """
    values = _check_2d(values, "grid_html")
    height, width = values.shape
    is_signed = _is_signed(values) if signed is None else signed
    vmin, vmax = colour_limits(values, is_signed)
    colours = _cell_colours(values, vmin, vmax, is_signed)
    top, left, box_h, box_w = highlight if highlight is not None else (0, 0, 0, 0)
    marked = {tuple(cell) for cell in marked}
    font = max(9, min(14, cell_px // 3 + 2))
    rows = []
    for y in range(height):
        cells = []
        for x in range(width):
            in_pad = padding and (y < padding or x < padding or y >= height - padding
                                  or x >= width - padding)
            inside = top <= y < top + box_h and left <= x < left + box_w
            style = [f"width:{cell_px}px", f"height:{cell_px}px", "text-align:center",
                     "padding:0", f"font-size:{font}px", "font-family:monospace",
                     "border:1px solid #999"]
            if blank is not None and blank[y, x]:
                text, style = "", style + ["background:#ffffff"]
            elif in_pad:
                text = format_number(values[y, x], decimals)
                style += [f"background:{PAD_COLOUR}", "color:#9a8c5a"]
            else:
                text = format_number(values[y, x], decimals)
                background = colours[y, x]
                level = int(background[1:3], 16) * 0.3 + int(background[3:5], 16) * 0.59 \
                    + int(background[5:7], 16) * 0.11
                style += [f"background:{background}", f"color:{'#000' if level > 140 else '#fff'}"]
            if inside:
                edges = []
                if y == top:
                    edges.append("border-top")
                if y == top + box_h - 1:
                    edges.append("border-bottom")
                if x == left:
                    edges.append("border-left")
                if x == left + box_w - 1:
                    edges.append("border-right")
                style += [f"{edge}:3px solid {highlight_colour}" for edge in edges]
            if (y, x) in marked:
                style += ["font-weight:bold", "text-decoration:underline"]
            css = ' class="hl"' if inside else ""
            cells.append(f'<td{css} data-row="{y}" data-col="{x}" style="{";".join(style)}">'
                         f"{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = (f'<caption style="caption-side:top;font-weight:bold;padding:2px">'
               f"{html.escape(title)}</caption>") if title else ""
    return (f'<table class="{css_class}" style="border-collapse:collapse;margin:4px">'
            f"{caption}{''.join(rows)}</table>")


@lru_cache(maxsize=4)
def _palette(name: str) -> list[int]:
    """256 RGB entries of a matplotlib colour map, flattened, for a Pillow "P" image."""
    from matplotlib import colormaps

    colours = colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3]
    return (colours * 255).round().astype(np.uint8).reshape(-1).tolist()


def array_to_png(values, *, signed: bool | None = None, scale: int = 1,
                 vmin: float | None = None, vmax: float | None = None) -> bytes:
    """A 2-D array as PNG bytes (grey, or blue/white/red when ``signed``), each value ``scale``
    pixels wide. Pillow encodes one byte per pixel (grey, or a palette image for the colours):
    no matplotlib figure, about a millisecond for a 150x128 map."""
    from PIL import Image

    values = _check_2d(values, "array_to_png")
    is_signed = _is_signed(values) if signed is None else signed
    low, high = colour_limits(values, is_signed)
    low = low if vmin is None else vmin
    high = high if vmax is None else vmax
    levels = np.nan_to_num(np.clip((values - low) / ((high - low) or 1.0), 0.0, 1.0))
    indices = (levels * 255).round().astype(np.uint8)
    if scale > 1:
        indices = np.repeat(np.repeat(indices, scale, axis=0), scale, axis=1)
    picture = Image.fromarray(indices, mode="L")
    if is_signed:
        picture = picture.convert("P")
        picture.putpalette(_palette("RdBu_r"))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def image_html(values, *, title: str | None = None, width_px: int = 160,
               signed: bool | None = None, vmin: float | None = None,
               vmax: float | None = None) -> str:
    """A 2-D array as an inline PNG ``<img>`` (with an optional caption) in a ``<figure>``."""
    data = base64.b64encode(array_to_png(values, signed=signed, vmin=vmin, vmax=vmax)).decode()
    caption = (f'<figcaption style="font-size:12px;text-align:center">{html.escape(title)}'
               f"</figcaption>") if title else ""
    return (f'<figure style="display:inline-block;margin:4px;vertical-align:top">'
            f'<img src="data:image/png;base64,{data}" width="{width_px}" '
            f'style="image-rendering:pixelated;border:1px solid #999" alt="{html.escape(title or "")}">'
            f"{caption}</figure>")


def row_html(*parts: str, gap_px: int = 12) -> str:
    """HTML blocks side by side (a flex row, wrapping on narrow screens, vertically centred)."""
    return (f'<div style="display:flex;flex-wrap:wrap;align-items:center;gap:{gap_px}px">'
            + "".join(f"<div>{part}</div>" for part in parts) + "</div>")
