"""How far a unit sees: the receptive field, layer by layer (lesson 07).

A unit of a layer is computed from a window of the layer below, whose units each come from a
window of the layer below that, and so on down to the image. Three numbers per layer describe
where every unit's window on the *input* lies (all in input pixels, for one axis; square
layers use the same numbers for rows and columns):

* ``size`` ``r``: how many input pixels one unit sees along an axis;
* ``jump`` ``j``: how far apart two neighbouring units' windows start (the product of the strides);
* ``start`` ``a``: where unit 0's window starts (negative: it begins in the padding).

A layer with kernel ``k``, stride ``s``, padding ``p`` and dilation ``d`` on top of a layer
with ``(r, j, a)`` gives::

    r' = r + (k - 1) * d * j        a' = a - p * j        j' = j * s

and unit ``i`` sees input pixels ``a' + i * j'`` to ``a' + i * j' + r' - 1`` (clip to the image).
The image itself is ``(r, j, a) = (1, 1, 0)``.

:func:`receptive_fields` computes the table; :func:`unit_box` the box one unit sees;
:func:`path_counts` counts the paths from each input pixel to a unit (every weight 1), with the
reference's own backward pass: its non-zero pixels are the receptive field, and its shape shows
that the middle of the field has far more paths than the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from course_utils.reference.backward import conv2d_backward
from course_utils.reference.shapes import output_size


@dataclass(frozen=True)
class Layer:
    """A layer's geometry: a convolution or pool with a square ``kernel`` (1 for layers that keep
    each pixel where it is: ReLU, BatchNorm), ``stride``, ``padding`` and ``dilation``."""

    name: str
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def __post_init__(self):
        for field_name in ("kernel", "stride", "dilation"):
            if int(getattr(self, field_name)) < 1:
                raise ValueError(f"Layer {self.name!r}: {field_name} must be >= 1, "
                                 f"got {getattr(self, field_name)}")
        if int(self.padding) < 0:
            raise ValueError(f"Layer {self.name!r}: padding must be >= 0, got {self.padding}")


@dataclass(frozen=True)
class Field:
    """The receptive field of every unit of one layer (see the module docstring)."""

    name: str
    size: int
    jump: int
    start: int
    output_size: int | None = None  # units along an axis, when the input size was given

    def span(self, index: int) -> tuple[int, int]:
        """First and last input pixel (inclusive, unclipped) that unit ``index`` sees."""
        first = self.start + index * self.jump
        return first, first + self.size - 1


def receptive_fields(layers: Sequence[Layer], input_size: int | None = None) -> list[Field]:
    """One :class:`Field` per layer, in order. With ``input_size`` each also records its
    number of units along an axis (``output_size`` of lesson 02)."""
    size, jump, start, units = 1, 1, 0, input_size
    fields = []
    for layer in layers:
        size = size + (layer.kernel - 1) * layer.dilation * jump
        start = start - layer.padding * jump
        jump = jump * layer.stride
        if units is not None:
            units = output_size(units, layer.kernel, layer.padding, layer.stride, layer.dilation)
        fields.append(Field(layer.name, size, jump, start, units))
    return fields


def field_of(layers: Sequence[Layer], name: str, input_size: int | None = None) -> Field:
    """The :class:`Field` of the layer called ``name``."""
    for field in receptive_fields(layers, input_size):
        if field.name == name:
            return field
    raise ValueError(f"field_of: no layer {name!r}; layers are {[layer.name for layer in layers]}")


def unit_box(field: Field, row: int, col: int, image_size: int) -> tuple[int, int, int, int]:
    """``(top, left, height, width)``: the input pixels unit ``(row, col)`` sees, clipped to a
    square image of ``image_size`` pixels (the rest of its window is padding).

    The box is what the unit *can* see. Inside it, a dilated layer may skip pixels, and a
    padded position of an inner layer may have been a pixel's only way in (rare with "same"
    padding); :func:`path_counts` says exactly which pixels are reached."""
    (top, bottom), (left, right) = field.span(row), field.span(col)
    top, left = max(top, 0), max(left, 0)
    bottom, right = min(bottom, image_size - 1), min(right, image_size - 1)
    if bottom < top or right < left:
        return (top, left, 0, 0)
    return (top, left, bottom - top + 1, right - left + 1)


def path_counts(layers: Sequence[Layer], row: int, col: int, input_size: int) -> np.ndarray:
    """``(input_size, input_size)``: how many paths lead from each input pixel to unit
    ``(row, col)`` of the last of ``layers``, in a network with one channel and every weight 1.

    It is the gradient of that unit with respect to the input, computed by running
    ``conv2d_backward`` (lesson 06) down the layers with all-ones kernels (a pooling window
    counts as an all-ones kernel too: every pixel in it *can* be the one that passes the
    gradient). Pixels with a count above 0 are exactly the receptive field.
    """
    shapes = [input_size]
    for layer in layers:
        shapes.append(output_size(shapes[-1], layer.kernel, layer.padding, layer.stride,
                                  layer.dilation))
    if not (0 <= row < shapes[-1] and 0 <= col < shapes[-1]):
        raise ValueError(f"path_counts: unit ({row}, {col}) is outside the last layer's "
                         f"{shapes[-1]}x{shapes[-1]} units")
    grad = np.zeros((shapes[-1], shapes[-1]))
    grad[row, col] = 1.0
    for layer, below in zip(reversed(layers), reversed(shapes[:-1])):
        ones = np.ones((layer.kernel, layer.kernel))
        grad = conv2d_backward(grad, np.zeros((below, below)), ones, layer.stride,
                               layer.padding, layer.dilation)[0]
    return grad


def field_table(fields: Sequence[Field]) -> str:
    """The fields as a text table: layer, units per axis, jump, size, start."""
    lines = [f"{'layer':<10}{'units':>7}{'jump j':>8}{'field r':>9}{'start a':>9}"]
    for field in fields:
        units = "" if field.output_size is None else f"{field.output_size}x{field.output_size}"
        lines.append(f"{field.name:<10}{units:>7}{field.jump:>8}{field.size:>9}{field.start:>9}")
    return "\n".join(lines)


def unit_at(field: Field, pixel: float) -> int:
    """The unit (along one axis) whose field is centred nearest input pixel ``pixel``, kept
    inside the layer when its ``output_size`` is known."""
    centre0 = field.start + (field.size - 1) / 2
    index = int(np.floor((pixel - centre0) / field.jump + 0.5))
    if field.output_size is not None:
        index = min(max(index, 0), field.output_size - 1)
    return index
