"""A small synthetic stand-in for CIFAR-10: the same file format, a folder of its own, marked fake.

Tests, benchmarks and lesson 05's ``FAKE_DATA = True`` cannot download the real data, so they
write this and read it back with ``load_cifar10(root, fake=True)``: the same reading code as the
real thing, but never the same folder. ``write_fake_cifar10(root)`` writes
``root/fake-cifar-10-batches-py/`` (never ``root/cifar-10-batches-py/``) with a marker file saying
it is fake; the loader refuses it as CIFAR-10 and refuses anything unmarked as fake data.

Every class is a *shape*, drawn at a random place and size in random colours over noise, so the
average colour says almost nothing about the class: a network has to find edges and their
arrangement, which is what convolution is for. The class names say what the pattern is:

====  ====================  ==============================================================
label name                  pattern
====  ====================  ==============================================================
0     horizontal stripes    stripes across the whole image
1     vertical stripes      the same, turned 90 degrees
2     diagonal stripes      ``/`` or ``\\`` (either, at random)
3     checkerboard          squares of alternating colour
4     filled disc           one disc
5     ring                  a circle outline
6     plus sign             ``+``
7     diagonal cross        ``x``
8     filled square         one square
9     square outline        a square's border
====  ====================  ==============================================================

Lesson 05 augments with random shifts (crop) and left-right mirroring (flip) and averages each
test image's scores with its mirror image's. Each class is therefore its own mirror image: the
mirror of a ``/`` stripe is a ``\\`` stripe, so both belong to "diagonal stripes" (a class of
``/`` stripes beside one of ``\\`` stripes would be merged by the flips).
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np

from course_utils.cifar10.cifar_format import (
    FAKE_ARCHIVE_NAME,
    FAKE_FOLDER_NAME,
    FAKE_MARKER,
    META_FILE,
    TEST_BATCH,
    TRAIN_BATCHES,
    file_md5,
    write_batch,
    write_classes,
)

#: Put in front of every title, text alternative and printed result that comes from fake data.
FAKE_LABEL = "FAKE DATA (synthetic shapes, not CIFAR-10)"

#: The ten fake classes in label order; each name says what the picture shows.
FAKE_CLASSES = ("horizontal stripes", "vertical stripes", "diagonal stripes", "checkerboard",
                "filled disc", "ring", "plus sign", "diagonal cross", "filled square",
                "square outline")

_CHUNK = 4096  # images drawn at a time (50,000 at once would take 1.2 GB of float64)


def write_fake_cifar10(root: str | os.PathLike, n_train: int = 5000, n_test: int = 1000,
                       seed: int = 0, noise: float = 0.12, archive: bool = False) -> Path:
    """Write ``root/fake-cifar-10-batches-py/``: 5 training batches, ``test_batch``,
    ``batches.meta`` (``FAKE_CLASSES``) and the marker file ``FAKE_DATA_NOT_CIFAR-10.txt``.

    ``n_train`` images are split over the five training batches, ``n_test`` go to the test batch;
    labels are balanced and shuffled. Nothing is ever written to ``root/cifar-10-batches-py/``.
    With ``archive=True`` also writes ``root/fake-cifar-10-python.tar.gz``. Returns the folder.
    Read it back with ``load_cifar10(root, fake=True)``.
    """
    if n_train < len(TRAIN_BATCHES) or n_test < 1:
        raise ValueError(f"write_fake_cifar10: need n_train >= 5 and n_test >= 1, "
                         f"got n_train={n_train}, n_test={n_test}")
    rng = np.random.default_rng(seed)
    folder = Path(root) / FAKE_FOLDER_NAME
    folder.mkdir(parents=True, exist_ok=True)
    # The marker first: a folder interrupted half-way is still marked fake.
    (folder / FAKE_MARKER).write_text(_marker_text(n_train, n_test, seed, noise))
    train_labels = _balanced_labels(n_train, rng)
    for number, (name, rows) in enumerate(
            zip(TRAIN_BATCHES, np.array_split(np.arange(n_train), len(TRAIN_BATCHES))), start=1):
        images, _ = _draw(train_labels[rows], rng, noise)
        _write_batch(folder / name, images, train_labels[rows], f"training batch {number} of 5",
                     first_index=int(rows[0]) if len(rows) else 0)
    test_images, test_labels = fake_images(n_test, rng, noise)
    _write_batch(folder / TEST_BATCH, test_images, test_labels, "testing batch 1 of 1", 0)
    write_classes(folder / META_FILE, FAKE_CLASSES, int(np.ceil(n_train / 5)))
    if archive:
        make_archive(Path(root))
    return folder


def make_archive(root: str | os.PathLike) -> str:
    """Pack ``root/fake-cifar-10-batches-py/`` into ``root/fake-cifar-10-python.tar.gz`` (laid out
    as the official archive, under the fake names); return its md5."""
    root = Path(root)
    path = root / FAKE_ARCHIVE_NAME
    with tarfile.open(path, "w:gz") as tar:
        tar.add(root / FAKE_FOLDER_NAME, arcname=FAKE_FOLDER_NAME)
    return file_md5(path)


def fake_images(n: int, rng: np.random.Generator, noise: float = 0.12, with_masks: bool = False):
    """``n`` images (n, 3, 32, 32) uint8 and their labels (n,) int64, classes balanced; with
    ``with_masks`` also where each image's shape is, (n, 32, 32) bool (lesson 07 measures how
    much of a saliency map falls inside it). Labels index ``FAKE_CLASSES``."""
    labels = _balanced_labels(n, rng)
    images, masks = _draw(labels, rng, noise)
    return (images, labels, masks) if with_masks else (images, labels)


def _balanced_labels(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n) % len(FAKE_CLASSES)).astype(np.int64)


def _draw(labels: np.ndarray, rng: np.random.Generator, noise: float):
    """Images (n, 3, 32, 32) uint8 and masks (n, 32, 32) bool for ``labels``, in chunks."""
    images = np.empty((len(labels), 3, 32, 32), dtype=np.uint8)
    masks = np.empty((len(labels), 32, 32), dtype=bool)
    for start in range(0, len(labels), _CHUNK):
        part = slice(start, start + _CHUNK)
        images[part], masks[part] = _draw_chunk(labels[part], rng, noise)
    return images, masks


def _draw_chunk(labels: np.ndarray, rng: np.random.Generator, noise: float):
    pictures = np.empty((len(labels), 3, 32, 32), dtype=np.float32)
    masks = np.empty((len(labels), 32, 32), dtype=bool)
    for label in range(len(FAKE_CLASSES)):
        rows = np.flatnonzero(labels == label)
        mask = _shape_masks(label, len(rows), rng)                      # (k, 32, 32) bool
        masks[rows] = mask
        foreground = rng.uniform(0, 1, (len(rows), 3, 1, 1))
        # Background: far from the foreground in brightness, so the shape is always visible.
        background = np.clip(1 - foreground + rng.normal(0, 0.15, foreground.shape), 0, 1)
        pictures[rows] = np.where(mask[:, None], foreground, background)
    pictures += rng.normal(0, noise, pictures.shape).astype(np.float32)
    return np.clip(pictures * 255 + 0.5, 0, 255).astype(np.uint8), masks


def _shape_masks(label: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """(k, 32, 32) bool: where class ``label``'s shape is, at random places, sizes and phases."""
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
    if label == 2:  # "/" or "\": a random sign, so the class is its own mirror image
        sign = np.where(rng.random((k, 1, 1)) < 0.5, 1.0, -1.0)
        return ((x + sign * y + 32 + phase) % (1.4 * period)) < 0.7 * period
    if label == 3:
        return (((y + phase) // (period / 1.5) + (x + phase) // (period / 1.5)) % 2) == 0
    dy, dx = y - cy, x - cx
    radius = np.hypot(dy, dx)
    box = np.maximum(abs(dy), abs(dx))
    if label == 4:
        return radius <= size
    if label == 5:
        return (radius <= size) & (radius >= size - 2.5)
    if label == 6:
        return ((abs(dy) <= 1.5) & (abs(dx) <= size)) | ((abs(dx) <= 1.5) & (abs(dy) <= size))
    if label == 7:  # the plus sign turned 45 degrees: two diagonal bars of the same thickness
        along = box <= size * 0.8
        return along & ((abs(dy - dx) <= 2.1) | (abs(dy + dx) <= 2.1))
    if label == 8:
        return box <= size * 0.85
    return (box <= size) & (box >= size - 2.5)


def _marker_text(n_train: int, n_test: int, seed: int, noise: float) -> str:
    return (
        "FAKE DATA - NOT CIFAR-10.\n\n"
        "This folder holds synthetic images written by\n"
        "course_utils.cifar10.fake_data.write_fake_cifar10 "
        f"(n_train={n_train}, n_test={n_test}, seed={seed}, noise={noise}).\n"
        "The files have CIFAR-10's format, but each class is a drawn shape:\n"
        + "".join(f"  {label}: {name}\n" for label, name in enumerate(FAKE_CLASSES))
        + "load_cifar10(root, fake=True) reads it; load_cifar10(root) never does.\n"
        "Delete the folder at any time: lesson 05 writes it again when FAKE_DATA = True.\n"
    )


def _write_batch(path: Path, images: np.ndarray, labels: np.ndarray, batch_label: str,
                 first_index: int) -> None:
    names = [f"fake_{FAKE_CLASSES[label].replace(' ', '_')}_{first_index + i:05d}.png"
             for i, label in enumerate(labels)]
    write_batch(path, images, labels, f"FAKE {batch_label}", names)
