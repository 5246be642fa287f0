"""course_utils.cifar10.augment: on-device normalize / crop / flip equal their per-image definitions."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_utils.cifar10.augment import (
    CIFAR10_MEAN, CIFAR10_STD, DeviceBatches, PerImageDataset, normalize, random_crop, random_flip,
)


def test_random_crop_equals_pad_then_cut_each_image():
    images = torch.randn(16, 3, 32, 32)
    generator = torch.Generator().manual_seed(5)
    cropped = random_crop(images, 4, generator)
    shifts = torch.randint(0, 9, (2, 16), generator=torch.Generator().manual_seed(5))
    padded = F.pad(images, (4, 4, 4, 4), mode="reflect")
    for i in range(16):
        dy, dx = shifts[:, i].tolist()
        assert torch.equal(cropped[i], padded[i, :, dy:dy + 32, dx:dx + 32])
    assert len({tuple(s) for s in shifts.T.tolist()}) > 1  # not all the same shift


def test_random_flip_mirrors_about_half_of_the_images():
    images = torch.randn(400, 3, 8, 8)
    flipped = random_flip(images, torch.Generator().manual_seed(0))
    mirrored = [torch.equal(f, i.flip(2)) for f, i in zip(flipped, images)]
    kept = [torch.equal(f, i) for f, i in zip(flipped, images)]
    assert all(m or k for m, k in zip(mirrored, kept))
    assert 150 < sum(mirrored) < 250


def test_device_pipeline_normalizes_like_the_per_image_tutorial_pipeline():
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    labels = torch.arange(6)
    tutorial = PerImageDataset(images, labels, augment=False)
    ours = normalize(images)
    for i in range(6):
        picture, label = tutorial[i]
        assert torch.allclose(picture, ours[i], atol=1e-5) and label == i
    expected = (images[0, 2].float() / 255 - CIFAR10_MEAN[2]) / CIFAR10_STD[2]
    assert torch.allclose(ours[0, 2], expected, atol=1e-6)


def test_every_image_is_used_once_per_epoch_and_the_seed_fixes_the_order():
    images = torch.zeros(10, 3, 32, 32, dtype=torch.uint8)
    labels = torch.arange(10)
    batches = DeviceBatches(images, labels, batch_size=4, augment=True, seed=3)
    assert len(batches) == 3
    epoch = torch.cat([y for _, y in batches])
    assert sorted(epoch.tolist()) == list(range(10))
    assert not torch.equal(epoch, torch.cat([y for _, y in batches]))  # reshuffled
    again = DeviceBatches(images, labels, batch_size=4, augment=True, seed=3)
    assert torch.equal(epoch, torch.cat([y for _, y in again]))
