"""Lesson 07's own figures: a unit's receptive field on the image, gradient footprints with the
box the formula predicts, and saliency / Grad-CAM heatmaps with the shape's outline.

The numbers come from elsewhere (:mod:`course_utils.reference.receptive_field`, lesson 07's
``attribution`` in :mod:`course_utils.cifar10`); each function only draws them, shows the figure
once with :func:`course_utils.plotting.show_figure` and a text alternative computed from what it
drew, and returns the :class:`~course_utils.plotting.Drawn`. Grids and feature maps are
:mod:`course_utils.plotting`'s.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np

from course_utils import plotting
from course_utils import text_alternatives as text
from course_utils.reference.receptive_field import Field, unit_at

FIELD_COLOURS = ("#e6550d", "#fdae6b", "#31a354", "#74c476", "#3182bd", "#6baed6", "#756bb1",
                 "#9e9ac8", "#636363", "#bdbdbd")
OUTLINE_COLOUR = "#00e5ff"


def _as_picture(image) -> np.ndarray:
    """(H, W) grey, (H, W, 3) or (3, H, W) colour, floats in [0, 1] or uint8 -> floats (H, W[, 3])."""
    picture = np.asarray(image)
    if picture.dtype == np.uint8:
        picture = picture / 255.0
    picture = np.asarray(picture, dtype=np.float64)
    if picture.ndim == 3 and picture.shape[0] == 3 and picture.shape[2] != 3:
        picture = picture.transpose(1, 2, 0)
    if picture.ndim not in (2, 3):
        raise ValueError(f"expected an image (H, W), (H, W, 3) or (3, H, W), got {picture.shape}")
    return np.clip(picture, 0.0, 1.0)


def _draw_picture(ax, picture: np.ndarray) -> None:
    if picture.ndim == 2:
        ax.imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(picture, interpolation="nearest")


def _box_patch(box, colour, linestyle="-", linewidth=2.0, label=None):
    from matplotlib.patches import Rectangle

    top, left, height, width = box
    return Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor=colour,
                     linewidth=linewidth, linestyle=linestyle, label=label)


def show_receptive_fields(image, fields: Sequence[Field], pixel: tuple[float, float],
                          title: str | None = None) -> plotting.Drawn:
    """The image with, for each layer in ``fields``, the field of the unit centred nearest
    ``pixel`` (row, column) outlined; boxes may reach into the padding (drawn pale around the
    image). The legend gives each layer's field size."""
    picture = _as_picture(image)
    size = picture.shape[0]
    fig, axes = plotting._new_figure(1, cell_inches=5.6)
    ax = axes[0, 0]
    boxes = []
    for field in fields:
        row, col = unit_at(field, pixel[0]), unit_at(field, pixel[1])
        (top, _), (left, _) = field.span(row), field.span(col)
        boxes.append((field, row, col, (top, left, field.size, field.size)))
    reach = max([0] + [max(-box[0], -box[1], box[0] + box[2] - size, box[1] + box[3] - size)
                       for *_, box in boxes])
    ax.add_patch(_box_patch((-reach, -reach, size + 2 * reach, size + 2 * reach), "none"))
    ax.set_facecolor("#f3efe0")
    _draw_picture(ax, picture)
    for index, (field, row, col, box) in enumerate(boxes):
        ax.add_patch(_box_patch(box, FIELD_COLOURS[index % len(FIELD_COLOURS)], linewidth=2.2,
                                label=f"{field.name}: {field.size}x{field.size}"))
    ax.set_xlim(-reach - 1, size + reach)
    ax.set_ylim(size + reach, -reach - 1)
    ax.set_xticks([0, size - 1])
    ax.set_yticks([0, size - 1])
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=9, title="field of")
    ax.set_title(title or f"one unit's receptive field, layer by layer (image {size}x{size}, "
                          f"padding shaded)", fontsize=10)
    described = "; ".join(f"{field.name} unit ({row}, {col}) sees rows {box[0]}..{box[0] + box[2] - 1}, "
                          f"columns {box[1]}..{box[1] + box[3] - 1} ({field.size}x{field.size})"
                          for field, row, col, box in boxes)
    alt = (f"A {size}x{size} image with nested squares around pixel {tuple(pixel)}, one per "
           f"layer, growing with depth: {described}. Coordinates below 0 or above {size - 1} are "
           f"padding.")
    return plotting.show_figure(fig, alt)


