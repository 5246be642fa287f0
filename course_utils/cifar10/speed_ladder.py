"""Lesson 05, "How fast can it go": the CIFAR-10 speed-record ideas, added one at a time.

Each rung of the ladder keeps everything from the rungs before it and adds one idea; every rung
trains from the same seed for the same number of epochs and is timed. The ideas are the ones that
took CIFAR-10 training from hours to seconds (David Page's "How to train your ResNet", 2018, and
Keller Jordan's airbench, 2024: 94% in under 4 seconds on one A100).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from course_utils.cifar10.augment import DeviceBatches, normalize, per_image_loader
from course_utils.cifar10.models import CourseCNN, FastCNN, init_whitening
from course_utils.cifar10.training import TrainConfig, train

#: (name, what it changes and why), in the order the ladder adds them.
IDEAS = (
    ("tutorial pipeline", "per-image PIL crop and flip in a DataLoader, batch 64, constant "
     "learning rate: the 'Training a classifier' way"),
    ("data on the device", "all images on the device, normalized once; crop and flip a whole "
     "batch with tensor operations"),
    ("large batch + warm-up/decay", "fewer, bigger steps keep a GPU busy; the learning rate "
     "ramps up (warm-up) and then decays to 0"),
    ("channels_last", "store activations as (N, H, W, C), the layout GPU convolution kernels "
     "(tensor cores) read fastest"),
    ("mixed precision", "compute in 16-bit floats (bf16) where it is safe: about twice the "
     "arithmetic per second on a GPU"),
    ("label smoothing", "aim for about 0.8 on the right class instead of 1.0: less overconfidence, "
     "better accuracy for the same epochs"),
    ("flip test-time augmentation", "average the scores of each test image and its mirror image"),
    ("weight averaging", "evaluate a moving average of the weights, smoother than the last step"),
    ("record-style network", "airbench-like FastCNN: 2x2 whitening filters computed from the "
     "data, pooling early, wider blocks"),
)


@dataclass(frozen=True)
class Rung:
    idea: str
    seconds: float
    test_accuracy: float
    note: str = ""


def speed_ladder(data, device: torch.device, epochs: int, small_batch: int = 64,
                 large_batch: int = 512, width: int = 64,
                 fast_widths: tuple[int, int, int] = (64, 256, 256),
                 progress: bool = False) -> list[Rung]:
    """Train once per idea in ``IDEAS`` (cumulatively) on ``data``; one ``Rung`` per idea.

    ``seconds`` is the training time (the final evaluation, with or without flips, is not
    included: test-time augmentation costs a second forward pass at test time only). The test
    images go through one pipeline, built once and shared by every rung.
    """
    config = TrainConfig(epochs=epochs, lr=0.1 * small_batch / 128,
                         schedule="constant", label_smoothing=0.0, mixed_precision="off",
                         channels_last=False, flip_tta=False, evaluate_each_epoch=False)
    batch_size = small_batch
    test_batches = DeviceBatches(data.test_images, data.test_labels, 1024, device)
    changes = {
        "data on the device": {},
        "large batch + warm-up/decay": dict(lr=0.1 * large_batch / 128, schedule="warmup_decay"),
        "channels_last": dict(channels_last=True),
        "mixed precision": dict(mixed_precision="auto"),
        "label smoothing": dict(label_smoothing=0.2),
        "flip test-time augmentation": dict(flip_tta=True),
        "weight averaging": dict(ema_decay=0.95),
        "record-style network": dict(lr=2.0 * large_batch / 128),  # scores are scaled by 1/9
    }
    if device.type == "cuda":  # the first run on a GPU pays for start-up: do it untimed
        warm_up = data.subset(large_batch, 256)
        _train_once(warm_up, DeviceBatches(warm_up.train_images, warm_up.train_labels, large_batch,
                                           device, augment=True), test_batches, config, device,
                    width, None, False)
    rungs = []
    for idea, _ in IDEAS:
        config = replace(config, **changes.get(idea, {}))
        if idea == "large batch + warm-up/decay":
            batch_size = large_batch
        if idea == "tutorial pipeline":
            batches = per_image_loader(data.train_images, data.train_labels, batch_size)
        else:
            batches = DeviceBatches(data.train_images, data.train_labels, batch_size, device,
                                    augment=True, seed=config.seed)
        note = ""
        if idea == "mixed precision" and device.type != "cuda":
            note = "no effect here: mixed precision is used on CUDA GPUs only"
        if idea == "channels_last" and device.type == "cpu":
            note = "made for GPUs; on a CPU it can be slower or faster"
        seconds, accuracy = _train_once(data, batches, test_batches, config, device, width,
                                        fast_widths if idea == "record-style network" else None,
                                        progress)
        rungs.append(Rung(idea, seconds, accuracy, note))
    return rungs


def _train_once(data, batches, test_batches, config, device, width, fast_widths, progress):
    torch.manual_seed(config.seed)
    if fast_widths is None:
        model = CourseCNN(width)
    else:
        model = FastCNN(fast_widths)
        init_whitening(model.whiten, normalize(data.train_images[:5000]))
    history = train(model, batches, test_batches, config, device=device, progress=progress)
    return history.train_seconds[-1], history.final_test_accuracy


def ladder_table(rungs: list[Rung]) -> str:
    """The ladder as a text table: idea, seconds, speed-up over the first rung, accuracy."""
    lines = [f"{'idea added':<30}{'seconds':>9}{'speed-up':>10}{'test acc':>10}  note"]
    for rung in rungs:
        lines.append(f"{rung.idea:<30}{rung.seconds:>9.1f}{rungs[0].seconds / rung.seconds:>9.1f}x"
                     f"{rung.test_accuracy:>10.1%}  {rung.note}")
    return "\n".join(lines)
