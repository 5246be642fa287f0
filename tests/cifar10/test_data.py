"""course_utils.cifar10.data: CIFAR-10's on-disk format, the download (served from 127.0.0.1), refusals."""

from __future__ import annotations

import functools
import http.server
import pickle
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils.cifar10 import data as cifar
from course_utils.cifar10.cifar_format import CLASSES
from course_utils.cifar10.data import ChecksumError, DownloadError, load_cifar10
from course_utils.cifar10.fake_data import fake_images, make_archive, write_fake_cifar10


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cifar")
    write_fake_cifar10(root, n_train=60, n_test=20, seed=3, archive=True)
    return root


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture()
def server(fake_root, tmp_path_factory):
    """An HTTP server on 127.0.0.1 serving the good archive and a corrupt copy."""
    served = tmp_path_factory.mktemp("served")
    good = (fake_root / cifar.ARCHIVE_NAME).read_bytes()
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


def test_loader_reads_fake_data_with_the_right_dtypes_shapes_and_classes(fake_root):
    loaded = load_cifar10(fake_root, download=False)
    assert loaded.train_images.shape == (60, 3, 32, 32) and loaded.train_images.dtype == torch.uint8
    assert loaded.test_images.shape == (20, 3, 32, 32) and loaded.test_images.dtype == torch.uint8
    assert loaded.train_labels.dtype == torch.int64 and loaded.test_labels.shape == (20,)
    assert loaded.classes == CLASSES and loaded.classes[3] == "cat"
    assert torch.bincount(loaded.train_labels).tolist() == [6] * 10


def test_fake_batches_are_in_the_official_format(fake_root):
    folder = fake_root / cifar.FOLDER_NAME
    batch = pickle.loads((folder / "data_batch_1").read_bytes(), encoding="bytes")
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (12, 3072)
    assert batch[b"batch_label"] == b"training batch 1 of 5"
    # Python 2 strings, as in the real files: torchvision reads them with encoding="latin1".
    latin1 = pickle.loads((folder / "test_batch").read_bytes(), encoding="latin1")
    assert isinstance(latin1["labels"], list) and latin1["data"].shape == (20, 3072)
    meta = pickle.loads((folder / "batches.meta").read_bytes(), encoding="bytes")
    assert meta[b"label_names"][9] == b"truck"


def test_pixels_are_laid_out_red_then_green_then_blue_row_by_row(fake_root):
    batch = pickle.loads((fake_root / cifar.FOLDER_NAME / "data_batch_1").read_bytes(),
                         encoding="bytes")
    loaded = load_cifar10(fake_root, download=False)
    row = batch[b"data"][0]
    assert loaded.train_images[0, 0, 0, 5] == row[5]               # red, row 0, column 5
    assert loaded.train_images[0, 1, 2, 3] == row[1024 + 2 * 32 + 3]  # green, row 2, column 3
    assert loaded.train_images[0, 2, 31, 31] == row[3071]           # blue, last pixel


def test_fake_classes_differ_in_shape_not_in_mean_colour():
    images, labels = fake_images(2000, np.random.default_rng(0))
    means = np.stack([images[labels == k].mean(axis=(0, 2, 3)) for k in range(10)])
    assert np.ptp(means, axis=0).max() < 20  # of 255: colour says little about the class


def test_the_archive_is_unpacked_when_the_folder_is_missing(fake_root, tmp_path):
    (tmp_path / cifar.ARCHIVE_NAME).write_bytes((fake_root / cifar.ARCHIVE_NAME).read_bytes())
    md5 = cifar.file_md5(tmp_path / cifar.ARCHIVE_NAME)
    loaded = load_cifar10(tmp_path, download=False, md5=md5)
    assert torch.equal(loaded.train_images, load_cifar10(fake_root, download=False).train_images)


def test_download_from_a_mirror_verifies_md5_and_loads(fake_root, server, tmp_path):
    md5 = cifar.file_md5(fake_root / cifar.ARCHIVE_NAME)
    loaded = load_cifar10(tmp_path, url=server, md5=md5)
    assert loaded.train_images.shape == (60, 3, 32, 32)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([cifar.ARCHIVE_NAME, cifar.FOLDER_NAME])


def test_mirror_can_come_from_the_environment(fake_root, server, tmp_path, monkeypatch):
    monkeypatch.setenv(cifar.MIRROR_ENV, server)
    assert cifar.mirror_url() == server + cifar.ARCHIVE_NAME
    md5 = cifar.file_md5(fake_root / cifar.ARCHIVE_NAME)
    path = cifar.download_cifar10(tmp_path, md5=md5, progress=False)
    assert cifar.file_md5(path) == md5


def test_corrupt_download_is_refused_and_leaves_no_file(fake_root, server, tmp_path):
    md5 = cifar.file_md5(fake_root / cifar.ARCHIVE_NAME)
    with pytest.raises(ChecksumError, match=f"expected {md5}"):
        cifar.download_cifar10(tmp_path, url=server + "corrupt.tar.gz", md5=md5, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_an_archive_with_the_wrong_md5_is_not_unpacked(fake_root, tmp_path):
    (tmp_path / cifar.ARCHIVE_NAME).write_bytes(b"not really an archive")
    with pytest.raises(ChecksumError, match="Refusing to unpack"):
        load_cifar10(tmp_path, download=False)  # the real md5
    assert not (tmp_path / cifar.FOLDER_NAME).exists()


def test_offline_download_says_where_to_put_the_archive_and_leaves_nothing(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/cifar-10-python.tar.gz"
    with pytest.raises(DownloadError) as raised:
        load_cifar10(tmp_path / "data", url=url)
    message = str(raised.value)
    assert str((tmp_path / "data" / cifar.ARCHIVE_NAME).resolve()) in message
    assert cifar.CIFAR10_URL in message and cifar.CIFAR10_MD5 in message
    assert list((tmp_path / "data").iterdir()) == []


def test_missing_data_without_download_explains_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_cifar10(tmp_path, download=False)


def test_make_archive_returns_the_md5_of_what_it_wrote(tmp_path):
    write_fake_cifar10(tmp_path, n_train=5, n_test=1)
    assert make_archive(tmp_path) == cifar.file_md5(tmp_path / cifar.ARCHIVE_NAME)


def test_subset_takes_the_first_images():
    images = torch.zeros(10, 3, 32, 32, dtype=torch.uint8)
    labels = torch.arange(10)
    full = cifar.CIFAR10Data(images, labels, images[:4], labels[:4], CLASSES)
    part = full.subset(3, 2)
    assert part.train_labels.tolist() == [0, 1, 2] and len(part.test_images) == 2
