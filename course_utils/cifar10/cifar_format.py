"""CIFAR-10's files as the official python version lays them out: names, checksums, batches.

The archive ``cifar-10-python.tar.gz`` (163 MiB, md5 ``c58f30108f718f92721af3b95e74349a``) unpacks
to ``cifar-10-batches-py/`` holding ``data_batch_1`` .. ``data_batch_5`` (10,000 training images
each), ``test_batch`` (10,000 test images) and ``batches.meta`` (the class names). Each batch is a
dict pickled by Python 2: ``b'data'`` uint8 ``(10000, 3072)`` (1024 red, then 1024 green, then 1024
blue values per image, row by row), ``b'labels'`` a list of ints in 0..9.

The loader (:mod:`course_utils.cifar10.data`) reads these files and the fake-data writer
(:mod:`course_utils.cifar10.fake_data`) writes them; both take the format from here, once.

Fake data never shares CIFAR-10's folder: it lives in ``fake-cifar-10-batches-py/`` beside it,
marked by a text file (``FAKE_MARKER``) that the loader looks for, so neither can pass for the
other.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
from pathlib import Path

import numpy as np

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER_NAME = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META_FILE = "batches.meta"
#: md5 of every file in ``cifar-10-batches-py/``, as published (torchvision's ``CIFAR10`` lists
#: the same): the loader checks the unpacked files too, not only the archive they came from.
CIFAR10_FILE_MD5S = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
#: The synthetic stand-in's folder and archive: always apart from the real ones.
FAKE_FOLDER_NAME = "fake-cifar-10-batches-py"
FAKE_ARCHIVE_NAME = "fake-cifar-10-python.tar.gz"
#: The file that marks a folder as fake data (the writer puts it there, the loader checks it).
FAKE_MARKER = "FAKE_DATA_NOT_CIFAR-10.txt"
#: The ten class names in label order (``CLASSES[3] == "cat"``), as ``batches.meta`` holds them.
CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")


def file_md5(path: str | os.PathLike) -> str:
    """Hex md5 of a file, read in 1 MiB pieces."""
    digest = hashlib.md5()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _unpickle(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(
            f"load_cifar10: {path} is missing; {path.parent} should hold "
            f"{', '.join(TRAIN_BATCHES)}, {TEST_BATCH} and {META_FILE}. Delete the folder to "
            "unpack the archive again."
        )
    with open(path, "rb") as file:
        return pickle.load(file, encoding="bytes")


def read_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> images (N, 3, 32, 32) uint8, labels (N,) int64."""
    path = Path(path)
    batch = _unpickle(path)
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ValueError(
            f"load_cifar10: {path} holds data {data.shape} and {len(labels)} labels; "
            "expected (N, 3072) uint8 and N labels"
        )
    # Each row is 1024 red values, then green, then blue: exactly (3, 32, 32) in C order.
    return data.reshape(-1, 3, 32, 32).copy(), labels


def read_classes(path: str | os.PathLike) -> tuple[str, ...]:
    """The class names stored in ``batches.meta``, in label order."""
    names = _unpickle(Path(path))[b"label_names"]
    return tuple(name.decode() if isinstance(name, bytes) else str(name) for name in names)


def write_batch(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray, batch_label: str,
                filenames: list[str]) -> None:
    """Write one batch file: uint8 images (N, 3, 32, 32), labels (N,), one file name per image."""
    batch = {
        b"batch_label": batch_label.encode(),
        b"labels": [int(label) for label in labels],
        b"data": np.ascontiguousarray(images.reshape(len(images), 3 * 32 * 32)),
        b"filenames": [name.encode() for name in filenames],
    }
    Path(path).write_bytes(python2_pickle(batch))


def write_classes(path: str | os.PathLike, classes: tuple[str, ...], images_per_batch: int) -> None:
    """Write ``batches.meta`` with the class names."""
    meta = {b"num_cases_per_batch": int(images_per_batch),
            b"label_names": [name.encode() for name in classes], b"num_vis": 3072}
    Path(path).write_bytes(python2_pickle(meta))


class _Python2Pickler(pickle._Pickler):
    """Writes ``bytes`` as Python 2 ``str`` (as the official files, pickled by Python 2, hold).

    Then ``pickle.load(f, encoding='bytes')`` gives ``b'data'`` keys (our loader) and
    ``encoding='latin1'`` gives ``'data'`` keys (torchvision's ``CIFAR10``), as with the real files.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_python2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_python2_str


def python2_pickle(obj) -> bytes:
    """``obj`` pickled with protocol 2, its ``bytes`` written as Python 2 strings."""
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()
