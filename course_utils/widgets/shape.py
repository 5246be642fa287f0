"""The output-size explorer of lesson 02 (``02_padding_and_stride.ipynb``).

``floor((n + 2p - f) / s) + 1`` windows fit along one side. :func:`draw_shape` fills in the
formula and draws every window along one row of the padded input, its pixels numbered from 0
as lesson 02 counts them; :func:`shape_warning` says when ``(n + 2p - f)`` is not a multiple of
``s``, and the view names the pixels no window covers.
"""

from __future__ import annotations

import html

from course_utils import plotting
from course_utils.reference import output_size
from course_utils.widgets.base import Explorer, error_html, shape_warning, slider, warning_html

CELL = 26  # pixels per cell in the drawing
MAX_WINDOWS = 12  # windows drawn as bars; the rest are counted


def shape_error(n: int, f: int, p: int) -> str | None:
    """A sentence when the kernel is larger than the padded input (no output at all)."""
    if f > n + 2 * p:
        return (f"the kernel (f = {f}) is wider than the padded input (n + 2p = {n + 2 * p}): "
                "no window fits; use more padding or a smaller kernel")
    return None


def pixel_label(x: int, n: int, p: int) -> str:
    """Pixel ``x`` of the padded row as the lesson counts it: ``0 .. n-1``, ``pad`` outside."""
    return "pad" if x < p or x >= p + n else str(x - p)


def uncovered_pixels(n: int, f: int, p: int, s: int) -> list[int]:
    """Positions in the padded row (``0 .. n + 2p - 1``) that no window covers: the last ones
    when ``(n + 2p - f)`` is not a multiple of ``s``, and the gaps when ``s > f``."""
    covered = set()
    for index in range(output_size(n, f, p, s)):
        covered.update(range(index * s, index * s + f))
    return [x for x in range(n + 2 * p) if x not in covered]


def _names(labels: list[str]) -> str:
    numbers = [label for label in labels if label != "pad"]
    parts = []
    if numbers:
        parts.append(("pixel " if len(numbers) == 1 else "pixels ") + ", ".join(numbers))
    if "pad" in labels:
        count = labels.count("pad")
        parts.append("1 padding cell" if count == 1 else f"{count} padding cells")
    return " and ".join(parts)


def describe_windows(n: int, f: int, p: int, s: int) -> str:
    """The drawing in words: the row, every window's pixels, the pixels never covered."""
    count = output_size(n, f, p, s)
    width = n + 2 * p
    row = f"One row of the input: pixels 0 to {n - 1}" + (
        f", with {p} padding cell{'s' if p > 1 else ''} on each side" if p else "")
    shown = min(count, MAX_WINDOWS)
    windows = "; ".join(
        pixel_label(i * s, n, p) if f == 1 else
        f"{pixel_label(i * s, n, p)} to {pixel_label(i * s + f - 1, n, p)}" for i in range(shown))
    more = f" and {count - shown} more" if count > shown else ""
    missed = [pixel_label(x, n, p) for x in uncovered_pixels(n, f, p, s)]
    never = f" Never covered: {_names(missed)}." if missed else " Every cell is covered."
    plural = "s" if count != 1 else ""
    cells = "1 cell" if f == 1 else f"{f} cells"
    return f"{row} ({width} cells). {count} window{plural} of {cells}, one every {s}: " \
           f"{windows}{more}.{never}"


def _windows_svg(n: int, f: int, p: int, s: int, count: int) -> str:
    width = n + 2 * p
    rows = min(count, MAX_WINDOWS)
    height_px = CELL + 8 + rows * (CELL // 2 + 4) + 4
    label = html.escape(describe_windows(n, f, p, s), quote=True)
    parts = [f'<svg class="windows" width="{width * CELL + 2}" height="{height_px}" '
             f'role="img" aria-label="{label}" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="monospace" font-size="11">']
    missed = set(uncovered_pixels(n, f, p, s))
    for x in range(width):
        is_pad = x < p or x >= p + n
        fill = plotting.PAD_COLOUR if is_pad else "#dddddd"
        stroke = ' stroke="#888"'
        if x in missed:  # never inside a window: red, and crossed out (not colour alone)
            fill, stroke = "#f4a6a6", ' stroke="#b30000" stroke-width="2"'
        parts.append(f'<rect x="{x * CELL + 1}" y="1" width="{CELL}" height="{CELL}" '
                     f'fill="{fill}"{stroke}/>')
        parts.append(f'<text x="{x * CELL + CELL / 2 + 1}" y="{CELL / 2 + 5}" '
                     f'text-anchor="middle" font-size="{9 if is_pad else 11}">'
                     f"{pixel_label(x, n, p)}</text>")
        if x in missed:
            parts.append(f'<line x1="{x * CELL + 3}" y1="{CELL - 1}" x2="{x * CELL + CELL - 1}" '
                         f'y2="3" stroke="#b30000" stroke-width="1.5"/>')
    for index in range(rows):
        y = CELL + 8 + index * (CELL // 2 + 4)
        parts.append(f'<rect x="{index * s * CELL + 3}" y="{y}" width="{f * CELL - 4}" '
                     f'height="{CELL // 2}" rx="3" fill="{plotting.HIGHLIGHT}" opacity="0.75"/>')
    parts.append("</svg>")
    more = f"<p>... and {count - rows} more windows</p>" if count > rows else ""
    return "".join(parts) + more


def draw_shape(n: int = 5, f: int = 3, p: int = 0, s: int = 1) -> str:
    """HTML: the formula with the numbers filled in, the windows along one padded row (pixels
    numbered from 0, as the lesson counts them), and a warning naming the pixels no window
    covers when ``(n + 2p - f)`` is not divisible by ``s``.

    n: input size, f: kernel size, p: padding on each side, s: stride.
    """
    error = shape_error(n, f, p)
    if error:
        return error_html(error, "No output:")
    size = output_size(n, f, p, s)
    room = n + 2 * p - f
    formula = (f'<p class="formula" style="font-family:monospace;font-size:15px">'
               f"output size = floor((n + 2p - f) / s) + 1 = floor(({n} + 2*{p} - {f}) / {s}) + 1"
               f" = floor({room} / {s}) + 1 = {room // s} + 1 = <b>{size}</b></p>")
    warning = shape_warning(n, f, p, s)
    missed = [pixel_label(x, n, p) for x in uncovered_pixels(n, f, p, s)]
    if warning and missed:
        warning += f" (never covered: {_names(missed)})"
    warning_line = warning_html(warning) if warning else ""
    same = "" if size != n else '<p class="note">Output as large as the input: "same" padding.</p>'
    legend = ('<p style="font-size:12px">Top row: one row of the padded input, pixels numbered '
              'from 0 (pad = padding; red and crossed out = never covered). Bars: the windows, '
              "one per output pixel.</p>")
    return formula + warning_line + same + _windows_svg(n, f, p, s, size) + legend


class ShapeExplorer(Explorer):
    """Controls: n, f, p, s."""


def shape_explorer(n: int = 7, f: int = 3, p: int = 0, s: int = 1) -> ShapeExplorer:
    """Sliders for input size n, kernel size f, padding p and stride s -> the output size with
    the formula filled in and every window drawn (lesson 02)."""
    controls = {
        "n": slider("n (input)", n, 1, 16),
        "f": slider("f (kernel)", f, 1, 7),
        "p": slider("p (padding)", p, 0, 3),
        "s": slider("s (stride)", s, 1, 4),
    }
    return ShapeExplorer("shape-explorer", controls, draw_shape, [["n", "f"], ["p", "s"]])
