"""Pictures for lesson 05: images with their class names, training curves, the confusion matrix,
first-layer filters, feature maps and the speed ladder.

They draw numbers computed elsewhere (the confusion matrix by :mod:`course_utils.cifar10.metrics`)
and every one of them shows its figure at once through :func:`course_utils.plotting.show_figure`,
with a text alternative computed from the data ("Confusion matrix of 10 classes ...: the largest
off-diagonal count is 14, dog predicted as cat"). They return the shown figure
(:class:`~course_utils.plotting.Drawn`, which adds nothing when it is a cell's last value), so a
cell that calls several of them shows each once, whatever comes after the call. With
``fake=True`` the title and the text alternative say that the data is the synthetic stand-in.
Figures are built without pyplot, so nothing else shows them a second time.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from course_utils.cifar10.fake_data import FAKE_LABEL
from course_utils.plotting import Drawn, show_figure


def _fake_prefix(fake: bool) -> str:
    return f"{FAKE_LABEL}: " if fake else ""


def _count(value: int, noun: str) -> str:
    return f"{value:,} {noun}{'' if value == 1 else 's'}"


def image_grid(images: torch.Tensor, labels: Sequence[int], classes: Sequence[str],
               predictions: Sequence[int] | None = None, ncols: int = 8, inches: float = 1.45,
               *, fake: bool = False, what: str = "images") -> Drawn:
    """uint8 images (N, 3, 32, 32) in a grid, each titled with its class name.

    With ``predictions``, titles read "cat" over "-> dog" (true, then predicted), red when wrong;
    each row leaves room for the two lines. ``what`` names the images in the text alternative
    ("training images", "augmented copies of one training image").
    """
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    title_lines = 2 if predictions is not None else 1
    heading = 0.35 if fake else 0.0
    fig = Figure(figsize=(ncols * inches, nrows * (inches + 0.22 * title_lines) + heading),
                 layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= n:
            continue
        ax.imshow(images[index].permute(1, 2, 0).cpu().numpy(), interpolation="nearest")
        title, colour = classes[int(labels[index])], "black"
        if predictions is not None:
            predicted = int(predictions[index])
            title = f"{title}\n-> {classes[predicted]}"
            colour = "black" if predicted == int(labels[index]) else "crimson"
        ax.set_title(title, fontsize=7.5, color=colour)
    if fake:
        fig.suptitle(FAKE_LABEL, fontsize=10, color="crimson")
    layout = f"in {_count(nrows, 'row')} of {ncols}" if nrows > 1 else "in a row"
    if predictions is None:
        counts = Counter(classes[int(label)] for label in labels)
        alt = (f"{n:,} {what} {layout}, each titled with its class: "
               + ", ".join(f"{count} {name}" for name, count in counts.most_common()) + ".")
    else:
        pairs = Counter((classes[int(t)], classes[int(p)]) for t, p in zip(labels, predictions))
        wrong = sum(int(t) != int(p) for t, p in zip(labels, predictions))
        alt = (f"{n} {what} {layout}, each titled with its true class and, below, the predicted "
               f"class ({wrong} wrong, shown in red): "
               + ", ".join(f"{count} {t} -> {p}" for (t, p), count in pairs.most_common()) + ".")
    return show_figure(fig, _fake_prefix(fake) + alt)


def _trend(values: Sequence[float], fmt: str) -> str:
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return "not measured"
    if len(finite) == 1:
        return format(finite[0], fmt)
    return f"{format(finite[0], fmt)} -> {format(finite[-1], fmt)}"


def plot_history(history, *, fake: bool = False) -> Drawn:
    """Loss (left) and accuracy (right) per epoch, training and test."""
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(history.epoch, history.train_loss, "o-", label="training")
    left.plot(history.epoch, history.test_loss, "o-", label="test")
    left.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    right.plot(history.epoch, np.multiply(history.train_accuracy, 100), "o-", label="training")
    right.plot(history.epoch, np.multiply(history.test_accuracy, 100), "o-", label="test")
    right.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy", ylim=(0, 100))
    for ax in (left, right):
        ax.legend()
        ax.grid(alpha=0.3)
        ax.set_xticks(history.epoch)
    if fake:
        fig.suptitle(FAKE_LABEL, color="crimson")
    alt = (f"Two line charts over {_count(len(history.epoch), 'epoch')}. Left, cross-entropy "
           f"loss: training {_trend(history.train_loss, '.2f')}, test "
           f"{_trend(history.test_loss, '.2f')}. Right, accuracy: training "
           f"{_trend(history.train_accuracy, '.0%')}, test {_trend(history.test_accuracy, '.0%')}.")
    return show_figure(fig, _fake_prefix(fake) + alt)


def describe_history(history, *, fake: bool = False) -> str:
    """What the curves of :func:`plot_history` show, in words computed from ``history``: where
    the test accuracy went and in which epochs the training accuracy was below it (after
    ``FAKE_LABEL`` when ``fake``)."""
    test = [value for value in history.test_accuracy if np.isfinite(value)]
    if not test:
        return _fake_prefix(fake) + "The test accuracy was not measured during training."
    sentence = _fake_prefix(fake) + (f"Over {_count(len(history.epoch), 'epoch')} the training loss went "
                f"{_trend(history.train_loss, '.2f')} and the test accuracy "
                f"{_trend(history.test_accuracy, '.1%')}")
    falls = [epoch for epoch, before, after in zip(history.epoch[1:], history.test_accuracy,
                                                    history.test_accuracy[1:]) if after < before]
    sentence += (f"; it fell in epoch {', '.join(map(str, falls))}." if falls else
                 ", never falling from one epoch to the next.")
    below = [epoch for epoch, train, test in zip(history.epoch, history.train_accuracy,
                                                  history.test_accuracy) if train < test]
    if below:
        sentence += (f" The training accuracy was below the test accuracy in epoch"
                     f"{'s' if len(below) > 1 else ''} {', '.join(map(str, below))}.")
    else:
        sentence += " The training accuracy was above the test accuracy in every epoch."
    return sentence


def plot_confusion(confusion: torch.Tensor, classes: Sequence[str], *, fake: bool = False) -> Drawn:
    """The confusion matrix (from :func:`course_utils.cifar10.metrics.confusion_matrix`) as a heat
    map with counts; each row's label carries that class's accuracy (diagonal / row sum)."""
    counts = confusion.cpu().numpy()
    accuracy = counts.diagonal() / np.maximum(counts.sum(axis=1), 1)
    fig = Figure(figsize=(7.8, 6.4), layout="constrained")
    ax = fig.subplots()
    ax.imshow(counts, cmap="Blues")
    for (row, col), value in np.ndenumerate(counts):
        ax.text(col, row, str(value), ha="center", va="center", fontsize=8,
                color="white" if value > counts.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), [f"{name} ({acc:.0%})" for name, acc in
                                        zip(classes, accuracy)])
    title = "confusion matrix" + (f"\n{FAKE_LABEL}" if fake else "")
    ax.set(xlabel="predicted class", ylabel="true class (accuracy)", title=title)
    total, correct = int(counts.sum()), int(counts.trace())
    off = counts.copy()
    np.fill_diagonal(off, -1)
    row, col = np.unravel_index(np.argmax(off), off.shape)
    worst, best = int(np.argmin(accuracy)), int(np.argmax(accuracy))
    alt = (f"Confusion matrix of {len(classes)} classes over {total:,} test images (rows: true "
           f"class, columns: predicted class, the count written in each cell): {correct:,} on "
           f"the diagonal ({correct / max(total, 1):.1%} correct); ")
    alt += (f"the largest off-diagonal count is {int(off[row, col])}, {classes[row]} predicted "
            f"as {classes[col]}; " if off[row, col] > 0 else "no off-diagonal counts; ")
    alt += (f"lowest class accuracy {classes[worst]} ({accuracy[worst]:.0%}), highest "
            f"{classes[best]} ({accuracy[best]:.0%}).")
    return show_figure(fig, _fake_prefix(fake) + alt)


def show_misclassified(images: torch.Tensor, labels: torch.Tensor, predictions: torch.Tensor,
                       classes: Sequence[str], count: int = 16, *, fake: bool = False):
    """The first ``count`` test images whose prediction is wrong, titled true -> predicted (see
    :func:`image_grid`); prints a line instead when there is no mistake to show."""
    wrong = torch.nonzero(predictions.cpu() != labels.cpu()).flatten()
    if len(wrong) == 0:
        print("No misclassified test images: nothing to show.")
        return None
    shown = wrong[:count]
    return image_grid(images[shown], labels[shown], classes, predictions=predictions[shown],
                      fake=fake, what=f"misclassified test images (the first {len(shown)} of "
                                      f"{len(wrong)})")


def describe_filters(weight: torch.Tensor) -> str:
    """What first-layer filters (F, 3, KH, KW) are, in words: how many are mostly one colour
    (at least half of their squared weight is their average over the window: they respond to a
    colour) and how many mostly contrast (positive beside negative: edges, spots, or noise)."""
    weight = weight.detach().float().cpu()
    mean = weight.mean(dim=(2, 3), keepdim=True)
    share = (mean.expand_as(weight) ** 2).sum(dim=(1, 2, 3)) / (weight ** 2).sum(dim=(1, 2, 3)
                                                                            ).clamp(min=1e-12)
    colour = int((share >= 0.5).sum())
    return (f"{colour} of the {len(weight)} filters {'is' if colour == 1 else 'are'} mostly one "
            f"colour (at least half of {'its' if colour == 1 else 'their'} weight is the average "
            f"over the {weight.shape[2]}x{weight.shape[3]} window), "
            f"{len(weight) - colour} mostly contrast: positive weights beside negative ones, "
            f"which respond to edges and spots (or are still close to their random start); "
            f"weights range from {weight.min():.2f} to {weight.max():.2f}.")


def show_filters(weight: torch.Tensor, ncols: int = 8, inches: float = 0.9, *,
                 fake: bool = False) -> Drawn:
    """First-layer filters (F, 3, KH, KW) as small colour pictures, each stretched to [0, 1]."""
    weight = weight.detach().float().cpu()
    low = weight.amin(dim=(1, 2, 3), keepdim=True)
    high = weight.amax(dim=(1, 2, 3), keepdim=True)
    pictures = ((weight - low) / (high - low).clamp(min=1e-12)).permute(0, 2, 3, 1).numpy()
    n = len(pictures)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = Figure(figsize=(ncols * inches, nrows * inches + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < n:
            ax.imshow(pictures[index], interpolation="nearest")
    size = f"{weight.shape[2]}x{weight.shape[3]}x3"
    fig.suptitle(f"{n} learned first-layer filters ({size})"
                 + (f"\ntrained on {FAKE_LABEL}" if fake else ""), fontsize=10)
    alt = (f"{n} learned first-layer filters ({size}), each drawn as a small colour picture "
           f"stretched to its own range (dark: its lowest weight, bright: its highest). "
           + describe_filters(weight))
    return show_figure(fig, _fake_prefix(fake) + alt)


def show_feature_maps(image: torch.Tensor, first: torch.Tensor, second: torch.Tensor,
                      title: str, count: int = 8, *, fake: bool = False) -> Drawn:
    """One image (3, 32, 32) uint8, then ``count`` of its feature maps after block 1 (``first``,
    (C1, H1, W1)) and after block 2 (``second``, (C2, H2, W2)), one row each; each map has its own
    grey scale (black 0, white its largest value). ``title`` says which image it is."""
    first, second = first.detach().float().cpu(), second.detach().float().cpu()
    fig = Figure(figsize=(count * 1.15, 1.9 + 2 * 1.45 + (0.3 if fake else 0)),
                 layout="constrained")
    top, middle, bottom = fig.subfigures(3, 1, height_ratios=[1.9, 1.45, 1.45])
    ax = top.subplots()
    ax.imshow(image.permute(1, 2, 0).cpu().numpy(), interpolation="nearest")
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    if fake:
        top.suptitle(FAKE_LABEL, fontsize=10, color="crimson")
    rows = []
    for sub, maps, name in ((middle, first, "after block 1: conv -> BatchNorm -> ReLU"),
                            (bottom, second, "after block 2 and two poolings")):
        shown = maps[:count]
        size = f"{maps.shape[1]}x{maps.shape[2]}"
        sub.suptitle(f"{len(shown)} of {maps.shape[0]} maps {name} ({size})", fontsize=9)
        for index, (axis, single) in enumerate(zip(sub.subplots(1, count), shown)):
            axis.imshow(single.numpy(), cmap="gray", vmin=0, vmax=max(float(single.max()), 1e-6),
                        interpolation="nearest")
            axis.set_title(f"map {index}", fontsize=8)
            axis.axis("off")
        zero = float((shown == 0).float().mean())
        rows.append(f"{len(shown)} of the {maps.shape[0]} maps {name} ({size} each; "
                    f"{zero:.0%} of their values are 0)")
    alt = (f"{title}, then " + "; then ".join(rows) + ". Each map has its own grey scale: black "
           "is 0, white its largest value.")
    return show_figure(fig, _fake_prefix(fake) + alt)


def plot_ladder(rungs, *, fake: bool = False) -> Drawn:
    """Horizontal bars: median seconds per epoch of each rung of ``speed_ladder.speed_ladder``,
    a line from the fastest to the slowest measured epoch, the accuracy written beside."""
    device = rungs[0].device if rungs else "cpu"
    fig = Figure(figsize=(8.5, 0.45 * len(rungs) + 1.6), layout="constrained")
    ax = fig.subplots()
    ordered = list(rungs)[::-1]
    medians = [rung.median for rung in ordered]
    errors = np.array([[rung.median - rung.low for rung in ordered],
                       [rung.high - rung.median for rung in ordered]])
    ax.barh([rung.idea for rung in ordered], medians, xerr=errors, color="tab:blue",
            error_kw={"ecolor": "black", "capsize": 3, "linewidth": 1})
    # A rung that reuses the run above (flip averaging; mixed precision off CUDA) says so.
    reused = {index for index in range(1, len(rungs))
              if rungs[index].epoch_seconds == rungs[index - 1].epoch_seconds}
    for position, rung in enumerate(ordered):
        again = " (trained once, with the rung above)" if len(rungs) - 1 - position in reused else ""
        ax.text(rung.high, position, f"  {rung.median:.2f} s, {rung.test_accuracy:.0%}{again}",
                va="center", fontsize=8)
    measured = len(rungs[0].epoch_seconds) if rungs else 0
    title = f"seconds per epoch on {device.upper()} (median of {measured}, line: fastest to slowest)"
    if device == "cpu":
        title += "\nCPU: not comparable with a GPU's seconds"
    if fake:
        title += f"\n{FAKE_LABEL}"
    ax.set(xlabel="seconds per training epoch", title=title)
    ax.set_xlim(0, max((rung.high for rung in rungs), default=1) * (1.45 + 0.6 * bool(reused)))
    alt = (f"Bar chart of the speed ladder on {device.upper()}: for each of {len(rungs)} ideas, "
           f"added one after another, the median seconds per training epoch over {measured} "
           "measured epochs (with the fastest and slowest) and the test accuracy: "
           + "; ".join(f"{rung.idea} {rung.median:.2f} s ({rung.low:.2f}-{rung.high:.2f}), "
                       f"{rung.test_accuracy:.0%}"
                       + (" (trained once, with the rung above)" if index in reused else "")
                       for index, rung in enumerate(rungs)) + ".")
    if device == "cpu":
        alt += " On a CPU these seconds are not comparable with a GPU's."
    return show_figure(fig, _fake_prefix(fake) + alt)
