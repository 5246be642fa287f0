"""course_utils.figures (lesson 07's own figures): each is shown once, its text alternative and
the line under each heatmap are computed from the map drawn (an all-zero map says so, with no
peak and no share of mass), and the column titles of the heatmaps do not run into each other."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from course_utils import figures  # noqa: E402
from course_utils.reference.receptive_field import Layer, receptive_fields  # noqa: E402
from course_utils.text_alternatives import place  # noqa: E402


def disc_mask(size: int = 32, radius: float = 7.0) -> np.ndarray:
    rows, cols = np.mgrid[:size, :size]
    return (rows - 15.5) ** 2 + (cols - 15.5) ** 2 < radius ** 2


def test_an_all_zero_map_is_captioned_all_zero_with_no_peak_and_no_mass_share():
    under, sentence = figures.heatmap_caption(np.zeros((32, 32)), "Grad-CAM", disc_mask())
    assert under == "all 0"
    assert sentence == "Grad-CAM is 0 everywhere (drawn black)"


def test_a_map_caption_gives_its_peak_and_its_mass_inside_from_its_numbers():
    values = np.zeros((32, 32))
    values[2, 31] = 3.0                # the peak, on the border: outside the disc
    values[15, 15] = 1.0               # inside the disc
    mask = disc_mask()
    under, sentence = figures.heatmap_caption(values, "Grad-CAM", mask)
    assert under == "25% inside"
    assert sentence == (f"Grad-CAM peaks at (2, 31) (top right, on the border), 25% of its mass "
                        f"inside the shape ({mask.mean():.0%} of the pixels)")
    assert figures.heatmap_caption(values, "saliency") == (
        "", "saliency peaks at (2, 31) (top right, on the border)")


@pytest.mark.parametrize("pixel, words", [((0, 0), "top left, on the border"),
                                          ((15, 16), "middle"),
                                          ((16, 3), "middle left"),
                                          ((31, 20), "bottom centre, on the border"),
                                          ((26, 27), "bottom right")])
def test_place_says_where_a_pixel_is_in_thirds_of_the_picture(pixel, words):
    assert place(*pixel, (32, 32)) == words


def test_heatmaps_with_an_all_zero_map_say_so_under_the_panel_and_in_the_alt_text(shown):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 3, 32, 32), dtype=np.uint8)
    saliency = rng.random((2, 32, 32))
    cam = np.zeros((2, 32, 32))
    cam[1, 10:14, 12:16] = 0.5
    drawn = figures.show_heatmaps(images, {"saliency": saliency, "Grad-CAM": cam},
                                  ["filled disc\n-> filled disc", "ring\n-> ring"],
                                  masks=[disc_mask(), disc_mask()])
    assert len(shown) == 1
    first, second = drawn.alt.split(". ")[1:3]
    assert first.startswith("filled disc -> filled disc: saliency peaks at")
    assert first.endswith("Grad-CAM is 0 everywhere (drawn black)")
    assert "Grad-CAM peaks" not in first
    assert "Grad-CAM peaks at (10, 12)" in second and "100% of its mass inside" in second
    axes = drawn.figure.axes
    labels = [ax.get_xlabel() for ax in axes]        # row by row: images, saliency, Grad-CAM
    assert labels[4:] == ["all 0", "100% inside"]
    assert not axes[4].images[0].get_array().any()  # the panel that says "all 0" is all 0


def test_the_six_column_titles_of_lesson_07_do_not_run_into_each_other(shown):
    titles = ["filled disc -> filled disc", "ring -> ring", "plus sign -> square outline",
              "diagonal cross -> diagonal cross", "filled square -> filled square",
              "square outline -> square outline"]
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (6, 3, 32, 32), dtype=np.uint8)
    maps = {"saliency": rng.random((6, 32, 32)), "Grad-CAM": rng.random((6, 32, 32))}
    for written in (titles, [title.replace(" -> ", "\n-> ") for title in titles]):
        figure = figures.show_heatmaps(images, maps, written, masks=[disc_mask()] * 6).figure
        FigureCanvasAgg(figure).draw()
        renderer = figure.canvas.get_renderer()
        boxes = [ax.title.get_window_extent(renderer) for ax in figure.axes[:6]]
        for left, right in zip(boxes, boxes[1:]):
            assert left.x1 < right.x0, "two column titles overlap"


def test_every_figure_of_lesson_07_is_shown_once_with_its_own_text(shown):
    fields = receptive_fields([Layer("conv1a", 3, padding=1), Layer("conv1b", 3, padding=1)], 32)
    rng = np.random.default_rng(2)
    drawings = [
        figures.show_receptive_fields(rng.random((32, 32)), fields, pixel=(15, 15)),
        figures.show_footprints([rng.random((32, 32)), np.zeros((32, 32))], [(13, 13, 5, 5), None],
                                ["reached", "nothing"]),
        figures.show_heatmaps(rng.random((1, 32, 32, 3)), {"saliency": rng.random((1, 32, 32))},
                              ["one image"]),
    ]
    assert [alt for _, alt in shown] == [drawn.alt for drawn in drawings]
    assert "no non-zero pixel" in drawings[1].alt
