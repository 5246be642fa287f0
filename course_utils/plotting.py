"""Pictures of arrays: grids with their numbers written in, kernels, feature maps.

Two families, both pure (arrays in, a picture out, nothing kept):

* **matplotlib**, for the lessons' static figures: :func:`draw_grid` (a 2-D array as a grid of
  cells with each number written in), :func:`highlight_cells`, :func:`draw_kernel`,
  :func:`show_grids` (several grids side by side, e.g. input, kernel, output),
  :func:`show_feature_maps`, :func:`show_images` (photos), :func:`show_curves`,
  :func:`show_bars` and :func:`show_two_runs`. Every ``show_*`` function shows its figure at
  once with :func:`show_figure` -- as an ``<img>`` whose ``alt`` text says what it shows, with
  the numbers (:mod:`course_utils.text_alternatives`) -- and returns it as a :class:`Drawn`, so
  a cell shows every figure it makes, once, whatever comes after the call.
* **HTML**, for the explorers (:mod:`course_utils.widgets`): :func:`grid_html` (the same grid as
  an HTML table, its numbers real text a browser or a test can read, with row and column
  headers) and :func:`image_html` (an array as an inline PNG with its text alternative).
  Building HTML takes a millisecond or two, where a matplotlib figure takes tens, which keeps
  every explorer's redraw far under 100 ms.

Colours: non-negative data (images) is drawn in grey, black = low; data with both signs
(filters, feature maps) in a diverging map, blue < 0 < red, with 0 white. Colour never carries
meaning alone: the numbers are written in, and the text alternative says what is outlined.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from course_utils import text_alternatives as text
from course_utils.text_alternatives import box_text, describe_curve  # noqa: F401 (for the explorers)
from course_utils.text_alternatives import number as format_number  # noqa: F401 (the lessons' name)

Box = tuple[int, int, int, int]  # (top, left, height, width), in cells

HIGHLIGHT = "#e6550d"  # the receptive field / current window
SECOND_HIGHLIGHT = "#3182bd"  # the output cell it produces
PAD_COLOUR = "#fdf5d9"  # padded cells (not part of the image)
PAD_TEXT_COLOUR = "#6b5f2e"  # their zeros: 5.8:1 on PAD_COLOUR (WCAG AA needs 4.5)


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


def _relative_luminance(rgb) -> float:
    """WCAG 2 relative luminance of an ``(r, g, b)`` colour with channels in [0, 1]."""
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def text_colour_on(rgb) -> str:
    """``"#000000"`` or ``"#ffffff"``, whichever contrasts more with the background ``rgb``
    (channels in [0, 1]). The better of the two is always at least 4.58:1, above WCAG AA's 4.5."""
    luminance = _relative_luminance(rgb)
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"


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
        from matplotlib import colormaps

        cmap = colormaps[_cmap_name(is_signed)]
        span = (vmax - vmin) or 1.0
        for y in range(height):
            for x in range(width):
                in_pad = padding and (y < padding or x < padding or y >= height - padding
                                      or x >= width - padding)
                level = float(np.clip((values[y, x] - vmin) / span, 0.0, 1.0))
                colour = PAD_TEXT_COLOUR if in_pad else text_colour_on(cmap(level))
                ax.text(x, y, texts[y][x], ha="center", va="center",
                        fontsize=size, color=colour)
    ax.set_xticks(np.arange(-0.5, width, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, height, 1), minor=True)
    ax.grid(which="minor", color="#888888", linewidth=0.5)
    # Row and column numbers, as the lessons count them (from 0; "pad" on padded rows).
    ax.set_xticks(np.arange(width), [str(text.index_label(x, width, padding)) for x in range(width)])
    ax.set_yticks(np.arange(height), [str(text.index_label(y, height, padding)) for y in range(height)])
    index_size = 7 if max(height, width) > 8 or padding else 8
    ax.tick_params(which="both", length=0, labelbottom=False, labeltop=True, labelleft=True,
                   labelsize=index_size, colors="#555555")
    ax.grid(which="major", visible=False)
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
    plt.close(fig)  # show_figure shows it once; pyplot keeps nothing
    return fig, axes


