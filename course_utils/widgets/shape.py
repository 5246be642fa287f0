"""The output-size explorer of lesson 02 (``02_padding_and_stride.ipynb``).

``floor((n + 2p - f) / s) + 1`` windows fit along one side. :func:`draw_shape` fills in the
formula and draws every window along one row of the padded input; :func:`shape_warning` says
when ``(n + 2p - f)`` is not a multiple of ``s`` (the last pixels are then never covered).
"""

from __future__ import annotations


from course_utils import plotting
from course_utils.reference import output_size
from course_utils.widgets.base import Explorer, error_html, shape_warning, slider, warning_html

CELL = 26  # pixels per cell in the drawing


def shape_error(n: int, f: int, p: int) -> str | None:
    """A sentence when the kernel is larger than the padded input (no output at all)."""
    if f > n + 2 * p:
        return (f"the kernel (f = {f}) is wider than the padded input (n + 2p = {n + 2 * p}): "
                "no window fits; use more padding or a smaller kernel")
    return None


def _windows_svg(n: int, f: int, p: int, s: int, count: int) -> str:
    width = n + 2 * p
    rows = min(count, 12)
    height_px = CELL + 8 + rows * (CELL // 2 + 4) + 4
    parts = [f'<svg class="windows" width="{width * CELL + 2}" height="{height_px}" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="monospace" font-size="11">']
    covered_to = (count - 1) * s + f if count else 0
    for x in range(width):
        is_pad = x < p or x >= p + n
        fill = plotting.PAD_COLOUR if is_pad else "#dddddd"
        if x >= covered_to:
            fill = "#f4a6a6"  # never inside a window
        parts.append(f'<rect x="{x * CELL + 1}" y="1" width="{CELL}" height="{CELL}" '
                     f'fill="{fill}" stroke="#888"/>')
        label = "0" if is_pad else str(x - p + 1)
        parts.append(f'<text x="{x * CELL + CELL / 2 + 1}" y="{CELL / 2 + 5}" '
                     f'text-anchor="middle">{label}</text>')
    for index in range(rows):
        y = CELL + 8 + index * (CELL // 2 + 4)
        parts.append(f'<rect x="{index * s * CELL + 3}" y="{y}" width="{f * CELL - 4}" '
                     f'height="{CELL // 2}" rx="3" fill="{plotting.HIGHLIGHT}" opacity="0.75"/>')
    parts.append("</svg>")
    more = f"<p>... and {count - rows} more windows</p>" if count > rows else ""
    return "".join(parts) + more


def draw_shape(n: int = 5, f: int = 3, p: int = 0, s: int = 1) -> str:
    """HTML: the formula with the numbers filled in, the windows along one padded row, and a
    warning when ``(n + 2p - f)`` is not divisible by ``s``.

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
    warning_line = warning_html(warning) if warning else ""
    same = "" if size != n else '<p class="note">Output as large as the input: "same" padding.</p>'
    legend = ('<p style="font-size:12px">Top row: one row of the padded input (pale = padding, '
              "red = never covered). Bars: the windows, one per output pixel.</p>")
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
