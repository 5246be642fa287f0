"""CIFAR-10 as tensors: the official python-version batches read straight into memory.

Lesson 05 (``notebooks/05_cnn_on_cifar10.ipynb``) trains on it. The file format and checksums
are in :mod:`course_utils.cifar10.cifar_format`. ``load_cifar10(root)`` reads only
``root/cifar-10-batches-py/`` and checks every file's md5 against the published ones (once: a
stamp keyed by each file's size and modification time remembers the result).
``load_cifar10(root, fake=True)`` reads only the synthetic stand-in that
:func:`course_utils.cifar10.fake_data.write_fake_cifar10` writes to
``root/fake-cifar-10-batches-py/`` (marked fake on disk); the result says ``fake=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
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
    CIFAR10_FILE_MD5S,
    CIFAR10_MD5,
    CIFAR10_URL,
    FAKE_FOLDER_NAME,
    FAKE_MARKER,
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


class _SaysWhatToDo:
    """An error about the student's data, not a bug: in a notebook (IPython) it is shown as its
    message alone, which starts with what to do, instead of screens of ``urllib`` traceback
    with the advice at the bottom. Elsewhere it is an ordinary exception with its traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class DownloadError(_SaysWhatToDo, RuntimeError):
    """The archive could not be fetched (offline, unreachable mirror, HTTP error)."""


class ChecksumError(_SaysWhatToDo, ValueError):
    """A file's md5 is not the published one: refused, never unpacked or loaded."""


#: Written into ``cifar-10-batches-py/`` once its files are verified: size, mtime and md5 of each.
VERIFIED_STAMP = ".verified.json"


