"""Training for lesson 05: a loop a beginner can read, with what makes it fast.

``train(model, train_batches, test_batches, config)`` runs mini-batch SGD (Nesterov momentum) with
a warm-up-then-decay learning rate and label smoothing, mixed precision and channels_last on a
GPU, over the batches it is given -- the notebook builds its pipeline once
(:class:`course_utils.cifar10.augment.DeviceBatches`) and hands it on -- and evaluates after every
epoch with :func:`course_utils.cifar10.metrics.evaluate`. It shows tqdm bars for epochs and
batches and returns a ``History``.

With ``checkpoint_dir`` it saves everything after every epoch -- weights, optimizer, schedule,
gradient scaler, averaged weights and every random-number state, including the data pipeline's
shuffling and augmentation generator -- so a run that is stopped and started again continues where
it left off and ends exactly where an uninterrupted run with the same seed ends. Each checkpoint
records the settings it was trained with (the ``TrainConfig``, every weight's shape, the data's
size); a run with other settings does not resume from it: it says what differs, keeps the old
file as ``last.previous.pt`` and starts fresh.
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.cifar10.metrics import evaluate

CHECKPOINT_NAME = "last.pt"
#: Where a checkpoint written with other settings is moved before a fresh start.
PREVIOUS_CHECKPOINT_NAME = "last.previous.pt"


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """``preferred`` if given ("cuda", "mps", "cpu"), else the first of cuda, mps, cpu available."""
    if preferred not in (None, "", "auto"):
        device = torch.device(preferred)
        available = {"cpu": True, "cuda": torch.cuda.is_available(),
                     "mps": torch.backends.mps.is_available()}
        if not available.get(device.type, False):
            raise RuntimeError(f"pick_device: {device.type!r} was asked for but is not available "
                               f"here; available: {[k for k, v in available.items() if v]}")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class TrainConfig:
    """Every setting of a run (saved in each checkpoint; a resumed run must use the same).

    The data's settings (batch size, augmentation) belong to the batches ``train`` is given.

    ``lr`` is the peak learning rate, reached after ``warmup`` (a fraction of all steps) and then
    decayed linearly to 0 (``schedule="warmup_decay"``); ``schedule="constant"`` keeps ``lr``. ``mixed_precision``: "auto" (bf16 on a GPU that has it, else fp16 with
    a gradient scaler; off on CPU and MPS), "bf16", "fp16" or "off". ``channels_last``: None means
    on for CUDA only. ``ema_decay``: keep an exponential moving average of the weights and evaluate
    that (weight averaging); None turns it off. ``evaluate_each_epoch=False`` evaluates only
    after the last epoch (the others get NaN in the history).
    """

    epochs: int = 10
    lr: float = 0.2
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup: float = 0.2
    schedule: str = "warmup_decay"
    label_smoothing: float = 0.1
    mixed_precision: str = "auto"
    channels_last: bool | None = None
    flip_tta: bool = True
    ema_decay: float | None = None
    evaluate_each_epoch: bool = True
    seed: int = 0


@dataclass
class TrainingPlan:
    """What lesson 05 trains on a device: network width, data subsets, batch size, settings, and
    why. ``subset``/``test_subset``: how many training/test images (None: all)."""

    device: torch.device
    width: int
    subset: int | None
    batch_size: int
    config: TrainConfig
    message: str
    test_subset: int | None = None
    threads: int = 1
    #: Test images per batch: 1024 on a GPU, 256 on the CPU (a smaller batch stays in its caches).
    test_batch_size: int = 1024

    @property
    def run_name(self) -> str:
        """A folder name that changes with every setting of the plan, e.g.
        ``width12-2000img-3ep-batch64`` (a checkpoint folder per setting: changing ``WIDTH``
        starts a new run, changing it back resumes the old one)."""
        images = f"{self.subset}img" if self.subset else "allimg"
        return f"width{self.width}-{images}-{self.config.epochs}ep-batch{self.batch_size}"


#: The CPU budget of lesson 05 (the GPU one is width 64, all images, 20 epochs, batch 512).
CPU_WIDTH, CPU_SUBSET, CPU_EPOCHS, CPU_BATCH, CPU_TEST_SUBSET = 12, 2000, 3, 64, 1000


def plan_training(device: torch.device, epochs: int | None = None, batch_size: int | None = None,
                  subset: int | None = None, width: int | None = None,
                  fake: bool = False) -> TrainingPlan:
    """Settings for lesson 05's main run; ``None`` means "the default for this device".

    A GPU gets the full model (width 64) on all images for 20 epochs at batch 512; the CPU, some
    50-100 times slower, a narrower model (``CPU_WIDTH``) on ``CPU_SUBSET`` images for
    ``CPU_EPOCHS`` epochs at batch ``CPU_BATCH``, tested on the first ``CPU_TEST_SUBSET`` test
    images. The learning rate follows the batch size (0.1 per 128 images: the linear scaling
    rule). With ``fake`` the message starts with a banner saying the data is fake.
    """
    gpu = device.type in ("cuda", "mps")
    plan_width = width or (64 if gpu else CPU_WIDTH)
    plan_epochs = epochs or (20 if gpu else CPU_EPOCHS)
    plan_batch = batch_size or (512 if gpu else CPU_BATCH)
    plan_subset = subset if subset is not None else (None if gpu else CPU_SUBSET)
    test_subset = None if gpu else CPU_TEST_SUBSET
    config = TrainConfig(epochs=plan_epochs, lr=0.1 * plan_batch / 128)
    threads, threads_note = cpu_threads() if not gpu else (torch.get_num_threads(), "")
    images = f"{plan_subset:,} training images" if plan_subset else "all training images"
    tested = f", tested on the first {test_subset:,} test images" if test_subset else ""
    message = (f"Training on {device.type.upper()}: CourseCNN(width={plan_width}), {images}, "
               f"{plan_epochs} epochs, batch {plan_batch}, peak learning rate {config.lr:g}"
               f"{tested}.")
    if not gpu:
        message += ("\nNo GPU found, so this is a smaller budget than the GPU run (width 64, all "
                    "50,000 images, 20 epochs): expect a lower accuracy. Run the notebook on a "
                    "machine with a GPU to train the full model.\n" + threads_note)
    if fake:
        message = FAKE_BANNER + "\n" + message
    return TrainingPlan(device, plan_width, plan_subset, plan_batch, config, message, test_subset,
                        threads, 1024 if gpu else 256)


def cpu_threads() -> tuple[int, str]:
    """(threads for PyTorch on the CPU, a sentence saying why): the cores other programs leave
    idle (cores minus the 1-minute load average, a load under 0.75 counting as idle), at least 1.

    PyTorch's CPU threads wait for each other at every operation; when another program holds one
    of the cores, all of them wait for the slowest, and two threads on a busy 2-core machine
    train several times slower than one.
    """
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    threads = max(1, min(cores, cores - int(load + 0.25)))
    note = (f"CPU threads: {threads} of {cores} cores"
            + (f" (the others are busy: load average {load:.1f})" if threads < cores else "")
            + ".")
    return threads, note


#: The first lines lesson 05 prints when it runs on the synthetic stand-in.
FAKE_BANNER = (
    "*" * 78 + "\n"
    "*  FAKE DATA: this run uses synthetic images (drawn shapes: stripes, discs, rings, ...),\n"
    "*  not CIFAR-10. Every accuracy, picture and mistake below is about those shapes and says\n"
    "*  nothing about CIFAR-10. Set FAKE_DATA = False for the real data.\n"
    + "*" * 78
)


@dataclass
class History:
    """One entry per epoch. Accuracies are fractions in [0, 1]; seconds are cumulative."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    #: What the first training step of this process actually used: "autocast" (the scores' dtype,
    #: "bfloat16"/"float16" under mixed precision, else "float32"), "gradient scaler",
    #: "channels_last" (the input batch's layout), "cudnn autotune" (cuDNN picks its fastest
    #: kernels), "device".
    fast_paths: dict = field(default_factory=dict)

    @property
    def final_test_accuracy(self) -> float:
        return self.test_accuracy[-1] if self.test_accuracy else float("nan")


