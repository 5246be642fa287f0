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
