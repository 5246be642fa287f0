"""How good a trained model is: scores, predictions, accuracy, per-class accuracy, confusion.

:func:`evaluate` runs the model once over a test pipeline and returns an :class:`Evaluation`
holding every image's scores, prediction and true label; everything else is computed from that
(the confusion matrix here, its picture in :mod:`course_utils.cifar10.plots`). Training calls
:func:`evaluate` after each epoch; lesson 05 calls it once more for the final numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Evaluation:
    """A model's answers on a test set: ``scores`` (N, 10) float32, ``predictions`` and ``labels``
    (N,) int64, all on the CPU; ``loss`` the mean cross-entropy, ``accuracy`` in [0, 1]."""

    scores: torch.Tensor
    predictions: torch.Tensor
    labels: torch.Tensor
    loss: float
    accuracy: float


@torch.no_grad()
def predict(model: nn.Module, batches: Iterable, flip_tta: bool = False,
            amp_dtype: torch.dtype | None = None,
            memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """Scores (N, 10) float32 on the CPU for every image of ``batches`` (in order).

    With ``flip_tta`` each image's scores are the mean of its scores and its mirror image's.
    """
    return _scores_and_labels(model, batches, flip_tta, amp_dtype, memory_format)[0]


def evaluate(model: nn.Module, batches: Iterable, flip_tta: bool = False,
             amp_dtype: torch.dtype | None = None,
             memory_format: torch.memory_format = torch.contiguous_format) -> Evaluation:
    """Run ``model`` once over ``batches`` ((images, labels) pairs, one pass): scores,
    predictions, loss, accuracy. ``flip_tta``: average each image's scores with its mirror
    image's."""
    scores, labels = _scores_and_labels(model, batches, flip_tta, amp_dtype, memory_format)
    predictions = scores.argmax(1)
    return Evaluation(scores, predictions, labels, F.cross_entropy(scores, labels).item(),
                      accuracy(predictions, labels))


@torch.no_grad()
def _scores_and_labels(model, batches, flip_tta, amp_dtype, memory_format):
    was_training = model.training
    model.eval()
    outputs, labels = [], []
    try:
        for images, batch_labels in batches:
            device = next(model.parameters()).device
            images = images.to(device).contiguous(memory_format=memory_format)
            with torch.autocast(device.type, dtype=amp_dtype or torch.float32,
                                enabled=amp_dtype is not None):
                scores = model(images).float()
                if flip_tta:
                    scores = (scores + model(images.flip(3)).float()) / 2
            outputs.append(scores.cpu())
            labels.append(batch_labels.cpu())
    finally:
        model.train(was_training)
    return torch.cat(outputs), torch.cat(labels)


def accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of ``predictions`` equal to ``labels``, in [0, 1]."""
    return (predictions.cpu() == labels.cpu()).float().mean().item()


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor, n_classes: int = 10
                     ) -> torch.Tensor:
    """(n_classes, n_classes) counts: row = true class, column = predicted class."""
    pairs = labels.long().cpu() * n_classes + predictions.long().cpu()
    return torch.bincount(pairs, minlength=n_classes ** 2).view(n_classes, n_classes)


def per_class_accuracy(confusion: torch.Tensor) -> torch.Tensor:
    """Fraction of each true class predicted correctly: diagonal / row sums, shape (n_classes,)."""
    return confusion.diag().float() / confusion.sum(1).clamp(min=1).float()


def most_confused_pairs(confusion: torch.Tensor, top: int = 3) -> list[tuple[int, int, int, int]]:
    """The ``top`` pairs of classes mistaken for each other most often, in both directions:
    ``(a, b, a taken for b, b taken for a)`` with ``a < b``, largest total first (ties: lower
    classes first); pairs never confused are left out."""
    counts = confusion.cpu().long()
    pairs = [(a, b, int(counts[a, b]), int(counts[b, a]))
             for a in range(len(counts)) for b in range(a + 1, len(counts))]
    pairs.sort(key=lambda pair: (-(pair[2] + pair[3]), pair[0], pair[1]))
    return [pair for pair in pairs[:top] if pair[2] + pair[3] > 0]


def confused_pairs_sentence(confusion: torch.Tensor, classes, top: int = 3) -> str:
    """The most confused pairs of classes in words, computed from ``confusion``, e.g.
    "Most confused pair: cat and dog, 78 mistakes (cat taken for dog 41 times, dog for cat 37).
    Next: automobile and truck (30), airplane and ship (26)." """
    pairs = most_confused_pairs(confusion, top)
    if not pairs:
        return "No mistakes: every test image was classified correctly."
    (a, b, ab, ba), *rest = pairs
    sentence = (f"Most confused pair: {classes[a]} and {classes[b]}, {ab + ba} "
                f"mistake{'s' if ab + ba != 1 else ''} ({classes[a]} taken for {classes[b]} "
                f"{ab} times, {classes[b]} for {classes[a]} {ba}).")
    if rest:
        sentence += " Next: " + ", ".join(f"{classes[a]} and {classes[b]} ({ab + ba})"
                                          for a, b, ab, ba in rest) + "."
    return sentence


def describe_accuracy(evaluation: Evaluation, fake: bool = False) -> str:
    """The test accuracy as one line, saying how many images and, for fake data, that it is fake:
    "test accuracy: 71.3% on 2,000 test images (chance: 10%)"."""
    if fake:
        return (f"test accuracy: {evaluation.accuracy:.1%} on {len(evaluation.labels):,} FAKE "
                "test images (synthetic shapes, not CIFAR-10; chance: 10%)")
    return (f"test accuracy: {evaluation.accuracy:.1%} on {len(evaluation.labels):,} test images "
            "(chance: 10%)")
