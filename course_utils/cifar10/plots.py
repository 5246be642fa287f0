"""Pictures for lesson 05: CIFAR-10 images with their names, training curves, confusion matrix,
first-layer filters and the speed ladder. They draw numbers computed elsewhere (the confusion
matrix by :mod:`course_utils.cifar10.metrics`); generic grids of arrays live in
``course_utils.plotting``.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch


def image_grid(images: torch.Tensor, labels: Sequence[int], classes: Sequence[str],
               predictions: Sequence[int] | None = None, ncols: int = 8, inches: float = 1.3):
    """uint8 images (N, 3, 32, 32) in a grid, each titled with its class name.

    With ``predictions``, titles read "cat -> dog" (true -> predicted), red when wrong.
    Returns the Figure.
    """
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * inches, nrows * (inches + 0.25)),
                             squeeze=False)
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
        ax.set_title(title, fontsize=8, color=colour)
    fig.tight_layout()
    return fig


def plot_history(history):
    """Loss (left) and accuracy (right) per epoch, training and test. Returns the Figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.plot(history.epoch, history.train_loss, "o-", label="training")
    left.plot(history.epoch, history.test_loss, "o-", label="test")
    left.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    right.plot(history.epoch, np.multiply(history.train_accuracy, 100), "o-", label="training")
    right.plot(history.epoch, np.multiply(history.test_accuracy, 100), "o-", label="test")
    right.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy", ylim=(0, 100))
    for ax in (left, right):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_confusion(confusion: torch.Tensor, classes: Sequence[str]):
    """The confusion matrix (from :func:`course_utils.cifar10.metrics.confusion_matrix`) as a heat
    map with counts; each row's label carries that class's accuracy (diagonal / row sum)."""
    counts = confusion.cpu().numpy()
    accuracy = counts.diagonal() / np.maximum(counts.sum(axis=1), 1)
    fig, ax = plt.subplots(figsize=(7.5, 6))
    ax.imshow(counts, cmap="Blues")
    for (row, col), value in np.ndenumerate(counts):
        ax.text(col, row, str(value), ha="center", va="center", fontsize=8,
                color="white" if value > counts.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), [f"{name} ({acc:.0%})" for name, acc in
                                        zip(classes, accuracy)])
    ax.set(xlabel="predicted class", ylabel="true class (accuracy)", title="confusion matrix")
    fig.tight_layout()
    return fig


def show_filters(weight: torch.Tensor, ncols: int = 8, inches: float = 0.9):
    """First-layer filters (F, 3, KH, KW) as small colour pictures, each stretched to [0, 1]."""
    weight = weight.detach().float().cpu()
    low = weight.amin(dim=(1, 2, 3), keepdim=True)
    high = weight.amax(dim=(1, 2, 3), keepdim=True)
    pictures = ((weight - low) / (high - low).clamp(min=1e-12)).permute(0, 2, 3, 1).numpy()
    n = len(pictures)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * inches, nrows * inches), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < n:
            ax.imshow(pictures[index], interpolation="nearest")
    fig.suptitle(f"{n} learned first-layer filters ({weight.shape[2]}x{weight.shape[3]}x3)")
    fig.tight_layout()
    return fig


def plot_ladder(rungs):
    """Horizontal bars: seconds per rung of ``speedrun.speed_ladder``, accuracy written beside."""
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rungs) + 1))
    names = [rung.idea for rung in rungs][::-1]
    seconds = [rung.seconds for rung in rungs][::-1]
    bars = ax.barh(names, seconds, color="tab:blue")
    for bar, rung in zip(bars, rungs[::-1]):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2,
                f"  {rung.seconds:.1f} s, {rung.test_accuracy:.0%}", va="center", fontsize=8)
    ax.set(xlabel="training seconds", title="each idea added to the one above")
    ax.set_xlim(0, max(seconds) * 1.35)
    fig.tight_layout()
    return fig
