"""Lesson 05's data pipeline against the "Training a classifier" tutorial's, side by side.

    .venv/bin/python benchmarks/bench_training.py [--train 5000] [--batch 64] [--width 16]

Both pipelines deliver the same thing: batches of normalized training images, each randomly
cropped (padding 4) and flipped. Theirs: torchvision's ``CIFAR10`` dataset object with per-image
PIL transforms in a ``DataLoader`` (num_workers=2). Ours: ``course_utils.cifar10.augment.DeviceBatches``
(all images on the device, normalized once, a whole batch cropped and flipped with tensor ops).
Then one training epoch of ``CourseCNN`` fed by each. Same batch size everywhere.

There is no CIFAR-10 download here: the script writes fake data in the real on-disk format
(``write_fake_cifar10``, into ``fake-cifar-10-batches-py/``). torchvision's ``CIFAR10`` checks the
md5 of the official batch files and reads ``cifar-10-batches-py/``, so this benchmark -- and only
it -- uses a subclass that reads the fake folder and skips that integrity check.
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import time

import torch
import torchvision
from torchvision import transforms

from course_utils.cifar10.augment import CIFAR10_MEAN, CIFAR10_STD, DeviceBatches
from course_utils.cifar10.cifar_format import FAKE_FOLDER_NAME
from course_utils.cifar10.data import load_cifar10
from course_utils.cifar10.fake_data import write_fake_cifar10
from course_utils.cifar10.models import CourseCNN
from course_utils.cifar10.training import TrainConfig, pick_device, train
from machine import cpu_name  # benchmarks/machine.py


class UncheckedCIFAR10(torchvision.datasets.CIFAR10):
    """torchvision's CIFAR10 on the fake folder, without the md5 checks (other checksums)."""

    base_folder = FAKE_FOLDER_NAME

    def _check_integrity(self) -> bool:
        return True

    def _load_meta(self) -> None:
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        with open(path, "rb") as file:
            self.classes = pickle.load(file, encoding="latin1")[self.meta["key"]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}


def tutorial_loader(root: str, batch_size: int) -> torch.utils.data.DataLoader:
    transform = transforms.Compose([
        transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
        transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
    dataset = UncheckedCIFAR10(root, train=True, download=False, transform=transform)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                       num_workers=2)


def images_per_second(batches, device, passes: int = 2) -> float:
    """Iterate ``passes`` epochs, moving each batch to ``device``; images delivered per second."""
    count, started = 0, time.perf_counter()
    for _ in range(passes):
        for images, labels in batches:
            images = images.to(device, non_blocking=True)
            count += len(images)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return count / (time.perf_counter() - started)


def training_images_per_second(data, batches, test_batches, device, batch_size, width) -> float:
    """One epoch of ``CourseCNN(width)`` fed by ``batches``: training images per second."""
    torch.manual_seed(0)
    config = TrainConfig(epochs=1, lr=0.1 * batch_size / 128, evaluate_each_epoch=False)
    history = train(CourseCNN(width), batches, test_batches, config, device=device, progress=False)
    return len(data.train_labels) / history.train_seconds[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=5000, help="training images (fake)")
    parser.add_argument("--batch", type=int, default=64, help="batch size for both pipelines")
    parser.add_argument("--width", type=int, default=16, help="CourseCNN width for the epoch")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    device = pick_device(args.device)

    with tempfile.TemporaryDirectory() as root:
        write_fake_cifar10(root, n_train=args.train, n_test=200)
        data = load_cifar10(root, fake=True)
        theirs = tutorial_loader(root, args.batch)
        ours = DeviceBatches(data.train_images, data.train_labels, args.batch, device,
                             augment=True)
        test_batches = DeviceBatches(data.test_images, data.test_labels, 1024, device)
        rows = [
            ("data pipeline alone", images_per_second(theirs, device),
             images_per_second(ours, device)),
            (f"1 epoch CourseCNN(width={args.width})",
             training_images_per_second(data, theirs, test_batches, device, args.batch, args.width),
             training_images_per_second(data, ours, test_batches, device, args.batch, args.width)),
        ]

    print(f"machine: {cpu_name()}, {os.cpu_count()} CPU cores, "
          f"device {device.type}, torch {torch.__version__}, torchvision {torchvision.__version__}")
    print(f"{args.train:,} fake CIFAR-10 training images, batch {args.batch}, "
          "random crop (padding 4) + flip + normalize")
    print()
    print(f"| {'measure':<28} | {'tutorial DataLoader (img/s)':>27} | "
          f"{'course on-device (img/s)':>24} | {'ratio':>6} |")
    print(f"|{'-' * 30}|{'-' * 29}:|{'-' * 26}:|{'-' * 7}:|")
    for name, slow, fast in rows:
        print(f"| {name:<28} | {slow:>27,.0f} | {fast:>24,.0f} | {fast / slow:>5.1f}x |")


if __name__ == "__main__":
    main()
