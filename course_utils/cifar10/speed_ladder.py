"""Lesson 05, "How fast can it go": the CIFAR-10 speed-record ideas, added one at a time.

Each rung of the ladder keeps everything from the rungs before it and adds one idea; every rung
trains from the same seed for the same number of epochs and is timed. The ideas are the ones that
took CIFAR-10 training from hours to seconds (David Page's "How to train your ResNet", 2018, and
Keller Jordan's airbench, 2024: 94% in under 4 seconds on one A100).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace

import torch

from course_utils.cifar10.augment import DeviceBatches, normalize, per_image_loader
from course_utils.cifar10.fake_data import FAKE_LABEL
from course_utils.cifar10.metrics import evaluate
from course_utils.cifar10.models import CourseCNN, FastCNN, init_whitening
from course_utils.cifar10.training import TrainConfig, mixed_precision_settings, train

#: Label smoothing of the ladder's "label smoothing" rung: the same as lesson 05's main run.
LABEL_SMOOTHING = TrainConfig().label_smoothing
#: The weight-averaging rung's decay: each step moves the average 5% towards the new weights.
EMA_DECAY = 0.95

#: (name, what it changes and why), in the order the ladder adds them.
IDEAS = (
    ("tutorial pipeline", "per-image PIL crop and flip in a DataLoader, small batches, constant "
     "learning rate: the 'Training a classifier' way"),
    ("data on the device", "all images on the device, normalized once; crop and flip a whole "
     "batch with tensor operations"),
    ("large batch + warm-up/decay", "fewer, bigger steps keep a GPU busy; the learning rate "
     "ramps up (warm-up) and then decays to 0"),
    ("channels_last", "store activations as (N, H, W, C), the layout GPU convolution kernels "
     "(tensor cores) read fastest"),
    ("mixed precision", "compute in 16-bit floats where it is safe (bf16; fp16 with a gradient "
     "scaler on GPUs without bf16): about twice the arithmetic per second on a GPU"),
    ("label smoothing", f"smoothing {LABEL_SMOOTHING:g}, as in the main run: aim for "
     f"{1 - LABEL_SMOOTHING + LABEL_SMOOTHING / 10:.2f} on the right class (1 - "
     f"{LABEL_SMOOTHING:g} + {LABEL_SMOOTHING:g}/10) instead of 1.0: less overconfidence"),
    ("flip test-time augmentation", "average the scores of each test image and its mirror image"),
    ("weight averaging", f"evaluate a moving average of the weights (each step moves it "
     f"{1 - EMA_DECAY:.0%} of the way to the new weights), smoother than the last step"),
    ("record-style network", "airbench-like FastCNN: 2x2 whitening filters computed from the "
     "data, pooling early, wider blocks"),
)

#: Printed with the table and the picture when the ladder ran on a CPU.
CPU_NOTE = ("On a CPU these seconds are not comparable with a GPU's: the ideas are made for GPUs "
            "(channels_last and mixed precision do nothing or harm here), and other programs on "
            "the machine change them from run to run, which is why each rung shows the median "
            "epoch and the range. Compare the accuracies, and run the ladder on a GPU for speed.")


@dataclass(frozen=True)
class LadderPlan:
    """The ladder's budget on a device: images, epochs, batch sizes and networks."""

    subset: int | None
    test_subset: int | None
    epochs: int
    small_batch: int
    large_batch: int
    width: int
    fast_widths: tuple[int, int, int]
    message: str

    @property
    def arguments(self) -> dict:
        """The keyword arguments of :func:`speed_ladder`."""
        return dict(epochs=self.epochs, small_batch=self.small_batch,
                    large_batch=self.large_batch, width=self.width, fast_widths=self.fast_widths)


#: The ladder's CPU budget: small enough for lesson 05's minute, large enough that every rung
#: learns (about 100 steps each; on the fake data every rung ends far above chance). The batch
#: stays small: on a CPU a larger batch only means fewer steps for the same arithmetic.
CPU_LADDER = dict(subset=600, test_subset=500, epochs=3, small_batch=32, large_batch=32,
                  width=8, fast_widths=(16, 32, 32))
#: On a GPU: all images, 10 epochs, the main run's width and the record-style widths.
GPU_LADDER = dict(subset=None, test_subset=None, epochs=10, small_batch=64, large_batch=512,
                  width=64, fast_widths=(64, 256, 256))


