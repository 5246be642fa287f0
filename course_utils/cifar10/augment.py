"""Batches straight from tensors on the device: normalize once, augment per batch.

The "Training a classifier" tutorial turns every image into a PIL picture, crops and flips it in
a worker process, converts it back to a tensor and copies the batch to the GPU: per image, in
Python. Here the whole data set sits on the device (CIFAR-10's 50,000 images are 600 MB as float32)
and a whole batch is cropped and flipped with a few tensor operations. Lesson 05, section
"How fast can it go", times the difference; ``benchmarks/bench_training.py`` measures it.

Random numbers come from a CPU ``torch.Generator`` of our own, so a seed gives the same shuffling
and augmentation on every device, and its state is saved in checkpoints (exact resume).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: Per-channel mean and standard deviation of the CIFAR-10 training images, in [0, 1] units.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


def normalize(images: torch.Tensor, mean=CIFAR10_MEAN, std=CIFAR10_STD,
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 images (N, 3, H, W) -> (N, 3, H, W) floats, each channel (x / 255 - mean) / std."""
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise TypeError(f"normalize: expected uint8 images (N, 3, H, W), got {images.dtype} "
                        f"{tuple(images.shape)}")
    mean = torch.tensor(mean, device=images.device).view(1, -1, 1, 1)
    std = torch.tensor(std, device=images.device).view(1, -1, 1, 1)
    return ((images.float() / 255 - mean) / std).to(dtype)


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Each image (B, C, H, W) shifted by its own random (dy, dx) in [-padding, padding].

    Same as padding every image by ``padding`` pixels (reflecting the border) and cutting a random
    H x W window out of it: two ``gather`` calls for the whole batch, no loop over images.
    """
    if padding == 0:
        return images
    batch, channels, height, width = images.shape
    padded = F.pad(images, (padding,) * 4, mode="reflect")
    shifts = torch.randint(0, 2 * padding + 1, (2, batch), generator=generator)
    shifts = shifts.to(images.device, non_blocking=True)
    rows = shifts[0].view(batch, 1, 1, 1) + torch.arange(height, device=images.device).view(
        1, 1, height, 1)
    cols = shifts[1].view(batch, 1, 1, 1) + torch.arange(width, device=images.device).view(
        1, 1, 1, width)
    cropped_rows = padded.gather(2, rows.expand(batch, channels, height, width + 2 * padding))
    return cropped_rows.gather(3, cols.expand(batch, channels, height, width))


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image (B, C, H, W) mirrored left-right with probability 1/2."""
    flip = torch.rand(images.shape[0], generator=generator) < 0.5
    flip = flip.to(images.device, non_blocking=True).view(-1, 1, 1, 1)
    return torch.where(flip, images.flip(3), images)


class DeviceBatches:
    """Mini-batches (images (B, 3, 32, 32) float, labels (B,) int64) from tensors on ``device``.

    ``images`` uint8 (N, 3, 32, 32) are moved and normalized once. With ``augment`` every epoch
    reshuffles and every batch gets a random crop (``crop_padding``) and a random flip. Iterate
    once per epoch; ``len()`` is the number of batches.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                 device: torch.device | str = "cpu", augment: bool = False,
                 crop_padding: int = 4, shuffle: bool | None = None, drop_last: bool = False,
                 generator: torch.Generator | None = None, seed: int = 0):
        if len(images) != len(labels):
            raise ValueError(f"DeviceBatches: {len(images)} images but {len(labels)} labels")
        self.device = torch.device(device)
        self.images = normalize(images.to(self.device))
        self.labels = labels.to(self.device)
        self.batch_size = batch_size
        self.augment = augment
        self.crop_padding = crop_padding
        self.shuffle = augment if shuffle is None else shuffle
        self.drop_last = drop_last
        self.generator = generator if generator is not None else torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.labels)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.device)
        else:
            order = torch.arange(n, device=self.device)
        for batch in range(len(self)):
            rows = order[batch * self.batch_size:(batch + 1) * self.batch_size]
            images = self.images[rows]
            if self.augment:
                images = random_flip(random_crop(images, self.crop_padding, self.generator),
                                     self.generator)
            yield images, self.labels[rows]


class PerImageDataset(torch.utils.data.Dataset):
    """The "Training a classifier" tutorial's way, kept as the baseline lesson 05 compares with.

    Every ``dataset[i]`` turns one uint8 image (3, 32, 32) into a PIL picture, crops and flips it
    with torchvision transforms, and converts it back into a normalized float tensor (3, 32, 32).
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, augment: bool = True,
                 crop_padding: int = 4):
        from torchvision import transforms

        steps = [transforms.RandomCrop(32, padding=crop_padding), transforms.RandomHorizontalFlip()]
        self.transform = transforms.Compose((steps if augment else []) + [
            transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
        self.images = images.permute(0, 2, 3, 1).numpy()    # (N, 32, 32, 3), as PIL wants
        self.labels = labels.tolist()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[index])), self.labels[index]


def per_image_loader(images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                     num_workers: int = 0, seed: int = 0) -> torch.utils.data.DataLoader:
    """A shuffling ``DataLoader`` over ``PerImageDataset``: the tutorial's pipeline."""
    return torch.utils.data.DataLoader(
        PerImageDataset(images, labels), batch_size=batch_size, shuffle=True,
        num_workers=num_workers, generator=torch.Generator().manual_seed(seed))