def train(model: nn.Module, train_batches: Iterable, test_batches: Iterable,
          config: TrainConfig | None = None, device: torch.device | str | None = None,
          checkpoint_dir: str | os.PathLike | None = None, progress: bool = True,
          on_epoch_end: Callable[[int, History], None] | None = None) -> History:
    """Train ``model`` in place on ``train_batches`` and return its ``History``.

    ``train_batches``: re-iterable (images, labels) batches with ``len()``, one pass per epoch --
    a :class:`~course_utils.cifar10.augment.DeviceBatches` (shuffles and augments on the device,
    and its random generator is saved in checkpoints, so a resumed run is exact) or any other
    loader (the speed ladder's tutorial ``DataLoader``). ``test_batches`` are evaluated after every
    epoch (see ``config.evaluate_each_epoch``). ``on_epoch_end(epoch, history)`` is called after
    each epoch's checkpoint is written.
    """
    config = config or TrainConfig()
    device = pick_device(device)
    amp_dtype, use_scaler = mixed_precision_settings(device, config.mixed_precision)
    channels_last = device.type == "cuda" if config.channels_last is None else config.channels_last
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    model.to(device=device, memory_format=memory_format)

    generator = getattr(train_batches, "generator", None)  # the pipeline's random numbers
    steps = config.epochs * len(train_batches)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                nesterov=True, weight_decay=config.weight_decay)
    if config.schedule not in ("warmup_decay", "constant"):
        raise ValueError(f"schedule must be 'warmup_decay' or 'constant', got {config.schedule!r}")
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_then_decay(step, steps, config.warmup)
        if config.schedule == "warmup_decay" else 1.0)
    scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)
    averaged = averaged_model(model, config.ema_decay)
    history = History()

    checkpoint = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir else None
    data = _data_signature(train_batches)
    start_epoch = 0
    if checkpoint is not None and checkpoint.is_file():
        start_epoch = _restore(checkpoint, config, model, optimizer, scheduler, scaler, averaged,
                               generator, history, device, data)

    from tqdm.auto import tqdm

    epochs_bar = tqdm(range(start_epoch, config.epochs), desc="epochs", disable=not progress,
                      initial=start_epoch, total=config.epochs)
    for epoch in epochs_bar:
        model.train()
        started = time.perf_counter()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        seen = 0
        batches_bar = tqdm(train_batches, desc=f"epoch {epoch + 1}", leave=False,
                           disable=not progress)
        for step, (images, labels) in enumerate(batches_bar):
            images = images.to(device, non_blocking=True).contiguous(memory_format=memory_format)
            labels = labels.to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=amp_dtype or torch.float32,
                                enabled=amp_dtype is not None):
                scores = model(images)
                loss = F.cross_entropy(scores, labels, label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            if averaged is not None:
                averaged.update_parameters(model)
            if not history.fast_paths:
                history.fast_paths = _fast_paths(device, scores, images, use_scaler)
            loss_sum += loss.detach().float() * len(labels)
            correct += (scores.argmax(1) == labels).sum()
            seen += len(labels)
            if progress and step % 10 == 0:  # reading a number waits for the GPU: not every step
                batches_bar.set_postfix(loss=f"{loss_sum.item() / seen:.3f}",
                                        acc=f"{correct.item() / seen:.1%}")
        _synchronize(device)
        elapsed = time.perf_counter() - started
        evaluated = averaged.module if averaged is not None else model
        test_loss, test_accuracy = float("nan"), float("nan")
        if config.evaluate_each_epoch or epoch + 1 == config.epochs:
            result = evaluate(evaluated, test_batches, flip_tta=config.flip_tta,
                              amp_dtype=amp_dtype, memory_format=memory_format)
            test_loss, test_accuracy = result.loss, result.accuracy
        history.epoch.append(epoch + 1)
        history.train_loss.append(loss_sum.item() / seen)
        history.train_accuracy.append(correct.item() / seen)
        history.test_loss.append(test_loss)
        history.test_accuracy.append(test_accuracy)
        history.learning_rate.append(scheduler.get_last_lr()[0])
        history.train_seconds.append(elapsed + (history.train_seconds[-1]
                                                if history.train_seconds else 0.0))
        epochs_bar.set_postfix(train_acc=f"{history.train_accuracy[-1]:.1%}",
                               test_acc=f"{test_accuracy:.1%}")
        if checkpoint is not None:
            _save(checkpoint, epoch + 1, config, model, optimizer, scheduler, scaler, averaged,
                  generator, history, data)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, history)
    if averaged is not None:  # the averaged weights are the result
        model.load_state_dict(averaged.module.state_dict())
    return history


