"""A small stand-in for CIFAR-10, written in exactly the official on-disk format.

Tests, benchmarks and the smoke run of lesson 05 cannot download the real data, so they write this
one and read it back with ``course_utils.cifar10.data.load_cifar10(root, download=False)``: the
same code path as the real thing.

Every class is a *shape*, drawn at a random place and size in random colours over noise, so the
average colour says almost nothing about the class: a network has to find edges and their
arrangement, which is what convolution is for. Class names are CIFAR-10's (the pictures are not):

=========  ==========================  =========  ==========================
label      pattern                     label      pattern
=========  ==========================  =========  ==========================
airplane   horizontal stripes          dog        filled disc
automobile vertical stripes            frog       ring
bird       diagonal stripes ( / )      horse      plus sign
cat        diagonal stripes ( \\ )      ship       filled square
deer       checkerboard                truck      square outline
=========  ==========================  =========  ==========================
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np

from course_utils.cifar10.cifar_format import (
    ARCHIVE_NAME,
    CLASSES,
    FOLDER_NAME,
    META_FILE,
    TEST_BATCH,
    TRAIN_BATCHES,
    file_md5,
    write_batch,
    write_classes,
)


def write_fake_cifar10(root: str | os.PathLike, n_train: int = 5000, n_test: int = 1000,
                       seed: int = 0, noise: float = 0.12, archive: bool = False) -> Path:
    """Write ``root/cifar-10-batches-py/`` (5 training batches, ``test_batch``, ``batches.meta``).

    ``n_train`` images are split over the five training batches, ``n_test`` go to the test batch;
    labels are balanced and shuffled. With ``archive=True`` also writes
    ``root/cifar-10-python.tar.gz`` (as the official archive is laid out). Returns the folder.
    """
    if n_train < len(TRAIN_BATCHES) or n_test < 1:
        raise ValueError(f"write_fake_cifar10: need n_train >= 5 and n_test >= 1, "
                         f"got n_train={n_train}, n_test={n_test}")
    rng = np.random.default_rng(seed)
    folder = Path(root) / FOLDER_NAME
    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = fake_images(n_train, rng, noise)
    for number, (name, rows) in enumerate(
            zip(TRAIN_BATCHES, np.array_split(np.arange(n_train), len(TRAIN_BATCHES))), start=1):
        _write_batch(folder / name, train_images[rows], train_labels[rows],
                     f"training batch {number} of 5", first_index=int(rows[0]) if len(rows) else 0)
    test_images, test_labels = fake_images(n_test, rng, noise)
    _write_batch(folder / TEST_BATCH, test_images, test_labels, "testing batch 1 of 1", 0)
    write_classes(folder / META_FILE, CLASSES, int(np.ceil(n_train / 5)))
    if archive:
        make_archive(Path(root))
    return folder


def make_archive(root: str | os.PathLike) -> str:
    """Pack ``root/cifar-10-batches-py/`` into ``root/cifar-10-python.tar.gz``; return its md5."""
    root = Path(root)
    path = root / ARCHIVE_NAME
    with tarfile.open(path, "w:gz") as tar:
        tar.add(root / FOLDER_NAME, arcname=FOLDER_NAME)
    return file_md5(path)


def fake_images(n: int, rng: np.random.Generator, noise: float = 0.12, with_masks: bool = False):
    """``n`` images (n, 3, 32, 32) uint8 and their labels (n,) int64, classes balanced; with
    ``with_masks`` also where each image's shape is, (n, 32, 32) bool (lesson 07 measures how
    much of a saliency map falls inside it)."""
    labels = rng.permutation(np.arange(n) % len(CLASSES)).astype(np.int64)
    images = np.empty((n, 3, 32, 32), dtype=np.float64)
    masks = np.empty((n, 32, 32), dtype=bool)
    for label in range(len(CLASSES)):
        rows = np.flatnonzero(labels == label)
        mask = _shape_masks(label, len(rows), rng)                      # (k, 32, 32) bool
        masks[rows] = mask
        foreground = rng.uniform(0, 1, (len(rows), 3, 1, 1))
        # Background: far from the foreground in brightness, so the shape is always visible.
        background = np.clip(1 - foreground + rng.normal(0, 0.15, foreground.shape), 0, 1)
        images[rows] = np.where(mask[:, None], foreground, background)
    images += rng.normal(0, noise, images.shape)
    images = np.clip(images * 255 + 0.5, 0, 255).astype(np.uint8)
    return (images, labels, masks) if with_masks else (images, labels)


def _shape_masks(label: int, k: int, rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:32, 0:32].astype(np.float64)
    y, x = y[None], x[None]

    def param(low, high):
        return rng.uniform(low, high, (k, 1, 1))

    period, phase = param(5, 9), param(0, 10)
    cy, cx, size = param(9, 23), param(9, 23), param(5, 9)
    if label == 0:
        return ((y + phase) % period) < period / 2
    if label == 1:
        return ((x + phase) % period) < period / 2
    if label == 2:
        return ((x + y + phase) % (1.4 * period)) < 0.7 * period
    if label == 3:
        return ((x - y + 32 + phase) % (1.4 * period)) < 0.7 * period
    if label == 4:
        return (((y + phase) // (period / 1.5) + (x + phase) // (period / 1.5)) % 2) == 0
    radius = np.hypot(y - cy, x - cx)
    box = np.maximum(abs(y - cy), abs(x - cx))
    if label == 5:
        return radius <= size
    if label == 6:
        return (radius <= size) & (radius >= size - 2.5)
    if label == 7:
        return ((abs(y - cy) <= 1.5) & (abs(x - cx) <= size)) | (
            (abs(x - cx) <= 1.5) & (abs(y - cy) <= size))
    if label == 8:
        return box <= size * 0.85
    return (box <= size) & (box >= size - 2.5)


def _write_batch(path: Path, images: np.ndarray, labels: np.ndarray, batch_label: str,
                 first_index: int) -> None:
    names = [f"fake_{CLASSES[label]}_{first_index + i:05d}.png" for i, label in enumerate(labels)]
    write_batch(path, images, labels, batch_label, names)
