"""Small data in CIFAR-10's exact on-disk format, for the real loader's tests.

Fake data (``write_fake_cifar10``) lives in a folder of its own and is never read as CIFAR-10, so
the real path is tested with this instead: CIFAR-10's class names, no fake marker, written into a
temporary folder (never where real data lives) and packed as ``cifar-10-python.tar.gz``. Its md5
is not CIFAR-10's, so tests pass it to ``load_cifar10(md5=...)``.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest

from course_utils.cifar10 import cifar_format
from course_utils.cifar10.fake_data import fake_images


def write_cifar10_format(root: Path, n_train: int = 60, n_test: int = 20, seed: int = 3) -> str:
    """Write ``root/cifar-10-python.tar.gz`` (holding ``cifar-10-batches-py/``, CIFAR-10's class
    names, no marker) and return its md5; the unpacked folder is not left behind."""
    rng = np.random.default_rng(seed)
    scratch = root / "scratch"
    folder = scratch / cifar_format.FOLDER_NAME
    folder.mkdir(parents=True)
    images, labels = fake_images(n_train, rng)
    for number, (name, rows) in enumerate(zip(cifar_format.TRAIN_BATCHES, np.array_split(
            np.arange(n_train), len(cifar_format.TRAIN_BATCHES))), start=1):
        cifar_format.write_batch(folder / name, images[rows], labels[rows],
                                 f"training batch {number} of 5", [f"{i}.png" for i in rows])
    test_images, test_labels = fake_images(n_test, rng)
    cifar_format.write_batch(folder / cifar_format.TEST_BATCH, test_images, test_labels,
                             "testing batch 1 of 1", [f"{i}.png" for i in range(n_test)])
    cifar_format.write_classes(folder / cifar_format.META_FILE, cifar_format.CLASSES, n_train // 5)
    archive = root / cifar_format.ARCHIVE_NAME
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=cifar_format.FOLDER_NAME)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    scratch.rmdir()
    return cifar_format.file_md5(archive)


@pytest.fixture(scope="module")
def cifar_format_archive(tmp_path_factory) -> tuple[Path, str]:
    """(folder holding a CIFAR-10-format ``cifar-10-python.tar.gz``, its md5)."""
    root = tmp_path_factory.mktemp("cifar_format")
    return root, write_cifar10_format(root)