def warmup_then_decay(step: int, total_steps: int, warmup: float) -> float:
    """Learning-rate factor: 0 -> 1 linearly over the first ``warmup`` of steps, then 1 -> 0."""
    warmup_steps = max(1, round(warmup * total_steps))
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def mixed_precision_settings(device: torch.device, mode: str) -> tuple[torch.dtype | None, bool]:
    """(autocast dtype or None, whether a gradient scaler is needed) for ``device`` and ``mode``."""
    if mode not in ("auto", "bf16", "fp16", "off"):
        raise ValueError(f"mixed_precision must be 'auto', 'bf16', 'fp16' or 'off', got {mode!r}")
    if mode == "off" or (mode == "auto" and device.type != "cuda"):
        return None, False
    if mode == "auto":
        mode = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    # fp16 has a narrow range: small gradients underflow to 0 unless the loss is scaled up first.
    return (torch.bfloat16, False) if mode == "bf16" else (torch.float16, device.type == "cuda")


def averaged_model(model: nn.Module, decay: float | None):
    """An exponential moving average of ``model``'s weights (and BatchNorm statistics), or None."""
    if decay is None:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _fast_paths(device: torch.device, scores: torch.Tensor, images: torch.Tensor,
                use_scaler: bool) -> dict:
    """What one training step really used (read from its tensors, not from the settings)."""
    cudnn = (device.type == "cuda" and torch.backends.cudnn.is_available()
             and torch.backends.cudnn.enabled and torch.backends.cudnn.benchmark)
    return {
        "device": device.type,
        "autocast": str(scores.dtype).replace("torch.", ""),
        "gradient scaler": bool(use_scaler),
        "channels_last": bool(images.dim() == 4 and images.shape[1] > 1
                              and images.is_contiguous(memory_format=torch.channels_last)),
        "cudnn autotune": bool(cudnn),
    }


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _rng_states(device: torch.device) -> dict:
    states = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def _data_signature(train_batches) -> dict:
    """How many images and batches per epoch, the batch size, and a fingerprint of the labels."""
    labels = getattr(train_batches, "labels", None)
    signature = {"batches per epoch": len(train_batches),
                 "batch size": getattr(train_batches, "batch_size", None)}
    if isinstance(labels, torch.Tensor):
        signature["images"] = len(labels)
        signature["labels crc32"] = zlib.crc32(labels.cpu().numpy().tobytes())
    return signature


