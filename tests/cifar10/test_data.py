"""course_utils.cifar10.data and fake_data: CIFAR-10's on-disk format, the download (served from
127.0.0.1), every file's checksum, and fake data that lives apart and never passes for CIFAR-10."""

from __future__ import annotations

import functools
import http.server
import pickle
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils.cifar10 import cifar_format
from course_utils.cifar10 import data as cifar
from course_utils.cifar10.cifar_format import CLASSES
from course_utils.cifar10.data import ChecksumError, DownloadError, load_cifar10
from course_utils.cifar10.fake_data import (
    FAKE_CLASSES, _shape_masks, fake_images, make_archive, write_fake_cifar10,
)


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fake")
    write_fake_cifar10(root, n_train=60, n_test=20, seed=3, archive=True)
    return root


def copy_archive(source: tuple[Path, str], target: Path) -> str:
    root, md5 = source
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / cifar.ARCHIVE_NAME, target / cifar.ARCHIVE_NAME)
    return md5


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture()
def server(cifar_format_archive, fake_root, tmp_path_factory):
    """An HTTP server on 127.0.0.1 serving a CIFAR-10-format archive, a corrupt copy and an
    archive of fake data under CIFAR-10's archive name."""
    served = tmp_path_factory.mktemp("served")
    good = (cifar_format_archive[0] / cifar.ARCHIVE_NAME).read_bytes()
    (served / cifar.ARCHIVE_NAME).write_bytes(good)
    (served / "corrupt.tar.gz").write_bytes(good[: len(good) // 2] + b"\0" * 100)
    handler = functools.partial(QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the with block ends


# --- fake data: its own folder, marked, read only when asked for -------------------------------

def test_fake_data_goes_to_a_folder_of_its_own_marked_fake(fake_root):
    folder = fake_root / cifar_format.FAKE_FOLDER_NAME
    assert (folder / cifar_format.FAKE_MARKER).read_text().startswith("FAKE DATA - NOT CIFAR-10")
    assert not (fake_root / cifar_format.FOLDER_NAME).exists()
    assert not (fake_root / cifar_format.ARCHIVE_NAME).exists()
    assert (fake_root / cifar_format.FAKE_ARCHIVE_NAME).is_file()


def test_loader_reads_fake_data_only_when_asked_and_says_it_is_fake(fake_root):
    loaded = load_cifar10(fake_root, fake=True)
    assert loaded.fake and "FAKE" in repr(loaded)
    assert loaded.classes == FAKE_CLASSES and loaded.classes[0] == "horizontal stripes"
    assert loaded.train_images.shape == (60, 3, 32, 32) and loaded.train_images.dtype == torch.uint8
    assert loaded.test_images.shape == (20, 3, 32, 32) and loaded.test_labels.dtype == torch.int64
    assert torch.bincount(loaded.train_labels).tolist() == [6] * 10
    assert loaded.subset(10, 5).fake
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_cifar10(fake_root, download=False)  # the real loader never falls back to fake data


def test_fake_data_can_never_be_loaded_as_cifar10(fake_root, tmp_path):
    # Marked fake data copied into CIFAR-10's folder: refused by its marker.
    marked = tmp_path / "marked"
    shutil.copytree(fake_root / cifar_format.FAKE_FOLDER_NAME, marked / cifar_format.FOLDER_NAME)
    with pytest.raises(ChecksumError, match="marked as fake"):
        load_cifar10(marked, download=False)
    # What an earlier version of lesson 05 left there (no marker): refused by the published md5s.
    old = tmp_path / "old"
    shutil.copytree(fake_root / cifar_format.FAKE_FOLDER_NAME, old / cifar_format.FOLDER_NAME)
    (old / cifar_format.FOLDER_NAME / cifar_format.FAKE_MARKER).unlink()
    with pytest.raises(ChecksumError, match="earlier version of lesson 05") as raised:
        load_cifar10(old, download=False)
    assert "Delete" in str(raised.value)
    # An archive of fake data under CIFAR-10's name, even with its own md5: never unpacked.
    packed = tmp_path / "packed"
    packed.mkdir()
    archive = fake_root / cifar_format.FAKE_ARCHIVE_NAME
    shutil.copy(archive, packed / cifar_format.ARCHIVE_NAME)
    with pytest.raises((ChecksumError, ValueError)):
        load_cifar10(packed, download=False, md5=cifar.file_md5(archive))
    assert not (packed / cifar_format.FOLDER_NAME).exists()


def test_loading_missing_fake_data_says_how_to_write_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="write_fake_cifar10"):
        load_cifar10(tmp_path, fake=True)
    (tmp_path / cifar_format.FAKE_FOLDER_NAME).mkdir()  # a folder without the marker
    with pytest.raises(FileNotFoundError, match="not marked as fake"):
        load_cifar10(tmp_path, fake=True)


def test_fake_batches_are_in_the_official_format(fake_root):
    folder = fake_root / cifar_format.FAKE_FOLDER_NAME
    batch = pickle.loads((folder / "data_batch_1").read_bytes(), encoding="bytes")
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (12, 3072)
    assert batch[b"batch_label"] == b"FAKE training batch 1 of 5"
    assert all(name.startswith(b"fake_") for name in batch[b"filenames"])
    # Python 2 strings, as in the real files: torchvision reads them with encoding="latin1".
    latin1 = pickle.loads((folder / "test_batch").read_bytes(), encoding="latin1")
    assert isinstance(latin1["labels"], list) and latin1["data"].shape == (20, 3072)
    meta = pickle.loads((folder / "batches.meta").read_bytes(), encoding="bytes")
    assert meta[b"label_names"][9] == b"square outline"


def test_pixels_are_laid_out_red_then_green_then_blue_row_by_row(fake_root):
    batch = pickle.loads((fake_root / cifar_format.FAKE_FOLDER_NAME / "data_batch_1").read_bytes(),
                         encoding="bytes")
    loaded = load_cifar10(fake_root, fake=True)
    row = batch[b"data"][0]
    assert loaded.train_images[0, 0, 0, 5] == row[5]               # red, row 0, column 5
    assert loaded.train_images[0, 1, 2, 3] == row[1024 + 2 * 32 + 3]  # green, row 2, column 3
    assert loaded.train_images[0, 2, 31, 31] == row[3071]           # blue, last pixel


def test_fake_classes_differ_in_shape_not_in_mean_colour():
    images, labels = fake_images(2000, np.random.default_rng(0))
    means = np.stack([images[labels == k].mean(axis=(0, 2, 3)) for k in range(10)])
    assert np.ptp(means, axis=0).max() < 20  # of 255: colour says little about the class


def handedness(masks: np.ndarray) -> np.ndarray:
    """Per mask, how much more often a pixel equals its neighbour down-right than its neighbour
    down-left: positive for "\\" edges, negative for "/" edges, and exactly its negative for the
    mask mirrored left-right."""
    along_backslash = (masks[:, :-1, :-1] == masks[:, 1:, 1:]).mean(axis=(1, 2))
    along_slash = (masks[:, :-1, 1:] == masks[:, 1:, :-1]).mean(axis=(1, 2))
    return along_backslash - along_slash


def test_handedness_changes_sign_in_the_mirror():
    masks = _shape_masks(2, 50, np.random.default_rng(0))
    assert np.allclose(handedness(masks[:, :, ::-1]), -handedness(masks))


@pytest.mark.parametrize("label", range(10), ids=FAKE_CLASSES)
def test_every_fake_class_is_its_own_mirror_image(label):
    """Lesson 05 flips images (augmentation, test-time averaging): a class whose mirror image
    were another class ("/" stripes vs "\\" stripes) would be merged with it."""
    masks = _shape_masks(label, 2000, np.random.default_rng(label))
    values = handedness(masks)
    # Mirrored and original masks are equally likely: the mean handedness is ~0 next to its size.
    assert abs(values.mean()) < 0.1 * np.abs(values).mean() + 1e-9, FAKE_CLASSES[label]


def test_the_old_mirror_pair_would_have_failed_the_mirror_test():
    y, x = np.mgrid[0:32, 0:32].astype(np.float64)
    slash = ((x + y) % 9) < 4.5                      # "/" stripes only, as the old "bird" class
    assert handedness(slash[None])[0] < -0.2


def test_fake_masks_mark_where_the_shape_is():
    images, labels, masks = fake_images(50, np.random.default_rng(1), with_masks=True)
    assert masks.shape == (50, 32, 32) and masks.dtype == bool
    assert labels.dtype == np.int64 and images.dtype == np.uint8
    inside = np.array([images[i][:, masks[i]].mean() for i in range(50)])
    outside = np.array([images[i][:, ~masks[i]].mean() for i in range(50)])
    assert np.median(np.abs(inside - outside)) > 30  # the shape differs from its background


def test_make_archive_returns_the_md5_of_what_it_wrote(tmp_path):
    write_fake_cifar10(tmp_path, n_train=5, n_test=1)
    assert make_archive(tmp_path) == cifar.file_md5(tmp_path / cifar_format.FAKE_ARCHIVE_NAME)
    assert not (tmp_path / cifar_format.ARCHIVE_NAME).exists()


# --- the real loader: archive, download, every file's md5 --------------------------------------

def test_published_file_md5s_are_torchvisions():
    from torchvision.datasets import CIFAR10

    listed = dict(CIFAR10.train_list + CIFAR10.test_list)
    listed[CIFAR10.meta["filename"]] = CIFAR10.meta["md5"]
    assert cifar_format.CIFAR10_FILE_MD5S == listed
    assert cifar_format.CIFAR10_MD5 == CIFAR10.tgz_md5


def test_the_archive_is_unpacked_when_the_folder_is_missing(cifar_format_archive, tmp_path):
    md5 = copy_archive(cifar_format_archive, tmp_path)
    loaded = load_cifar10(tmp_path, download=False, md5=md5)
    assert not loaded.fake and loaded.classes == CLASSES and loaded.classes[3] == "cat"
    assert loaded.train_images.shape == (60, 3, 32, 32) and "FAKE" not in repr(loaded)
    assert torch.equal(loaded.train_images, load_cifar10(tmp_path, download=False, md5=md5).train_images)


def test_every_unpacked_file_is_checked_and_a_changed_one_is_refused(cifar_format_archive, tmp_path):
    md5 = copy_archive(cifar_format_archive, tmp_path)
    load_cifar10(tmp_path, download=False, md5=md5)
    path = tmp_path / cifar_format.FOLDER_NAME / "data_batch_3"
    content = bytearray(path.read_bytes())
    content[-5] ^= 0xFF  # one pixel changed
    path.write_bytes(bytes(content))
    with pytest.raises(ChecksumError, match="data_batch_3"):
        load_cifar10(tmp_path, download=False, md5=md5)


def test_real_files_are_checked_against_the_published_md5s(cifar_format_archive, tmp_path):
    md5 = copy_archive(cifar_format_archive, tmp_path)
    load_cifar10(tmp_path, download=False, md5=md5)          # unpacked, with the test's md5
    with pytest.raises(ChecksumError) as raised:             # but they are not CIFAR-10's files
        load_cifar10(tmp_path, download=False)
    assert cifar_format.CIFAR10_FILE_MD5S["data_batch_1"] in str(raised.value)


def test_a_verified_folder_is_not_hashed_again_until_a_file_changes(cifar_format_archive, tmp_path,
                                                                    monkeypatch):
    md5 = copy_archive(cifar_format_archive, tmp_path)
    load_cifar10(tmp_path, download=False, md5=md5)
    hashed = []
    original = cifar.file_md5
    monkeypatch.setattr(cifar, "file_md5", lambda path: hashed.append(Path(path).name) or original(path))
    load_cifar10(tmp_path, download=False, md5=md5)
    assert hashed == []
    (tmp_path / cifar_format.FOLDER_NAME / "test_batch").touch()  # same bytes, new mtime
    load_cifar10(tmp_path, download=False, md5=md5)
    assert hashed == ["test_batch"]


def test_download_from_a_mirror_verifies_md5_and_loads(cifar_format_archive, server, tmp_path):
    md5 = cifar_format_archive[1]
    loaded = load_cifar10(tmp_path, url=server, md5=md5)
    assert loaded.train_images.shape == (60, 3, 32, 32) and not loaded.fake
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([cifar.ARCHIVE_NAME, cifar.FOLDER_NAME])


def test_mirror_can_come_from_the_environment(cifar_format_archive, server, tmp_path, monkeypatch):
    monkeypatch.setenv(cifar.MIRROR_ENV, server)
    assert cifar.mirror_url() == server + cifar.ARCHIVE_NAME
    md5 = cifar_format_archive[1]
    path = cifar.download_cifar10(tmp_path, md5=md5, progress=False)
    assert cifar.file_md5(path) == md5


def test_corrupt_download_is_refused_and_leaves_no_file(cifar_format_archive, server, tmp_path):
    md5 = cifar_format_archive[1]
    with pytest.raises(ChecksumError, match=f"expected {md5}"):
        cifar.download_cifar10(tmp_path, url=server + "corrupt.tar.gz", md5=md5, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_an_archive_with_the_wrong_md5_is_not_unpacked(tmp_path):
    (tmp_path / cifar.ARCHIVE_NAME).write_bytes(b"not really an archive")
    with pytest.raises(ChecksumError, match="Refusing to unpack"):
        load_cifar10(tmp_path, download=False)  # the real md5
    assert not (tmp_path / cifar.FOLDER_NAME).exists()


def test_offline_download_says_where_to_put_the_archive_names_fake_data_and_leaves_nothing(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/cifar-10-python.tar.gz"
    with pytest.raises(DownloadError) as raised:
        load_cifar10(tmp_path / "data", url=url)
    message = str(raised.value)
    assert str((tmp_path / "data" / cifar.ARCHIVE_NAME).resolve()) in message
    assert cifar.CIFAR10_URL in message and cifar.CIFAR10_MD5 in message
    assert "FAKE_DATA = True" in message and "fake=True" in message
    assert list((tmp_path / "data").iterdir()) == []


def test_missing_data_without_download_explains_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=False") as raised:
        load_cifar10(tmp_path, download=False)
    assert "FAKE_DATA" in str(raised.value)


def test_subset_takes_the_first_images():
    images = torch.zeros(10, 3, 32, 32, dtype=torch.uint8)
    labels = torch.arange(10)
    full = cifar.CIFAR10Data(images, labels, images[:4], labels[:4], CLASSES)
    part = full.subset(3, 2)
    assert part.train_labels.tolist() == [0, 1, 2] and len(part.test_images) == 2
    assert not part.fake and "FAKE" not in repr(part)
