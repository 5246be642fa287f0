"""CIFAR-10 as tensors: the official python-version batches read straight into memory.

Lesson 05 (``notebooks/05_cnn_on_cifar10.ipynb``) trains on it. The file format and checksums
are in :mod:`course_utils.cifar10.cifar_format`. Tests and smoke runs use
:func:`course_utils.cifar10.fake_data.write_fake_cifar10`, which writes the same format, so both go
through this module's code.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch

from course_utils.cifar10.cifar_format import (
    ARCHIVE_NAME,
    CIFAR10_MD5,
    CIFAR10_URL,
    FOLDER_NAME,
    META_FILE,
    TEST_BATCH,
    TRAIN_BATCHES,
    file_md5,
    read_batch,
    read_classes,
)

#: Environment variable naming a mirror: the archive's full address (or a folder ending in "/").
MIRROR_ENV = "COURSE_CIFAR10_URL"


class DownloadError(RuntimeError):
    """The archive could not be fetched (offline, unreachable mirror, HTTP error)."""


class ChecksumError(ValueError):
    """A file's md5 is not the published one: refused, never unpacked."""


@dataclass(frozen=True)
class CIFAR10Data:
    """The whole data set in memory.

    ``train_images`` (50000, 3, 32, 32) uint8, ``train_labels`` (50000,) int64,
    ``test_images`` (10000, 3, 32, 32) uint8, ``test_labels`` (10000,) int64,
    ``classes`` the 10 names in label order (``classes[3] == 'cat'``).
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple[str, ...]

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "CIFAR10Data":
        """The first ``n_train`` training and ``n_test`` test images (None: all of them)."""
        return CIFAR10Data(self.train_images[:n_train], self.train_labels[:n_train],
                           self.test_images[:n_test], self.test_labels[:n_test], self.classes)

    def __repr__(self) -> str:
        return (
            f"CIFAR10Data(train_images={tuple(self.train_images.shape)} uint8, "
            f"test_images={tuple(self.test_images.shape)} uint8, classes={list(self.classes)})"
        )


def load_cifar10(root: str | os.PathLike = "data", download: bool = True, url: str | None = None,
                 md5: str = CIFAR10_MD5) -> CIFAR10Data:
    """CIFAR-10 from ``root``: unpacked batches, else the archive, else (``download``) the web.

    Looks for ``root/cifar-10-batches-py/``; if missing, unpacks ``root/cifar-10-python.tar.gz``
    after checking its md5; if that is missing too and ``download`` is true, fetches it from
    ``url`` (default: the environment variable ``COURSE_CIFAR10_URL``, else the official
    address). ``md5`` is the checksum the archive must have (tests pass their own).
    """
    root = Path(root)
    folder = root / FOLDER_NAME
    if not folder.is_dir():
        archive = root / ARCHIVE_NAME
        if not archive.is_file():
            if not download:
                raise FileNotFoundError(
                    f"load_cifar10: no data in {folder.resolve()} and download=False.\n"
                    + _by_hand_instructions(archive)
                )
            download_cifar10(root, url=url, md5=md5)
        _check_md5(archive, md5)
        _extract(archive, root)
    train = [_read_batch(folder / name) for name in TRAIN_BATCHES]
    test_images, test_labels = _read_batch(folder / TEST_BATCH)
    return CIFAR10Data(
        train_images=torch.cat([images for images, _ in train]),
        train_labels=torch.cat([labels for _, labels in train]),
        test_images=test_images,
        test_labels=test_labels,
        classes=read_classes(folder / META_FILE),
    )


def download_cifar10(root: str | os.PathLike = "data", url: str | None = None,
                     md5: str = CIFAR10_MD5, timeout: float = 30.0,
                     progress: bool = True) -> Path:
    """Fetch the archive to ``root/cifar-10-python.tar.gz``; return its path.

    The bytes go to a temporary file in ``root``, hashed on the way; only when the md5 matches is
    the file renamed into place (an atomic step), so an interrupted or corrupt download never
    leaves a file that passes for the archive. Raises ``DownloadError`` (with what to do by hand)
    when the address cannot be reached and ``ChecksumError`` on a wrong md5.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    target = root / ARCHIVE_NAME
    address = mirror_url(url)
    from tqdm.auto import tqdm

    handle, temporary = tempfile.mkstemp(prefix=f".{ARCHIVE_NAME}.", suffix=".part", dir=root)
    try:
        digest = hashlib.md5()
        with os.fdopen(handle, "wb") as out:
            try:
                response = urllib.request.urlopen(address, timeout=timeout)
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                raise DownloadError(
                    f"download_cifar10: could not fetch {address} ({reason}).\n"
                    + _by_hand_instructions(target)
                ) from error
            with response, tqdm(total=int(response.headers.get("Content-Length") or 0) or None,
                                unit="B", unit_scale=True, desc=ARCHIVE_NAME,
                                disable=not progress) as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != md5:
            raise ChecksumError(
                f"download_cifar10: the file from {address} has md5 {digest.hexdigest()}, "
                f"expected {md5}. It was deleted, not used: the download is corrupt or the "
                f"mirror serves a different file. Try again, or another mirror ({MIRROR_ENV})."
            )
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return target


def mirror_url(url: str | None = None) -> str:
    """The address to download from: ``url``, else ``$COURSE_CIFAR10_URL``, else the official one.

    An address ending in "/" is a folder: the archive's name is appended.
    """
    address = url or os.environ.get(MIRROR_ENV) or CIFAR10_URL
    return address + ARCHIVE_NAME if address.endswith("/") else address


def _by_hand_instructions(archive: Path) -> str:
    return (
        f"Offline? On a machine with internet, download {CIFAR10_URL} "
        f"(163 MiB, md5 {CIFAR10_MD5}) and copy it to\n    {archive.resolve()}\n"
        f"(or unpack it there so that {archive.parent.resolve() / FOLDER_NAME} exists). "
        f"A mirror works too: load_cifar10(url=...) or the environment variable {MIRROR_ENV}."
    )


def _check_md5(archive: Path, md5: str) -> None:
    actual = file_md5(archive)
    if actual != md5:
        raise ChecksumError(
            f"load_cifar10: {archive} has md5 {actual}, expected {md5}. Refusing to unpack it: "
            "the file is incomplete or not the CIFAR-10 python archive. Delete it and download "
            "it again."
        )


def _extract(archive: Path, root: Path) -> None:
    """Unpack into a temporary folder, then move ``cifar-10-batches-py`` into place."""
    with tempfile.TemporaryDirectory(prefix=".cifar-10-unpack.", dir=root) as scratch:
        with tarfile.open(archive, "r:gz") as tar:
            if hasattr(tarfile, "data_filter"):  # refuses absolute paths and links out
                tar.extractall(scratch, filter="data")
            else:  # pragma: no cover - Python < 3.11.4
                tar.extractall(scratch)
        unpacked = Path(scratch) / FOLDER_NAME
        if not unpacked.is_dir():
            raise ValueError(f"load_cifar10: {archive} holds no {FOLDER_NAME}/ folder")
        shutil.move(str(unpacked), root / FOLDER_NAME)


def _read_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch file -> images (N, 3, 32, 32) uint8, labels (N,) int64, as tensors."""
    images, labels = read_batch(path)
    return torch.from_numpy(images), torch.from_numpy(labels)
