"""The gradient explorer of lesson 06 (``06_backprop_through_conv.ipynb``).

Pick one output cell of a convolution and see where its gradient goes: send ``grad_out = 1``
into that cell only (0 everywhere else) and run the real backward pass
(:func:`course_utils.reference.conv2d_backward`). The input gradient lights up exactly the
pixels the cell read, each holding the kernel weight it was multiplied by; the weight gradient
holds exactly those pixels' values. Stride moves the footprint, dilation spreads it, padding
lets part of it fall on padding, where it is dropped.

Pure parts, tested directly: :func:`gradient_footprint` (the numbers) and
:func:`draw_gradient` (state in, HTML out). :func:`gradient_explorer` only wires controls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils import plotting
from course_utils.reference import conv2d_backward, output_size, pad
from course_utils.widgets.base import Explorer, error_html, slider

IMAGE_SIZE = 6


def explorer_image(size: int = IMAGE_SIZE) -> np.ndarray:
    """The input: ``1, 2, ..., size*size`` row by row, so every pixel is named by its value."""
    return np.arange(1, size * size + 1, dtype=np.float64).reshape(size, size)


def explorer_kernel(kernel_size: int = 3) -> np.ndarray:
    """The kernel: weights ``1, 2, ..., k*k`` as small fractions, so each is easy to spot."""
    return np.arange(1, kernel_size**2 + 1, dtype=np.float64).reshape(kernel_size, kernel_size) / 10


@dataclass(frozen=True)
class GradientFootprint:
    """Where the gradient of one output cell goes. Coordinates are in the *padded* input."""

    padded: np.ndarray  # (H + 2p, W + 2p): the input the kernel slides over
    kernel: np.ndarray  # (KH, KW)
    grad_out: np.ndarray  # (H_out, W_out): 1 at (row, col), 0 elsewhere
    grad_padded: np.ndarray  # (H + 2p, W + 2p): dL/dx_pad, the kernel weights at the touched pixels
    grad_x: np.ndarray  # (H, W): dL/dx, i.e. grad_padded with the padding cropped off
    grad_weight: np.ndarray  # (KH, KW): dL/dweight, the touched pixels' values
    touched: tuple[tuple[int, int], ...]  # padded coordinates read by the cell, row-major
    box: plotting.Box  # (top, left, height, width) spanned by the touched pixels
    in_padding: int  # how many touched pixels are padding (their gradient is dropped)
    row: int
    col: int


def gradient_footprint(row: int = 0, col: int = 0, stride: int = 1, padding: int = 0,
                       dilation: int = 1, kernel_size: int = 3, image=None, kernel=None
                       ) -> GradientFootprint:
    """Backpropagate ``grad_out = one-hot(row, col)`` through ``conv2d(image, kernel, ...)``.

    ``image`` ``(H, W)`` defaults to :func:`explorer_image`, ``kernel`` ``(KH, KW)`` to
    :func:`explorer_kernel`. ``row`` and ``col`` are clamped into the output. Raises the
    reference's ``ValueError`` when the kernel does not fit.
    """
    image = explorer_image() if image is None else np.asarray(image, dtype=np.float64)
    kernel = explorer_kernel(kernel_size) if kernel is None else np.asarray(kernel, dtype=np.float64)
    kh, kw = kernel.shape
    h_out = output_size(image.shape[0], kh, padding, stride, dilation)
    w_out = output_size(image.shape[1], kw, padding, stride, dilation)
    row, col = int(np.clip(row, 0, h_out - 1)), int(np.clip(col, 0, w_out - 1))
    grad_out = np.zeros((h_out, w_out))
    grad_out[row, col] = 1.0
    padded = pad(image, padding)
    # The padded input with padding 0 is the same convolution, and its gradient keeps the border.
    grad_padded, grad_weight, _ = conv2d_backward(grad_out, padded, kernel, stride, 0, dilation)
    grad_x, _, _ = conv2d_backward(grad_out, image, kernel, stride, padding, dilation)
    top, left = row * stride, col * stride
    touched = tuple((top + i * dilation, left + j * dilation) for i in range(kh) for j in range(kw))
    height, width = padded.shape
    in_padding = sum(
        not (padding <= y < height - padding and padding <= x < width - padding) for y, x in touched
    )
    box = (top, left, dilation * (kh - 1) + 1, dilation * (kw - 1) + 1)
    return GradientFootprint(padded, kernel, grad_out, grad_padded, grad_x, grad_weight, touched,
                             box, in_padding, row, col)


def draw_gradient(row: int = 0, col: int = 0, stride: int = 1, padding: int = 0,
                  dilation: int = 1, kernel_size: int = 3) -> str:
    """The explorer's view as HTML.

    Top row, the forward pass: the padded input with the pixels the cell reads in bold (their
    span outlined), the kernel, and the output with the chosen cell outlined. Bottom row, the
    backward pass with ``grad_out`` = 1 in that cell: ``dL/dx`` (the kernel's weights, placed on
    the pixels they multiplied) and ``dL/dweight`` (those pixels' values). A line of text says
    how many pixels and weights the gradient reaches and how much of it falls on padding.
    """
    try:
        state = gradient_footprint(row, col, stride, padding, dilation, kernel_size)
    except ValueError as error:
        return error_html(str(error))
    h_out, w_out = state.grad_out.shape
    size = f"{state.padded.shape[0] - 2 * padding}x{state.padded.shape[1] - 2 * padding}"
    cell = (state.row, state.col, 1, 1)
    name = f"output[{state.row}, {state.col}]"
    forward = plotting.row_html(
        plotting.grid_html(state.padded, title=f"input x {size}" + (f", padding {padding}" if padding else ""),
                           padding=padding, highlight=state.box, marked=state.touched, decimals=0,
                           css_class="grid input-grid", highlight_name=f"span read by {name}"),
        plotting.grid_html(state.kernel, title=f"kernel {kernel_size}x{kernel_size}", signed=True,
                           css_class="grid kernel-grid"),
        plotting.grid_html(state.grad_out, title=f"grad_out {h_out}x{w_out} (1 in one cell)",
                           highlight=cell, highlight_colour=plotting.SECOND_HIGHLIGHT, decimals=0,
                           css_class="grid grad-out-grid", highlight_name=f"{name}, the 1"),
    )
    backward = plotting.row_html(
        plotting.grid_html(state.grad_padded, title="dL/dx (padding drops)" if padding else "dL/dx",
                           padding=padding, highlight=state.box, marked=state.touched, signed=True,
                           css_class="grid grad-x-grid", highlight_name=f"span read by {name}"),
        plotting.grid_html(state.grad_weight, title="dL/dweight", decimals=0, signed=True,
                           css_class="grid grad-weight-grid"),
    )
    reached = len(state.touched) - state.in_padding
    dropped = (f" {state.in_padding} of the {len(state.touched)} pixels it read are padding: "
               f"their gradient is cropped away." if state.in_padding else "")
    text = (
        f'<p class="footprint" style="font-family:monospace">{name} '
        f"read the input's {plotting.box_text(state.box, state.padded.shape, padding)}"
        f"{' (every other pixel: dilation 2)' if dilation == 2 else ''}. Its gradient reaches "
        f"{reached} input pixel{'s' if reached != 1 else ''} "
        f"(each gets the weight it was multiplied by) and all {state.kernel.size} weights "
        f"(each gets the pixel it multiplied).{dropped}</p>"
    )
    return (f"<h4>forward</h4>{forward}<h4>backward, grad_out = 1 at output[{state.row}, {state.col}]"
            f"</h4>{backward}{text}")


class GradientExplorer(Explorer):
    """Controls: output row and column, stride, padding, dilation, kernel size."""

    def sync_controls(self) -> None:
        state = self.state()
        try:
            h_out = output_size(IMAGE_SIZE, state["kernel_size"], state["padding"], state["stride"],
                                state["dilation"])
        except ValueError:
            return  # draw_gradient shows the message
        self.controls["row"].max = h_out - 1  # ipywidgets clamps the value into range
        self.controls["col"].max = h_out - 1


def gradient_explorer(row: int = 1, col: int = 1, stride: int = 1, padding: int = 0,
                      dilation: int = 1, kernel_size: int = 3) -> GradientExplorer:
    """For one output cell of a 6x6 convolution, show which pixels and weights its gradient
    touches (lesson 06). ``.controls`` holds the widgets by name, ``.view`` the HTML."""
    controls = {
        "row": slider("output row", row, 0, IMAGE_SIZE - 1),
        "col": slider("output column", col, 0, IMAGE_SIZE - 1),
        "stride": slider("stride", stride, 1, 3),
        "padding": slider("padding", padding, 0, 2),
        "dilation": slider("dilation", dilation, 1, 2),
        "kernel_size": slider("kernel size", kernel_size, 1, 4),
    }
    return GradientExplorer("gradient-explorer", controls, draw_gradient,
                            [["row", "col"], ["stride", "padding", "dilation", "kernel_size"]])
