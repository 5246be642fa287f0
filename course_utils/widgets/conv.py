"""The convolution explorer of lesson 01 (``01_convolution_by_hand.ipynb``).

Pure parts, tested directly: :func:`parse_kernel` ("1 0 1; 0 1 0; 1 0 1" -> array),
:func:`conv_window` (everything about one window: where it sits, its products, its value),
:func:`window_arithmetic` ("1*1 + 1*0 + ... = 4"), :func:`kernel_as_text` (array -> the text box's
"1 0 1; 0 1 0; 1 0 1") and :func:`draw_conv` (state in, HTML out).
:func:`conv_explorer` only wires controls to :func:`draw_conv`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from course_utils import images, kernels, plotting
from course_utils.reference import conv2d, output_size, pad
from course_utils.widgets.base import (
    Explorer,
    button,
    checkbox,
    dropdown,
    error_html,
    slider,
    text_box,
)

TYPED = "typed in"  # the kernel-dropdown choice that reads the text box
OPERATOR = ('<span aria-hidden="true" style="font-size:28px">{symbol}</span>'
            '{spoken}')


def explorer_inputs() -> dict[str, np.ndarray]:
    """The images a student can pick: name -> 2-D array (read-only; the photo is read once)."""
    return {
        "5x5 example": images.binary_image_5x5(),
        "6x6 edge image": images.edge_image_6x6(),
        "photo crop 8x8": images.photo_crop(),
    }


def parse_kernel(text: str) -> np.ndarray:
    """Read a kernel typed as rows separated by ``;`` or new lines, numbers by spaces or commas.

    >>> parse_kernel("1 0 1; 0 1 0; 1 0 1").tolist()
    [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]

    Raises ``ValueError`` saying what is wrong (a word that is not a number, rows of different
    lengths, nothing typed).
    """
    rows = [row.replace(",", " ").split() for row in text.replace("\n", ";").split(";")]
    rows = [row for row in rows if row]
    if not rows:
        raise ValueError("the kernel is empty: type rows of numbers such as 1 0 1; 0 1 0; 1 0 1")
    lengths = {len(row) for row in rows}
    if len(lengths) > 1:
        counts = ", ".join(str(len(row)) for row in rows)
        raise ValueError(f"every kernel row needs the same number of values; the rows have {counts}")
    try:
        return np.array([[float(word) for word in row] for row in rows])
    except ValueError:
        bad = next(word for row in rows for word in row if not _is_number(word))
        raise ValueError(f"{bad!r} is not a number; separate numbers by spaces, rows by ;") from None


def kernel_as_text(weights) -> str:
    """A kernel written the way :func:`parse_kernel` reads it: ``"1 0 1; 0 1 0; 1 0 1"``.

    >>> kernel_as_text(kernels.kernel("sobel_x"))
    '-1 0 1; -2 0 2; -1 0 1'
    """
    return "; ".join(" ".join(plotting.format_number(v, 4) for v in row)
                     for row in np.asarray(weights, dtype=float))


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _term(pixel: float, weight: float, decimals: int) -> str:
    weight_text = plotting.format_number(weight, decimals)
    pixel_text = plotting.format_number(pixel, decimals)
    if weight < 0:
        weight_text = f"({weight_text})"
    if pixel < 0:
        pixel_text = f"({pixel_text})"
    return f"{pixel_text}*{weight_text}"


def window_arithmetic(window, kernel, decimals: int = 2) -> str:
    """One output value written out: ``"1*1 + 1*0 + 1*1 + ... = 4"`` (pixel*weight, row by row).

    ``window`` and ``kernel`` are arrays of the same shape ``(KH, KW)``.
    """
    window, kernel = np.asarray(window, float), np.asarray(kernel, float)
    if window.shape != kernel.shape:
        raise ValueError(f"window_arithmetic: window {window.shape} and kernel {kernel.shape} "
                         "must have the same shape")
    terms = " + ".join(_term(p, w, decimals) for p, w in zip(window.flat, kernel.flat))
    return f"{terms} = {plotting.format_number(np.sum(window * kernel), decimals)}"


@dataclass(frozen=True)
class ConvWindow:
    """One position of the kernel on the (padded) image."""

    padded: np.ndarray  # (H + 2p, W + 2p)
    output: np.ndarray  # (H_out, W_out), the whole feature map
    row: int  # output cell
    col: int
    box: plotting.Box  # the receptive field in the padded image: (top, left, KH, KW)
    window: np.ndarray  # (KH, KW) pixels under the kernel
    value: float  # output[row, col] = sum(window * kernel)


def conv_window(image, kernel, stride: int = 1, padding: int = 0, position: int = 0) -> ConvWindow:
    """The ``position``-th window (row by row) of ``conv2d(image, kernel, stride, padding)``.

    ``position`` is clamped to the last window. Shapes: image ``(H, W)``, kernel ``(KH, KW)``.
    """
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    output = conv2d(image, kernel, stride=stride, padding=padding)
    padded = pad(image, padding)
    h_out, w_out = output.shape
    position = int(np.clip(position, 0, h_out * w_out - 1))
    row, col = divmod(position, w_out)
    top, left = row * stride, col * stride
    kh, kw = kernel.shape
    window = padded[top:top + kh, left:left + kw]
    return ConvWindow(padded, output, row, col, (top, left, kh, kw), window, float(output[row, col]))


def size_formula(n: int, f: int, p: int, s: int) -> str:
    """``"floor((5 + 2*0 - 3) / 1) + 1 = 3"``: the output-size formula with the numbers in."""
    return f"floor(({n} + 2*{p} - {f}) / {s}) + 1 = {output_size(n, f, p, s)}"


def draw_conv(input: str = "5x5 example", kernel: str = "x_pattern", kernel_text: str = "",
              stride: int = 1, padding: int = 0, position: int = 0,
              show_all: bool = False) -> str:
    """The explorer's view as HTML: padded input with the receptive field outlined, the kernel,
    the output with the current cell outlined (later cells blank unless ``show_all``), the
    cell's arithmetic and the output size.

    ``input``: a name from :func:`explorer_inputs`; ``kernel``: a name from
    ``kernels.KERNEL_NAMES`` or ``"typed in"`` to read ``kernel_text`` (see :func:`parse_kernel`).
    A kernel that cannot be read or does not fit gives a message instead of a picture.
    """
    image = explorer_inputs()[input]
    try:
        weights = parse_kernel(kernel_text) if kernel == TYPED else kernels.kernel(kernel)
        state = conv_window(image, weights, stride, padding, position)
    except ValueError as error:
        return error_html(str(error))
    h_out, w_out = state.output.shape
    decimals = 0 if input.startswith("photo") else 2
    current = f"output[{state.row}, {state.col}]"
    blank = None
    if not show_all:
        order = np.arange(h_out * w_out).reshape(h_out, w_out)
        blank = order > state.row * w_out + state.col
    later = ("; the cells after it are empty: not computed yet"
             if blank is not None and blank.any() else "")
    window = plotting.box_text(state.box, state.padded.shape, padding)
    pictures = plotting.row_html(
        plotting.grid_html(state.padded, title=f"input {image.shape[0]}x{image.shape[1]}"
                           + (f", padding {padding}" if padding else ""),
                           padding=padding, highlight=state.box, decimals=decimals,
                           css_class="grid input-grid", highlight_name="the window (orange box)"),
        OPERATOR.format(symbol="&#8902;", spoken=plotting.screen_reader_text("convolved with")),
        plotting.grid_html(weights, title=f"kernel {weights.shape[0]}x{weights.shape[1]}",
                           signed=True, css_class="grid kernel-grid"),
        OPERATOR.format(symbol="=", spoken=plotting.screen_reader_text("gives")),
        plotting.grid_html(state.output, title=f"output {h_out}x{w_out}", blank=blank,
                           highlight=(state.row, state.col, 1, 1),
                           highlight_colour=plotting.SECOND_HIGHLIGHT, decimals=decimals,
                           css_class="grid output-grid",
                           description=f"{h_out} by {w_out} grid; the blue box is {current}, "
                                       f"computed from the window at {window}{later}"),
    )
    arithmetic = window_arithmetic(state.window, weights, decimals=2)
    n, f = image.shape[0], weights.shape[0]
    text = (
        f'<p class="arithmetic" style="font-family:monospace">{current} = '
        f"{html.escape(arithmetic)}</p>"
        f'<p class="output-size" style="font-family:monospace">output size: '
        f"{html.escape(size_formula(n, f, padding, stride))} per side, "
        f"so {h_out}x{w_out}; window {state.row * w_out + state.col + 1} of {h_out * w_out}</p>"
    )
    return pictures + text


class ConvExplorer(Explorer):
    """Controls: input, kernel, kernel text, stride, padding, position, show all; an "apply"
    button. The text box always shows the kernel in use: choosing a named kernel writes its
    numbers there, and applying typed numbers (Enter, or the button) switches to "typed in"."""

    def sync_controls(self) -> None:
        state = self.state()
        image = explorer_inputs()[state["input"]]
        try:
            weights = (parse_kernel(state["kernel_text"]) if state["kernel"] == TYPED
                       else kernels.kernel(state["kernel"]))
            cells = (output_size(image.shape[0], weights.shape[0], state["padding"], state["stride"])
                     * output_size(image.shape[1], weights.shape[1], state["padding"], state["stride"]))
        except ValueError:
            return  # draw_conv shows the message
        position = self.controls["position"]
        position.max = cells - 1  # ipywidgets clamps the value into range

    def on_control_change(self, change) -> None:
        if change.owner is self.controls["kernel"] and change.new != TYPED:
            self.set_quietly("kernel_text", kernel_as_text(kernels.kernel(change.new)))
        elif change.owner is self.controls["kernel_text"]:
            self.set_quietly("kernel", TYPED)

    def apply_typed_kernel(self, _button=None) -> str:
        """What the "apply" button does: draw with the numbers in the text box."""
        self.set_quietly("kernel", TYPED)
        return self.render()


def conv_explorer(input: str = "5x5 example", kernel: str = "x_pattern", stride: int = 1,
                  padding: int = 0, kernel_text: str | None = None) -> ConvExplorer:
    """Slide a kernel over an image one window at a time (lesson 01).

    Choose the input (the 5x5 example, the 6x6 edge image, a crop of the photo), the kernel
    (by name, or type its numbers into the text box and press Enter or "apply"), stride,
    padding and the window position; see the padded input with the receptive field, the kernel,
    the output with the current cell, and that cell's arithmetic. ``kernel_text`` defaults to
    the chosen kernel's numbers. ``.controls`` holds the widgets by name, ``.view`` the HTML.
    """
    if kernel_text is None:
        kernel_text = kernel_as_text(kernels.kernel(kernel if kernel != TYPED else "x_pattern"))
    controls = {
        "input": dropdown("input", list(explorer_inputs()), input),
        "kernel": dropdown("kernel", [*kernels.KERNEL_NAMES, TYPED], kernel),
        "kernel_text": text_box("kernel numbers (rows split by ;)", kernel_text,
                                "1 0 1; 0 1 0; 1 0 1"),
        "stride": slider("stride", stride, 1, 3),
        "padding": slider("padding", padding, 0, 2),
        "position": slider("position", 0, 0, 8),
        "show_all": checkbox("show all outputs"),
    }
    buttons = {"apply": button("apply typed kernel",
                               "draw with the numbers in the text box (Enter does the same)")}
    explorer = ConvExplorer("conv-explorer", controls, draw_conv,
                            [["input", "kernel"], ["kernel_text", "apply"],
                             ["stride", "padding", "position", "show_all"]], buttons)
    buttons["apply"].on_click(explorer.apply_typed_kernel)
    return explorer
