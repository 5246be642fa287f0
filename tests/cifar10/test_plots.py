"""course_utils.cifar10.plots: every picture is shown at once, with a text alternative computed
from its data; fake data says so; titles do not overlap the pictures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from course_utils import plotting  # noqa: E402
from course_utils.cifar10 import plots  # noqa: E402
from course_utils.cifar10.cifar_format import CLASSES  # noqa: E402
from course_utils.cifar10.fake_data import FAKE_CLASSES, fake_images  # noqa: E402
from course_utils.cifar10.speed_ladder import Rung  # noqa: E402
from course_utils.cifar10.training import History  # noqa: E402


@pytest.fixture(scope="module")
def images():
    pictures, labels = fake_images(24, np.random.default_rng(0))
    return torch.from_numpy(pictures), torch.from_numpy(labels)


def history() -> History:
    return History(epoch=[1, 2, 3], train_loss=[1.5, 0.8, 0.7], train_accuracy=[0.6, 0.9, 0.95],
                   test_loss=[0.8, 0.3, 0.2], test_accuracy=[0.7, 0.95, 0.97],
                   learning_rate=[0.05, 0.02, 0.0], train_seconds=[1.0, 2.0, 3.0])


def every_drawing(images):
    """(name, call) for every drawing function, on small made-up data."""
    pictures, labels = images
    confusion = torch.diag(torch.full((10,), 9))
    confusion[3, 5] = 14
    maps = torch.rand(16, 32, 32), torch.rand(32, 8, 8)
    rungs = [Rung("tutorial pipeline", (2.0, 2.2, 2.1), 0.61), Rung("data on the device", (1.0, 1.3, 1.1), 0.7)]
    return [
        ("image_grid", lambda fake: plots.image_grid(pictures, labels, FAKE_CLASSES, fake=fake)),
        ("predictions", lambda fake: plots.image_grid(pictures[:8], labels[:8], FAKE_CLASSES,
                                                      predictions=labels[:8].flip(0), fake=fake)),
        ("history", lambda fake: plots.plot_history(history(), fake=fake)),
        ("confusion", lambda fake: plots.plot_confusion(confusion, CLASSES, fake=fake)),
        ("filters", lambda fake: plots.show_filters(torch.randn(16, 3, 3, 3), fake=fake)),
        ("feature maps", lambda fake: plots.show_feature_maps(pictures[0], *maps, title="test image 0",
                                                              fake=fake)),
        ("ladder", lambda fake: plots.plot_ladder(rungs, fake=fake)),
    ]


@pytest.mark.parametrize("fake", [False, True])
def test_every_drawing_shows_its_figure_once_with_a_text_alternative(images, shown, fake):
    for name, draw in every_drawing(images):
        shown.clear()
        drawn = draw(fake)
        assert len(shown) == 1, f"{name} showed {len(shown)} figures"
        assert isinstance(drawn, plotting.Drawn) and drawn.figure is shown[0][0]
        assert len(drawn.alt) > 60 and any(ch.isdigit() for ch in drawn.alt), (name, drawn.alt)
        titles = " ".join([drawn.figure.get_suptitle()] + [ax.get_title() for ax in drawn.figure.axes]
                          + [sub.get_suptitle() for sub in drawn.figure.subfigs])
        assert (plots.FAKE_LABEL in drawn.alt) == fake, name
        assert ("FAKE DATA" in titles) == fake, name
    assert plt.get_fignums() == []  # built without pyplot: nothing else shows them again


def test_drawn_figures_add_nothing_as_a_cells_last_value(images):
    drawn = plots.plot_history(history())
    assert drawn._ipython_display_() is None and drawn.alt in repr(drawn)


def test_confusion_alt_names_the_largest_mistake_and_the_weakest_class():
    confusion = torch.diag(torch.full((10,), 90))
    confusion[5, 3] = 14   # dog predicted as cat
    confusion[5, 5] = 76
    alt = plots.plot_confusion(confusion, CLASSES).alt
    assert "Confusion matrix of 10 classes over 900 test images" in alt
    assert "the largest off-diagonal count is 14, dog predicted as cat" in alt
    assert "lowest class accuracy dog (84%)" in alt


def test_two_line_titles_of_the_mistakes_grid_do_not_overlap_the_row_above(images):
    pictures, labels = images
    drawn = plots.image_grid(pictures[:16], labels[:16], FAKE_CLASSES,
                             predictions=(labels[:16] + 1) % 10, fake=True)
    figure = drawn.figure
    FigureCanvasAgg(figure).draw()
    renderer = figure.canvas.get_renderer()
    axes = [ax for ax in figure.axes if ax.images]
    for ax in axes:
        title = ax.title.get_window_extent(renderer)
        for other in axes:
            picture = other.get_window_extent(renderer)
            assert not title.overlaps(picture), "a title overlaps a picture"


def test_history_sentence_says_what_the_curves_show():
    sentence = plots.describe_history(history())
    assert "test accuracy 70.0% -> 97.0%, never falling" in sentence
    assert "below the test accuracy in epochs 1, 2, 3" in sentence
    falling = History(epoch=[1, 2], train_loss=[1, 0.5], train_accuracy=[0.9, 0.95],
                      test_loss=[1, 1], test_accuracy=[0.8, 0.7])
    assert "it fell in epoch 2" in plots.describe_history(falling)
    assert "above the test accuracy in every epoch" in plots.describe_history(falling)
    assert plots.describe_history(falling, fake=True) == (
        f"{plots.FAKE_LABEL}: {plots.describe_history(falling)}")


def test_filters_are_described_as_colour_or_contrast():
    colour = torch.ones(3, 3, 3, 3) * torch.tensor([1.0, -0.5, 0.2]).view(1, 3, 1, 1)
    edges = torch.zeros(5, 3, 3, 3)
    edges[:, :, :, 0], edges[:, :, :, 2] = 1.0, -1.0
    assert plots.describe_filters(torch.cat([colour, edges])).startswith(
        "3 of the 8 filters are mostly one colour")


def test_no_misclassified_images_prints_instead_of_drawing(images, capsys):
    pictures, labels = images
    assert plots.show_misclassified(pictures, labels, labels.clone(), FAKE_CLASSES) is None
    assert "No misclassified" in capsys.readouterr().out
    drawn = plots.show_misclassified(pictures, labels, (labels + 1) % 10, FAKE_CLASSES, count=4)
    assert "the first 4 of 24" in drawn.alt and len([ax for ax in drawn.axes if ax.images]) == 4


def test_ladder_picture_says_cpu_seconds_are_not_comparable():
    rungs = [Rung("tutorial pipeline", (2.0, 2.5, 2.1), 0.61, device="cpu")]
    drawn = plots.plot_ladder(rungs)
    assert "not comparable" in drawn.axes[0].get_title() and "not comparable" in drawn.alt
    assert "tutorial pipeline 2.10 s (2.00-2.50), 61%" in drawn.alt
    again = plots.plot_ladder(rungs + [Rung("mixed precision", (2.0, 2.5, 2.1), 0.61, device="cpu")])
    assert "mixed precision 2.10 s (2.00-2.50), 61% (trained once, with the rung above)" in again.alt
    assert "tutorial pipeline 2.10 s (2.00-2.50), 61%;" in again.alt
    gpu = plots.plot_ladder([Rung("tutorial pipeline", (0.5,), 0.6, device="cuda")])
    assert "not comparable" not in gpu.alt and "CUDA" in gpu.alt