@dataclass(frozen=True)
class CIFAR10Data:
    """The whole data set in memory.

    ``train_images`` (50000, 3, 32, 32) uint8, ``train_labels`` (50000,) int64,
    ``test_images`` (10000, 3, 32, 32) uint8, ``test_labels`` (10000,) int64,
    ``classes`` the 10 names in label order (``classes[3] == 'cat'``).
    ``fake``: True for the synthetic stand-in (then ``classes`` name its shapes, and every
    number computed from it is about shapes, not CIFAR-10).
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple[str, ...]
    fake: bool = False

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "CIFAR10Data":
        """The first ``n_train`` training and ``n_test`` test images (None: all of them)."""
        return CIFAR10Data(self.train_images[:n_train], self.train_labels[:n_train],
                           self.test_images[:n_test], self.test_labels[:n_test], self.classes,
                           self.fake)

    def __repr__(self) -> str:
        what = "FAKE data (synthetic shapes, not CIFAR-10), " if self.fake else ""
        return (
            f"CIFAR10Data({what}train_images={tuple(self.train_images.shape)} uint8, "
            f"test_images={tuple(self.test_images.shape)} uint8, classes={list(self.classes)})"
        )


def load_cifar10(root: str | os.PathLike = "data", download: bool = True, url: str | None = None,
                 md5: str = CIFAR10_MD5, fake: bool = False) -> CIFAR10Data:
    """CIFAR-10 from ``root``: unpacked batches, else the archive, else (``download``) the web.

    Looks for ``root/cifar-10-batches-py/``; if missing, unpacks ``root/cifar-10-python.tar.gz``
    after checking its md5; if that is missing too and ``download`` is true, fetches it from
    ``url`` (default: the environment variable ``COURSE_CIFAR10_URL``, else the official
    address). ``md5`` is the checksum the archive must have (tests pass their own). Every
    unpacked file is checked too: against the published md5s for the official archive, against
    the md5s recorded when the archive was unpacked otherwise; a folder marked as fake data is
    refused.

    ``fake=True`` reads ``root/fake-cifar-10-batches-py/`` instead (written by
    ``write_fake_cifar10(root)``; it must carry the fake-data marker) and nothing else.
    """
    root = Path(root)
    if fake:
        return _load_fake(root)
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
        _extract(archive, root, md5)
    _verify_folder(folder, md5)
    train = [_read_batch(folder / name) for name in TRAIN_BATCHES]
    test_images, test_labels = _read_batch(folder / TEST_BATCH)
    return CIFAR10Data(
        train_images=torch.cat([images for images, _ in train]),
        train_labels=torch.cat([labels for _, labels in train]),
        test_images=test_images,
        test_labels=test_labels,
        classes=read_classes(folder / META_FILE),
    )


def _load_fake(root: Path) -> CIFAR10Data:
    folder = root / FAKE_FOLDER_NAME
    if not (folder / FAKE_MARKER).is_file():
        state = "is not marked as fake data" if folder.is_dir() else "does not exist"
        raise FileNotFoundError(
            f"load_cifar10(fake=True): {folder.resolve()} {state}. Write the fake data first:\n"
            f"    from course_utils.cifar10.fake_data import write_fake_cifar10\n"
            f"    write_fake_cifar10({str(root)!r})\n"
            "(lesson 05 does this itself when FAKE_DATA = True)."
        )
    train = [_read_batch(folder / name) for name in TRAIN_BATCHES]
    test_images, test_labels = _read_batch(folder / TEST_BATCH)
    return CIFAR10Data(torch.cat([images for images, _ in train]),
                       torch.cat([labels for _, labels in train]), test_images, test_labels,
                       read_classes(folder / META_FILE), fake=True)


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
                    f"CIFAR-10 could not be downloaded from {address} ({reason}). What to do:\n"
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
    """What a student can do without the data: the two ways on, one short paragraph each."""
    return (
        "* No internet here? Run lesson 05 on synthetic shapes instead: set FAKE_DATA = True in "
        "its first cell and run all cells again (the pictures and numbers then say FAKE; they "
        "say nothing about CIFAR-10). In code: write_fake_cifar10(root), then "
        "load_cifar10(root, fake=True).\n"
        f"* Or bring the real data: on a machine with internet, download {CIFAR10_URL} "
        f"(163 MiB, md5 {CIFAR10_MD5}) and copy it to\n    {archive.resolve()}\n"
        f"  (or unpack it there, so that {archive.parent.resolve() / FOLDER_NAME} exists), then "
        f"run the cell again. A mirror works too: load_cifar10(url=...) or the environment "
        f"variable {MIRROR_ENV}.\n"
    )


def _check_md5(archive: Path, md5: str) -> None:
    actual = file_md5(archive)
    if actual != md5:
        raise ChecksumError(
            f"load_cifar10: {archive} has md5 {actual}, expected {md5}. Refusing to unpack it: "
            "the file is incomplete or not the CIFAR-10 python archive. Delete it and download "
            "it again."
        )


def _extract(archive: Path, root: Path, md5: str) -> None:
    """Unpack into a temporary folder, check it, then move ``cifar-10-batches-py`` into place.

    For an archive other than the official one (a test's), the md5 of every unpacked file is
    recorded in the verified stamp: later loads check the files against what the verified archive
    held.
    """
    with tempfile.TemporaryDirectory(prefix=".cifar-10-unpack.", dir=root) as scratch:
        with tarfile.open(archive, "r:gz") as tar:
            if hasattr(tarfile, "data_filter"):  # refuses absolute paths and links out
                tar.extractall(scratch, filter="data")
            else:  # pragma: no cover - Python < 3.11.4
                tar.extractall(scratch)
        unpacked = Path(scratch) / FOLDER_NAME
        if not unpacked.is_dir():
            raise ValueError(f"load_cifar10: {archive} holds no {FOLDER_NAME}/ folder")
        if (unpacked / FAKE_MARKER).exists():
            raise ChecksumError(f"load_cifar10: {archive} holds fake data (it carries "
                                f"{FAKE_MARKER}); refusing to unpack it as CIFAR-10")
        if md5 != CIFAR10_MD5:
            _write_stamp(unpacked, md5, _entries(unpacked))
        shutil.move(str(unpacked), root / FOLDER_NAME)


_NAMES = (*TRAIN_BATCHES, TEST_BATCH, META_FILE)


def _verify_folder(folder: Path, md5: str) -> None:
    """Check every file of ``folder`` against its expected md5 (hashing only files whose size or
    modification time changed since the last check); raise ``ChecksumError`` naming the file."""
    if (folder / FAKE_MARKER).exists():
        raise ChecksumError(
            f"load_cifar10: {folder} is marked as fake data ({FAKE_MARKER}), not CIFAR-10. "
            f"Delete the folder; fake data belongs in {folder.parent / FAKE_FOLDER_NAME} and is "
            "read with load_cifar10(root, fake=True)."
        )
    stamp = _read_stamp(folder)
    if md5 == CIFAR10_MD5:
        expected = CIFAR10_FILE_MD5S
    elif stamp.get("archive_md5") == md5:
        expected = {name: entry["md5"] for name, entry in stamp["files"].items()}
    else:
        raise ChecksumError(
            f"load_cifar10: no checksums are known for the files in {folder} (the archive md5 "
            f"{md5} is not CIFAR-10's, and the folder was not unpacked from it here). Delete the "
            "folder so that the archive is unpacked and checked again."
        )
    recorded = stamp.get("files", {}) if stamp.get("archive_md5") == md5 else {}
    checked = {}
    for name in _NAMES:
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(
                f"load_cifar10: {path} is missing; {folder} should hold {', '.join(_NAMES)}. "
                "Delete the folder to unpack the archive again."
            )
        info = path.stat()
        entry = {"md5": expected[name], "size": info.st_size, "mtime_ns": info.st_mtime_ns}
        if recorded.get(name) != entry:  # new, or changed since it was last checked: hash it
            actual = file_md5(path)
            if actual != expected[name]:
                raise ChecksumError(_wrong_file_message(folder, name, actual, expected[name]))
        checked[name] = entry
    if checked != recorded:
        _write_stamp(folder, md5, checked)


def _read_stamp(folder: Path) -> dict:
    try:
        stamp = json.loads((folder / VERIFIED_STAMP).read_text())
        return stamp if isinstance(stamp, dict) and isinstance(stamp.get("files"), dict) else {}
    except (OSError, ValueError):
        return {}


def _write_stamp(folder: Path, md5: str, entries: dict[str, dict]) -> None:
    """Remember each checked file's md5, size and mtime (``entries``); a read-only folder just
    stays unstamped (and is checked again next time)."""
    try:
        (folder / VERIFIED_STAMP).write_text(json.dumps({"archive_md5": md5, "files": entries},
                                                        indent=1))
    except OSError:
        pass


def _entries(folder: Path) -> dict[str, dict]:
    """md5, size and mtime of every file of a freshly unpacked folder."""
    entries = {}
    for name in _NAMES:
        info = (folder / name).stat()
        entries[name] = {"md5": file_md5(folder / name), "size": info.st_size,
                         "mtime_ns": info.st_mtime_ns}
    return entries


def _wrong_file_message(folder: Path, name: str, actual: str, expected: str) -> str:
    message = (f"load_cifar10: {folder / name} has md5 {actual}, expected {expected}: these are "
               "not CIFAR-10's files")
    try:
        names = _image_names(folder / TEST_BATCH)
    except Exception:  # noqa: BLE001 - the hint is optional; the checksum already decided
        names = []
    if names and all(n.startswith("fake_") for n in names[:10]):
        message += (" but fake data (an earlier version of lesson 05 wrote its FAKE_DATA images "
                    "into this folder)")
    else:
        message += " (damaged, incomplete or another data set)"
    return (message + f". Nothing was loaded. Delete {folder} and run again: the archive is "
            "unpacked (or downloaded) and checked again.")


def _image_names(path: Path) -> list[str]:
    """The image file names a batch file lists (only used to explain a wrong checksum)."""
    with open(path, "rb") as file:
        batch = pickle.load(file, encoding="bytes")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in batch.get(b"filenames", [])]


def _read_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch file -> images (N, 3, 32, 32) uint8, labels (N,) int64, as tensors."""
    images, labels = read_batch(path)
    return torch.from_numpy(images), torch.from_numpy(labels)