def show_footprints(maps: Sequence, boxes: Sequence, titles: Sequence[str],
                    suptitle: str | None = None, inches: float = 3.0) -> plotting.Drawn:
    """Non-negative maps ``(H, W)`` side by side (white = 0, dark = large), each with the box
    ``(top, left, height, width)`` the receptive-field formula predicts outlined in orange
    (``None``: no box)."""
    fig, axes = plotting._new_figure(len(maps), cell_inches=inches)
    sentences = []
    for ax, values, box, title in zip(axes[0], maps, boxes, titles):
        values = np.asarray(values, dtype=np.float64)
        ax.imshow(values, cmap="Greys", vmin=0, vmax=values.max() or 1.0, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        rows, cols = np.nonzero(values)
        if len(rows):
            reached = (f"{len(rows)} non-zero pixels in rows {rows.min()}..{rows.max()}, "
                       f"columns {cols.min()}..{cols.max()}, largest {plotting.format_number(values.max())} "
                       f"at {tuple(int(v) for v in np.unravel_index(values.argmax(), values.shape))}")
        else:
            reached = "no non-zero pixel"
        if box is not None:
            ax.add_patch(_box_patch(box, plotting.HIGHLIGHT, linewidth=1.8))
            reached += (f"; predicted box rows {box[0]}..{box[0] + box[2] - 1}, columns "
                        f"{box[1]}..{box[1] + box[3] - 1}")
        sentences.append(f"'{title}': {values.shape[0]}x{values.shape[1]} map, {reached}")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return plotting.show_figure(fig, f"{len(maps)} maps side by side. " + ". ".join(sentences) + ".")


def heatmap_caption(values, name: str, mask=None) -> tuple[str, str]:
    """What one heatmap shows, from its numbers: ``(the line under the panel, the sentence for
    the text alternative)``. ``values`` ``(H, W)`` non-negative; ``mask`` ``(H, W)`` bool or
    ``None``. A map that is 0 everywhere has no peak and no mass to share out, and says so:
    ``("all 0", "Grad-CAM is 0 everywhere (drawn black)")``. Otherwise: where it peaks (and, in
    words, where that is in the picture) and, with a mask, its share of mass inside."""
    values = np.asarray(values, dtype=np.float64)
    if not values.any():
        return "all 0", f"{name} is 0 everywhere (drawn black)"
    row, col = (int(v) for v in np.unravel_index(values.argmax(), values.shape))
    sentence = f"{name} peaks at ({row}, {col}) ({text.place(row, col, values.shape)})"
    if mask is None:
        return "", sentence
    mask = np.asarray(mask, dtype=bool)
    share = (values * mask).sum() / values.sum()
    return (f"{share:.0%} inside",
            f"{sentence}, {share:.0%} of its mass inside the shape ({mask.mean():.0%} of the pixels)")


def _wrapped(title: str, inches: float, fontsize: float) -> str:
    """``title`` broken into lines that fit a column ``inches`` wide (its own line breaks kept)."""
    characters = max(8, int(inches * 72 / (0.62 * fontsize)))
    return "\n".join(textwrap.fill(line, characters) for line in title.split("\n"))


def show_heatmaps(images: Sequence, maps: dict[str, Sequence], titles: Sequence[str],
                  masks: Sequence | None = None, inches: float = 1.7) -> plotting.Drawn:
    """A column per image: the image on top, then one row per entry of ``maps`` (its name: a
    row label; its value: one non-negative ``(H, W)`` map per image, each scaled to its own
    maximum, dark = 0, bright = large; a map that is 0 everywhere is black, and says "all 0").
    ``titles``: one per column, wrapped to the column's width ("\\n" breaks a line where you
    want it). ``masks`` ``(H, W)`` bool (or ``None`` for an image without one): the shape's
    outline drawn in cyan on every picture of its column, and each map's share of mass inside
    written under it (:func:`heatmap_caption`)."""
    count = len(images)
    fig, axes = plotting._new_figure(count, 1 + len(maps), cell_inches=inches)
    sentences = []
    for column, (image, title) in enumerate(zip(images, titles)):
        picture = _as_picture(image)
        mask = None if masks is None or masks[column] is None else \
            np.asarray(masks[column], dtype=bool)
        ax = axes[0, column]
        _draw_picture(ax, picture)
        ax.set_title(_wrapped(title, inches, 8), fontsize=8)
        described = []
        for row, (name, values) in enumerate(maps.items(), start=1):
            value = np.asarray(values[column], dtype=np.float64)
            ax = axes[row, column]
            ax.imshow(value, cmap="inferno", vmin=0, vmax=value.max() or 1.0,
                      interpolation="nearest")
            under, sentence = heatmap_caption(value, name, mask)
            ax.set_xlabel(under, fontsize=8)
            if column == 0:
                ax.set_ylabel(name, fontsize=9)
            described.append(sentence)
        sentences.append(f"{' '.join(title.split())}: " + "; ".join(described))
        for ax in axes[:, column]:
            ax.set_xticks([])
            ax.set_yticks([])
            if mask is not None and mask.any() and not mask.all():
                ax.contour(mask, levels=[0.5], colors=OUTLINE_COLOUR, linewidths=0.8)
    fig.tight_layout()
    rows = ", ".join(maps)
    layout = "An image and under it" if count == 1 else f"{count} images in a row and under each"
    alt = (f"{layout} its {rows} map{'s' if len(maps) > 1 else ''} (bright = large)"
           f"{', the shape outlined in cyan' if masks is not None else ''}. " + ". ".join(sentences) + ".")
    return plotting.show_figure(fig, alt)