def _with_suptitle(alt: str, suptitle: str | None) -> str:
    return f"{suptitle}. {alt}" if suptitle else alt


def show_grids(arrays: Sequence, titles: Sequence[str] | None = None, *,
               highlights: Sequence[Box | None] | None = None, decimals: int = 2,
               paddings: Sequence[int] | None = None, signed: Sequence[bool | None] | None = None,
               cell_inches: float = 2.8, suptitle: str | None = None) -> Drawn:
    """Several 2-D arrays side by side as numbered grids, e.g. ``[image, kernel, output]``.

    ``highlights[i]`` outlines a box on grid ``i`` (in orange); ``paddings[i]`` marks a padded
    border. Shows the figure, with every number of grids up to 8x8 in its text alternative.
    Returns it as a :class:`Drawn`.
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
    panels = [text.describe_grid(values, title, decimals=decimals, padding=pad, highlight=box)
              for values, title, box, pad in zip(arrays, titles, highlights, paddings)]
    alt = f"{'Numbered grid' if count == 1 else f'{count} numbered grids side by side'}: " \
          f"{text.join_panels(panels)}."
    return show_figure(fig, _with_suptitle(alt, suptitle))


def _robust_bound(values: np.ndarray) -> float:
    """The 99th percentile of ``|values|``: a few very strong responses would otherwise wash
    everything else out."""
    return float(np.percentile(np.abs(values), 99)) if values.size else 0.0


def show_feature_maps(maps, titles: Sequence[str] | None = None, *, ncols: int = 4,
                      signed: bool | None = None, inches: float = 2.4, suptitle: str | None = None,
                      robust: bool = True, shared_scale: bool = False,
                      kind: str = "feature map") -> Drawn:
    """Feature maps ``(K, H, W)`` (or a list of 2-D arrays) as small images in a grid.

    Signed maps use blue < 0 < red. By default each map gets its own colour scale (its
    strongest responses are full blue or red, however weak they are); ``shared_scale=True``
    draws every map on one scale, with a colour bar, so their strengths can be compared.
    ``robust`` clips the scale at the 99th percentile of the magnitudes so that weak responses
    stay visible. ``kind`` names what the maps are in the text alternative ("training image",
    "filter"). Shows the figure and returns it as a :class:`Drawn`.
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
    signs = [_is_signed(single) if signed is None else signed for single in maps]
    shared = None
    if shared_scale:
        everything = np.concatenate([single.ravel() for single in maps])
        any_signed = any(signs)
        signs = [any_signed] * len(maps)
        shared = colour_limits(everything, any_signed)
        if robust and any_signed:
            bound = _robust_bound(everything) or shared[1]
            shared = (-bound, bound)
    image = None
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= len(maps):
            continue
        single, sign = maps[index], signs[index]
        low, high = shared if shared else colour_limits(single, sign)
        if robust and single.size and not shared:
            bound = _robust_bound(single) or max(abs(low), abs(high))
            low, high = (-bound, bound) if sign else (low, min(high, max(bound, low + 1e-12)))
        image = ax.imshow(single, cmap=_cmap_name(sign), vmin=low, vmax=high,
                          interpolation="nearest")
        ax.set_title(titles[index], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    if shared:
        fig.colorbar(image, ax=list(axes.flat), shrink=0.8, label="one colour scale for all")
    if shared:
        scale = (f"all on one colour scale from {text.number(shared[0])} to "
                 f"{text.number(shared[1])}, so their colours can be compared")
    elif len(maps) == 1:
        scale = "drawn with its own colour scale"
    else:
        scale = "each with its own colour scale, so the strongest values of every map are " \
                "fully coloured however weak they are"
    keys = {text.colour_key(sign) for sign in signs}
    key = keys.pop() if len(keys) == 1 else "grey for maps with no negative values, blue/white/" \
                                            "red for maps with both signs"
    panels = [text.describe_map(single, title or f"map {index + 1}", signed=sign)
              for index, (single, title, sign) in enumerate(zip(maps, titles, signs))]
    alt = (f"{len(maps)} {kind}{'s' if len(maps) > 1 else ''} ({key}), {scale}: "
           f"{text.join_panels(panels)}.")
    return show_figure(fig, _with_suptitle(alt, suptitle))


def show_images(pictures: Sequence, titles: Sequence[str] | None = None, *, inches: float = 3.2,
                suptitle: str | None = None) -> Drawn:
    """Photos side by side: each ``(H, W)`` (grey, values in [0, 1]) or ``(H, W, 3)`` (RGB).

    Unlike :func:`show_feature_maps` the grey scale is fixed to [0, 1], so brightness can be
    compared between pictures. Shows the figure and returns it as a :class:`Drawn`.
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
    panels = [text.describe_picture(picture, title or None)
              for picture, title in zip(pictures, titles)]
    alt = (f"{'A picture' if len(pictures) == 1 else f'{len(pictures)} pictures side by side'}"
           f": {text.join_panels(panels)}.")
    return show_figure(fig, _with_suptitle(alt, suptitle))


def show_curves(x, curves: dict, *, ylim: tuple[float, float] | None = None,
                inches: float = 3.2, suptitle: str | None = None) -> Drawn:
    """One line graph per entry of ``curves`` (``{name: y}``, each ``y`` the shape of ``x``),
    side by side with the axes through 0, e.g. activation functions. Shows the figure; its text
    alternative reads each curve at both ends of ``x`` and at 0. Returns a :class:`Drawn`."""
    x = np.asarray(x, dtype=np.float64)
    fig, axes = _new_figure(len(curves), cell_inches=inches, height_inches=inches * 0.75)
    for ax, (name, y) in zip(axes[0], curves.items()):
        ax.plot(x, np.asarray(y, dtype=np.float64), linewidth=2.5)
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.set_title(name)
        if ylim:
            ax.set_ylim(*ylim)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    readings = [text.describe_curve(x, y, name) for name, y in curves.items()]
    alt = (f"{'A graph' if len(curves) == 1 else f'{len(curves)} graphs side by side'} for x "
           f"from {text.number(x.min())} to {text.number(x.max())}: {'; '.join(readings)}.")
    return show_figure(fig, _with_suptitle(alt, suptitle))


def show_bars(charts: Sequence[tuple[str, Sequence[str], Sequence[float]]], *,
              inches: float = 4.0, colours: Sequence[str] | None = None) -> Drawn:
    """Bar charts side by side, each ``(title, labels, values)``, the value written on each bar.
    Shows the figure and returns it as a :class:`Drawn`."""
    fig, axes = _new_figure(len(charts), cell_inches=inches, height_inches=2.8)
    colours = colours or ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    for index, (ax, (title, labels, values)) in enumerate(zip(axes[0], charts)):
        bars = ax.bar(list(labels), np.asarray(values, dtype=float),
                      color=colours[index % len(colours)])
        ax.bar_label(bars, labels=[text.number(v) for v in values], padding=2)
        ax.set_title(title)
        ax.margins(y=0.15)
    fig.tight_layout()
    panels = [text.describe_bars(labels, values, title) for title, labels, values in charts]
    alt = (f"{'A bar chart' if len(charts) == 1 else f'{len(charts)} bar charts side by side'}:"
           f" {text.join_panels(panels)}.")
    return show_figure(fig, alt)


def show_two_runs(first, second, labels: tuple[str, str] = ("first", "second"), *,
                  tolerance: float | None = None, xlabel: str = "step",
                  ylabel: str = "loss") -> Drawn:
    """Two runs of the same computation compared: left, both curves on top of each other (the
    first thick and pale, the second thin and dashed); right, ``|first - second|`` per step on a
    log scale (exact zeros drawn at 1e-18), with ``tolerance`` as a red line. Shows the figure
    and returns it as a :class:`Drawn`."""
    first, second = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    difference = np.abs(first - second)
    fig, axes = _new_figure(2, cell_inches=5.5, height_inches=3.6)
    left, right = axes[0]
    left.plot(first, lw=4, alpha=0.4, label=labels[0])
    left.plot(second, lw=1, color="black", ls="--", label=labels[1])
    left.set(xlabel=xlabel, ylabel=ylabel, title="two curves, one on top of the other")
    left.legend()
    right.semilogy(np.maximum(difference, 1e-18), ".", ms=3)
    if tolerance is not None:
        right.axhline(tolerance, color="red", lw=1, label=f"required: below {tolerance:g}")
        right.legend()
    right.set(xlabel=xlabel, ylabel="|difference|", title="their difference, per step")
    fig.tight_layout()
    steps = len(first)
    alt = (f"Left: {ylabel} over {steps} {xlabel}s for {labels[0]} and {labels[1]}, from "
           f"{text.number(first[0], 3)} to {text.number(first[-1], 3)}; the two curves lie on "
           f"top of each other. Right: their difference per {xlabel} on a log scale, largest "
           f"{difference.max():.1e}, {int(np.sum(difference == 0))} {xlabel}s exactly 0")
    if tolerance is not None:
        below = int(np.sum(difference < tolerance))
        alt += f"; {below} of {steps} below the required {tolerance:g}"
    return show_figure(fig, alt + ".")


# --------------------------------------------------------------------------------------------
# HTML (the explorers)
# --------------------------------------------------------------------------------------------


#: Inline style of text only a screen reader reads (the usual "visually hidden" pattern).
SCREEN_READER_ONLY = ("position:absolute;width:1px;height:1px;margin:-1px;padding:0;"
                      "overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0")


def screen_reader_text(words: str) -> str:
    """``words`` in a span that is read aloud but not shown (the picture shows it already)."""
    return f'<span class="sr-only" style="{SCREEN_READER_ONLY}">{html.escape(words)}</span>'


def _rgb_hex(rgba) -> str:
    red, green, blue = (int(round(255 * channel)) for channel in rgba[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def _cell_colours(values: np.ndarray, vmin: float, vmax: float, signed: bool):
    """Background colours for every cell as ``'#rrggbb'`` strings, and the text colour that
    contrasts most with each (both arrays of the shape of ``values``)."""
    from matplotlib import colormaps

    span = (vmax - vmin) or 1.0
    levels = np.clip((values - vmin) / span, 0.0, 1.0)
    if signed:
        rgba = colormaps["RdBu_r"](0.15 + 0.7 * levels)  # keep the ends light enough for text
    else:
        rgba = colormaps["gray"](0.35 + 0.65 * levels)
    flat = rgba.reshape(-1, 4)
    backgrounds = np.array([_rgb_hex(colour) for colour in flat], dtype=object)
    texts = np.array([text_colour_on(colour) for colour in flat], dtype=object)
    return backgrounds.reshape(values.shape), texts.reshape(values.shape)


def grid_html(values, *, title: str | None = None, decimals: int = 2, signed: bool | None = None,
              padding: int = 0, highlight: Box | None = None, highlight_colour: str = HIGHLIGHT,
              marked: Sequence[tuple[int, int]] = (), blank: np.ndarray | None = None,
              cell_px: int = 34, css_class: str = "grid", description: str | None = None,
              highlight_name: str = "outlined") -> str:
    """A 2-D array ``(H, W)`` as an HTML table: one cell per number, the number written in it,
    with row and column headers (the indices, ``pad`` on padded rows and columns, so that cell
    ``(1, 2)`` of an image padded by 1 is headed "1" and "2").

    ``padding``: outer ring of padded cells (pale yellow). ``highlight``: ``(top, left, height,
    width)`` box drawn with a thick ``highlight_colour`` border. ``marked``: cells whose number is
    shown in bold and underlined (e.g. the maximum of a pooling window). ``blank``: a boolean
    mask of cells drawn empty (e.g. output cells not computed yet). Each cell carries
    ``data-row``/``data-col`` attributes, and highlighted ones the class ``hl``, so a test (or
    a browser) can find them. The caption is ``title`` and, for screen readers, ``description``
    -- by default a sentence naming the outlined box, the marked cells and the padding, in the
    headers' numbering -- so no meaning is carried by colour or a border alone.
    """
    values = _check_2d(values, "grid_html")
    height, width = values.shape
    is_signed = _is_signed(values) if signed is None else signed
    vmin, vmax = colour_limits(values, is_signed)
    colours, text_colours = _cell_colours(values, vmin, vmax, is_signed)
    top, left, box_h, box_w = highlight if highlight is not None else (0, 0, 0, 0)
    marked = {tuple(cell) for cell in marked}
    font = max(9, min(14, cell_px // 3 + 2))
    header_style = ("font-size:10px;font-weight:normal;color:#555;padding:0 3px;border:0;"
                    "text-align:center;font-family:monospace")
    rows = ["<tr><td></td>" + "".join(
        f'<th scope="col" style="{header_style}">{text.index_label(x, width, padding)}</th>'
        for x in range(width)) + "</tr>"]
    for y in range(height):
        cells = [f'<th scope="row" style="{header_style}">{text.index_label(y, height, padding)}</th>']
        for x in range(width):
            in_pad = padding and (y < padding or x < padding or y >= height - padding
                                  or x >= width - padding)
            inside = top <= y < top + box_h and left <= x < left + box_w
            style = [f"width:{cell_px}px", f"height:{cell_px}px", "text-align:center",
                     "padding:0", f"font-size:{font}px", "font-family:monospace",
                     "border:1px solid #999"]
            if blank is not None and blank[y, x]:
                cell_text, style = "", style + ["background:#ffffff"]
            elif in_pad:
                cell_text = format_number(values[y, x], decimals)
                style += [f"background:{PAD_COLOUR}", f"color:{PAD_TEXT_COLOUR}"]
            else:
                cell_text = format_number(values[y, x], decimals)
                style += [f"background:{colours[y, x]}", f"color:{text_colours[y, x]}"]
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
                         f"{cell_text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if description is None:
        parts = [f"{height} by {width} grid"]
        if highlight is not None:
            parts.append(f"{highlight_name}: {text.box_text(highlight, values.shape, padding)}")
        if marked:
            where = ", ".join(f"({text.index_label(r, height, padding)}, "
                              f"{text.index_label(c, width, padding)})" for r, c in sorted(marked))
            parts.append(f"in bold, as (row, column): {where}")
        if padding:
            parts.append("rows and columns headed pad are zero padding")
        description = "; ".join(parts)
    caption = (f'<caption style="caption-side:top;font-weight:bold;padding:2px">'
               f"{html.escape(title or '')}{screen_reader_text(' (' + description + ')')}"
               f"</caption>")
    return (f'<table class="{css_class}" style="border-collapse:collapse;margin:4px;'
            f'position:relative">{caption}{"".join(rows)}</table>')


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
               vmax: float | None = None, alt: str | None = None) -> str:
    """A 2-D array as an inline PNG ``<img>`` (with an optional caption) in a ``<figure>``.

    ``alt`` is the text a screen reader reads instead of the picture; by default its title,
    shape, value range and what the colours mean (:func:`text_alternatives.describe_map`).
    """
    values = _check_2d(values, "image_html")
    is_signed = _is_signed(values) if signed is None else signed
    data = base64.b64encode(array_to_png(values, signed=is_signed, vmin=vmin, vmax=vmax)).decode()
    if alt is None:
        alt = f"{text.describe_map(values, title, signed=is_signed)} ({text.colour_key(is_signed)})"
    caption = (f'<figcaption style="font-size:12px;text-align:center">{html.escape(title)}'
               f"</figcaption>") if title else ""
    return (f'<figure style="display:inline-block;margin:4px;vertical-align:top">'
            f'<img src="data:image/png;base64,{data}" width="{width_px}" '
            f'style="image-rendering:pixelated;border:1px solid #999" '
            f'alt="{html.escape(alt, quote=True)}">{caption}</figure>')


def row_html(*parts: str, gap_px: int = 12) -> str:
    """HTML blocks side by side (a flex row, wrapping on narrow screens, vertically centred)."""
    return (f'<div style="display:flex;flex-wrap:wrap;align-items:center;gap:{gap_px}px">'
            + "".join(f"<div>{part}</div>" for part in parts) + "</div>")