def plan_ladder(device: torch.device, epochs: int | None = None,
                subset: int | None = None) -> LadderPlan:
    """The ladder's budget for ``device`` (``None``: the default there), and a sentence saying it."""
    budget = dict(GPU_LADDER if device.type in ("cuda", "mps") else CPU_LADDER)
    budget["epochs"] = epochs or budget["epochs"]
    budget["subset"] = subset if subset is not None else budget["subset"]
    images = f"the first {budget['subset']:,}" if budget["subset"] else "all"
    tests = f"the first {budget['test_subset']:,}" if budget["test_subset"] else "all"
    batches = (f"batch {budget['small_batch']} then {budget['large_batch']}"
               if budget["large_batch"] != budget["small_batch"] else
               f"batch {budget['small_batch']} throughout")
    message = (f"Speed ladder on {device.type.upper()}: {images} training images and {tests} test "
               f"images, {budget['epochs']} epochs per rung (each timed), {batches}, CourseCNN(width="
               f"{budget['width']}), FastCNN{budget['fast_widths']}.")
    return LadderPlan(message=message, **budget)


@dataclass(frozen=True)
class Rung:
    """One idea's run: the seconds of every training epoch measured (all repeats), the test
    accuracy (of the first repeat: the repeats train identically, only the clock differs),
    a note, the device type and the number of test images."""

    idea: str
    epoch_seconds: tuple[float, ...]
    test_accuracy: float
    note: str = ""
    device: str = "cpu"
    n_test: int = 0
    n_train: int = 0
    accuracies: tuple[float, ...] = field(default=())

    @property
    def median(self) -> float:
        """Median seconds per epoch."""
        return statistics.median(self.epoch_seconds)

    @property
    def low(self) -> float:
        return min(self.epoch_seconds)

    @property
    def high(self) -> float:
        return max(self.epoch_seconds)


def speed_ladder(data, device: torch.device, epochs: int, small_batch: int = 64,
                 large_batch: int = 512, width: int = 64,
                 fast_widths: tuple[int, int, int] = (64, 256, 256),
                 progress: bool = False, repeats: int = 1) -> list[Rung]:
    """Train once per idea in ``IDEAS`` (cumulatively) on ``data``; one ``Rung`` per idea.

    Every rung trains ``repeats`` times from the same seed for ``epochs`` epochs, and each
    epoch is timed on its own: a rung's seconds are the median over its ``epochs * repeats``
    epochs, with the fastest and the slowest (the final evaluation, with or without flips, is not
    included: test-time augmentation costs a second forward pass at test time only). Two rungs
    reuse the run above instead of repeating it: flip test-time augmentation (the training is the
    same, only the test differs) and, where it does nothing (off CUDA), mixed precision; their
    notes say so. The test images go through one pipeline, built once and shared by every rung.
    """
    config = TrainConfig(epochs=epochs, lr=0.1 * small_batch / 128,
                         schedule="constant", label_smoothing=0.0, mixed_precision="off",
                         channels_last=False, flip_tta=False, evaluate_each_epoch=False)
    batch_size = small_batch
    test_batches = DeviceBatches(data.test_images, data.test_labels,
                                 256 if device.type == "cpu" else 1024, device)
    changes = {
        "data on the device": {},
        "large batch + warm-up/decay": dict(lr=0.1 * large_batch / 128, schedule="warmup_decay"),
        "channels_last": dict(channels_last=True),
        "mixed precision": dict(mixed_precision="auto"),
        "label smoothing": dict(label_smoothing=LABEL_SMOOTHING),
        "flip test-time augmentation": dict(flip_tta=True),
        "weight averaging": dict(ema_decay=EMA_DECAY),
        "record-style network": dict(lr=2.0 * large_batch / 128),  # scores are scaled by 1/9
    }
    if device.type == "cuda":  # the first run on a GPU pays for start-up: do it untimed
        warm_up = data.subset(large_batch, 256)
        _train_once(warm_up, DeviceBatches(warm_up.train_images, warm_up.train_labels, large_batch,
                                           device, augment=True), test_batches, config, device,
                    width, None, False)
    rungs, model = [], None
    for idea, _ in IDEAS:
        config = replace(config, **changes.get(idea, {}))
        if idea == "large batch + warm-up/decay":
            batch_size = large_batch
        shared = dict(device=device.type, n_test=len(data.test_labels),
                      n_train=len(data.train_labels))
        if idea == "flip test-time augmentation" and rungs:
            # Flips change the test, not the training: score the rung above's model again.
            accuracy = _evaluate(model, test_batches, config, device)
            rungs.append(Rung(idea, rungs[-1].epoch_seconds, accuracy,
                              "same training as the rung above; only the test differs",
                              accuracies=(accuracy,), **shared))
            continue
        if idea == "mixed precision" and rungs and \
                mixed_precision_settings(device, config.mixed_precision)[0] is None:
            rungs.append(replace(rungs[-1], idea=idea, note="no effect here (CUDA GPUs only): "
                                 "the run above, not repeated"))
            continue
        note = ""
        if idea == "channels_last" and device.type == "cpu":
            note = "made for GPUs; on a CPU it can be slower or faster"
        if idea == "large batch + warm-up/decay" and large_batch == small_batch:
            note = f"batch stays {large_batch} here: large batches pay on a GPU"
        seconds, accuracies = [], []
        for repeat in range(repeats):
            if idea == "tutorial pipeline":
                batches = per_image_loader(data.train_images, data.train_labels, batch_size,
                                           seed=config.seed)
            else:
                batches = DeviceBatches(data.train_images, data.train_labels, batch_size, device,
                                        augment=True, seed=config.seed)
            trained, epoch_seconds, accuracy = _train_once(
                data, batches, test_batches, config, device, width,
                fast_widths if idea == "record-style network" else None, progress)
            model = trained if repeat == 0 else model
            seconds += epoch_seconds
            accuracies.append(accuracy)
        rungs.append(Rung(idea, tuple(seconds), accuracies[0], note,
                          accuracies=tuple(accuracies), **shared))
    return rungs