def _save(path: Path, epoch: int, config: TrainConfig, model, optimizer, scheduler, scaler,
          averaged, generator: torch.Generator | None, history: History, data: dict) -> None:
    """Write the checkpoint to a temporary file, then rename it: never a half-written file."""
    device = next(model.parameters()).device
    state = {
        "epoch": epoch,
        "config": asdict(config),
        "model_class": type(model).__name__,
        "data": data,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "averaged": averaged.state_dict() if averaged is not None else None,
        "data_generator": generator.get_state() if generator is not None else None,
        "rng": _rng_states(device),
        "history": asdict(history),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)


def _differences(state: dict, config: TrainConfig, model: nn.Module, data: dict) -> list[str]:
    """What differs between the run that wrote ``state`` and this one, one phrase per setting."""
    found = []
    now = asdict(config)
    for key in sorted(set(state["config"]) | set(now)):
        if state["config"].get(key) != now.get(key):
            found.append(f"{key} {state['config'].get(key)!r} there, {now.get(key)!r} now")
    saved_class = state.get("model_class")
    if saved_class and saved_class != type(model).__name__:
        found.append(f"model {saved_class} there, {type(model).__name__} now")
    saved = {name: tuple(tensor.shape) for name, tensor in state["model"].items()}
    current = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    changed = [name for name in current if saved.get(name) != current[name]]
    changed += [name for name in saved if name not in current]
    if changed:
        more = f" (and {len(changed) - 1} more tensors)" if len(changed) > 1 else ""
        found.append(f"weights {changed[0]} of shape {saved.get(changed[0])} there, "
                     f"{current.get(changed[0])} now{more}")
    saved_data = state.get("data")
    if saved_data is not None:
        for key in sorted(set(saved_data) | set(data)):
            if saved_data.get(key) != data.get(key):
                found.append(f"data {key} {saved_data.get(key)} there, {data.get(key)} now")
    return found


def _restore(path: Path, config: TrainConfig, model, optimizer, scheduler, scaler, averaged,
             generator: torch.Generator | None, history: History, device: torch.device,
             data: dict) -> int:
    """Load ``path`` into the run and return its epoch; 0 (a fresh start) when it was written
    with other settings, after saying what differs and moving it to ``last.previous.pt``."""
    state = torch.load(path, map_location=device, weights_only=False)
    differences = _differences(state, config, model, data)
    if differences:
        previous = path.with_name(PREVIOUS_CHECKPOINT_NAME)
        os.replace(path, previous)
        print(f"train: {path} was trained with other settings ({'; '.join(differences)}). "
              f"Starting from scratch; the old checkpoint was moved to {previous} (delete it "
              "if you do not need it).")
        return 0
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    scaler.load_state_dict(state["scaler"])
    if averaged is not None:
        averaged.load_state_dict(state["averaged"])
    if generator is not None and state["data_generator"] is not None:
        generator.set_state(state["data_generator"])
    torch.set_rng_state(state["rng"]["torch"].cpu())
    if "cuda" in state["rng"] and device.type == "cuda":
        torch.cuda.set_rng_state(state["rng"]["cuda"].cpu(), device)
    for name, values in state["history"].items():
        if name == "fast_paths":
            continue  # what this process uses is measured again at its first step
        getattr(history, name).extend(values)
    return state["epoch"]