def _train_once(data, batches, test_batches, config, device, width, fast_widths, progress):
    """Train a fresh model; return (the model, seconds of each epoch, test accuracy)."""
    torch.manual_seed(config.seed)
    if fast_widths is None:
        model = CourseCNN(width)
    else:
        model = FastCNN(fast_widths)
        init_whitening(model.whiten, normalize(data.train_images[:5000]))
    history = train(model, batches, test_batches, config, device=device, progress=progress)
    cumulative = [0.0, *history.train_seconds]
    return model, [b - a for a, b in zip(cumulative, cumulative[1:])], history.final_test_accuracy


def _evaluate(model, test_batches, config, device) -> float:
    """Test accuracy of ``model`` as ``train`` would measure it with ``config``."""
    amp_dtype, _ = mixed_precision_settings(device, config.mixed_precision)
    channels_last = device.type == "cuda" if config.channels_last is None else config.channels_last
    layout = torch.channels_last if channels_last else torch.contiguous_format
    return evaluate(model, test_batches, flip_tta=config.flip_tta, amp_dtype=amp_dtype,
                    memory_format=layout).accuracy


def ladder_table(rungs: list[Rung], *, fake: bool = False) -> str:
    """The ladder as a text table: idea, median seconds per epoch and range, speed-up of the
    median over the first rung, test accuracy; on a CPU, a note that the seconds are not
    comparable. With ``fake`` (trained on the synthetic stand-in) its first line says so."""
    measured = len(rungs[0].epoch_seconds) if rungs else 0
    n_test = rungs[0].n_test if rungs else 0
    lines = [f"{FAKE_LABEL}: the accuracies are about shapes"] if fake else []
    lines += [f"{'idea added':<30}{'s/epoch':>9}{'range':>14}{'speed-up':>10}{'test acc':>10}  note"]
    for rung in rungs:
        lines.append(f"{rung.idea:<30}{rung.median:>9.2f}{f'{rung.low:.2f}-{rung.high:.2f}':>14}"
                     f"{rungs[0].median / rung.median:>9.1f}x{rung.test_accuracy:>10.1%}  "
                     f"{rung.note}")
    device = rungs[0].device.upper() if rungs else "?"
    n_train = rungs[0].n_train if rungs else 0
    noise = 100 / max(n_test, 1) ** 0.5  # two standard errors of an accuracy near 50%
    lines.append(f"{device}: median and range over {measured} timed epochs of {n_train:,} "
                 f"{'FAKE ' if fake else ''}training images per rung; accuracy on {n_test:,} "
                 f"{'FAKE ' if fake else ''}test images (chance: 10%; "
                 f"differences under {noise:.0f} points are within sampling noise).")
    if rungs and rungs[0].device == "cpu":
        lines.append(CPU_NOTE)
    return "\n".join(lines)
