"""Lesson 05 on a GPU: its training run and its speed ladder on full-size fake data, and which
fast paths really ran. The first thing to run on a machine with a GPU:

    make gpu-check                       # = .venv/bin/python benchmarks/bench_gpu.py
    .venv/bin/python benchmarks/bench_gpu.py --epochs 20 --ladder-epochs 10 [--cifar10 data]

On CUDA it writes 50,000 training and 10,000 test images of fake data (CIFAR-10's size and file
format, synthetic shapes), trains lesson 05's GPU model on them (``plan_training``: CourseCNN
width 64, batch 512, bf16, channels_last, cuDNN autotuning) and runs the speed ladder, then prints
images per second, seconds per epoch, and which fast paths the first training step actually used
(the autocast dtype of its scores, the memory layout of its input, cuDNN's autotuner). The seconds
are CIFAR-10's (same number and size of images); the accuracies are the fake shapes', so the
course's accuracy targets need ``--cifar10 DIR`` (real CIFAR-10, loaded and checked by
``load_cifar10``).

Without a CUDA GPU it runs a small version (a few thousand images, few epochs) and says so in
every table: those numbers say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch

from course_utils.cifar10.augment import DeviceBatches
from course_utils.cifar10.data import load_cifar10
from course_utils.cifar10.fake_data import write_fake_cifar10
from course_utils.cifar10.metrics import describe_accuracy, evaluate
from course_utils.cifar10.models import CourseCNN
from course_utils.cifar10.speed_ladder import ladder_table, plan_ladder, speed_ladder
from course_utils.cifar10.training import pick_device, plan_training, train
from machine import describe  # benchmarks/machine.py

#: (training images, test images, main epochs, ladder epochs, ladder images) per kind of device.
FULL = dict(train=50_000, test=10_000, epochs=20, ladder_epochs=10, ladder_subset=None)
SMALL = dict(train=2_000, test=500, epochs=2, ladder_epochs=3, ladder_subset=500)


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best one)")
    parser.add_argument("--train", type=int, help="fake training images (GPU: 50,000)")
    parser.add_argument("--test", type=int, help="fake test images (GPU: 10,000)")
    parser.add_argument("--epochs", type=int, help="epochs of the main run (GPU: 20)")
    parser.add_argument("--ladder-epochs", type=int, help="epochs per ladder rung (GPU: 10)")
    parser.add_argument("--ladder-subset", type=int, help="ladder training images (GPU: all)")
    parser.add_argument("--skip-ladder", action="store_true", help="only the main run")
    parser.add_argument("--cifar10", metavar="DIR", help="use real CIFAR-10 from DIR instead")
    return parser.parse_args(argv)


def fast_path_rows(device: torch.device, asked: dict, used: dict) -> list[tuple[str, str, str]]:
    """(fast path, asked for, what the first step used) for the table."""
    cudnn = torch.backends.cudnn
    cudnn_version = cudnn.version() if device.type == "cuda" and cudnn.is_available() else None
    return [
        ("mixed precision (autocast dtype)", asked["mixed_precision"], used.get("autocast", "?")),
        ("gradient scaler (fp16 only)", "if fp16", str(used.get("gradient scaler", "?"))),
        ("channels_last (input layout)", str(asked["channels_last"]),
         str(used.get("channels_last", "?"))),
        ("cuDNN autotune (benchmark=True)", "on CUDA",
         f"{used.get('cudnn autotune', '?')}" + (f" (cuDNN {cudnn_version})" if cudnn_version else "")),
        ("TF32 matmul / cuDNN", "PyTorch default",
         f"{torch.backends.cuda.matmul.allow_tf32} / {cudnn.allow_tf32}" if device.type == "cuda"
         else "n/a"),
    ]


def main(argv=None) -> None:
    args = parse_arguments(argv)
    device = pick_device(args.device)
    full = device.type == "cuda"
    sizes = dict(FULL if full else SMALL)
    for key in sizes:
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    where = (f"device {device.type}" + (f" ({torch.cuda.get_device_name(device)}, "
                                        f"bf16 {'yes' if torch.cuda.is_bf16_supported() else 'no'})"
                                        if full else ""))
    print(f"bench_gpu: {describe()}; torch {torch.__version__}; {where}")
    if not full:
        print("NO CUDA GPU: a SMALL run on the " + device.type.upper() + " (" +
              f"{sizes['train']:,} images, {sizes['epochs']} epochs). These numbers say nothing "
              "about a GPU; run this script on a CUDA machine for the real check.")
    if device.type == "cpu":
        threads = plan_training(device).threads
        torch.set_num_threads(threads)

    with tempfile.TemporaryDirectory(prefix="bench_gpu.") as root:
        started = time.perf_counter()
        if args.cifar10:
            data = load_cifar10(args.cifar10)
            data = data.subset(sizes["train"], sizes["test"])
            origin = f"real CIFAR-10 from {args.cifar10}"
        else:
            write_fake_cifar10(root, n_train=sizes["train"], n_test=sizes["test"])
            data = load_cifar10(root, fake=True)
            origin = "FAKE data (synthetic shapes, CIFAR-10's size and format)"
        print(f"data: {len(data.train_labels):,} training and {len(data.test_labels):,} test "
              f"images, {origin}; written and loaded in {time.perf_counter() - started:.1f} s")

        plan = plan_training(device, epochs=sizes["epochs"], subset=None, fake=data.fake)
        batches = DeviceBatches(data.train_images, data.train_labels, plan.batch_size, device,
                                augment=True)
        test_batches = DeviceBatches(data.test_images, data.test_labels, 1024, device)
        torch.manual_seed(0)
        model = CourseCNN(plan.width)
        history = train(model, batches, test_batches, plan.config, device=device, progress=False)
        epoch_seconds = [b - a for a, b in zip([0.0, *history.train_seconds], history.train_seconds)]
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        evaluated = time.perf_counter()
        used = history.fast_paths  # evaluate the way training evaluated
        amp_dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(used.get("autocast"))
        layout = torch.channels_last if used.get("channels_last") else torch.contiguous_format
        result = evaluate(model, test_batches, flip_tta=True, amp_dtype=amp_dtype,
                          memory_format=layout)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        evaluation_seconds = time.perf_counter() - evaluated

        print()
        print(f"Lesson 05's main run on {device.type.upper()}: CourseCNN(width={plan.width}), "
              f"batch {plan.batch_size}, {plan.config.epochs} epochs"
              + ("" if full else "  [SMALL CPU RUN: not a GPU measurement]"))
        print(f"| {'measure':<50} | {'value':>14} |")
        print(f"|{'-' * 52}|{'-' * 15}:|")
        rows = [
            ("training images per second (all epochs)",
             f"{len(data.train_labels) * len(epoch_seconds) / sum(epoch_seconds):,.0f}"),
            ("seconds per epoch, first (warm-up, autotuning)", f"{epoch_seconds[0]:.2f}"),
            ("seconds per epoch, median of the others",
             f"{statistics.median(epoch_seconds[1:]):.2f}" if len(epoch_seconds) > 1 else "-"),
            (f"training seconds, all {len(epoch_seconds)} epochs", f"{sum(epoch_seconds):.1f}"),
            ("test images per second (flip averaging: 2 passes)",
             f"{len(result.labels) / evaluation_seconds:,.0f}"),
            ("final test accuracy", f"{result.accuracy:.1%}" + (" FAKE" if data.fake else "")),
        ]
        for name, value in rows:
            print(f"| {name:<50} | {value:>14} |")
        print(describe_accuracy(result, fake=data.fake))
        if full:
            print(f"Target for CourseCNN on a GPU: 90% test accuracy within 60 s of training. "
                  f"Time: {sum(epoch_seconds):.1f} s for {len(epoch_seconds)} epochs of "
                  f"{len(data.train_labels):,} images"
                  + ("; the accuracy needs real CIFAR-10 (--cifar10 DIR)." if data.fake else "."))

        print()
        print("Fast paths (what the first training step used, read from its tensors)")
        print(f"| {'fast path':<34} | {'asked for':<16} | {'ran':<22} |")
        print(f"|{'-' * 36}|{'-' * 18}|{'-' * 24}|")
        asked = {"mixed_precision": plan.config.mixed_precision,
                 "channels_last": "auto (CUDA)" if plan.config.channels_last is None
                 else plan.config.channels_last}
        for name, wanted, ran in fast_path_rows(device, asked, history.fast_paths):
            print(f"| {name:<34} | {wanted:<16} | {ran:<22} |")
        if not full:
            print("(on a CPU these fast paths are off by design: they are made for CUDA GPUs)")

        if not args.skip_ladder:
            ladder = plan_ladder(device, epochs=sizes["ladder_epochs"],
                                 subset=sizes["ladder_subset"])
            print()
            print(ladder.message + ("" if full else "  [SMALL CPU RUN: not a GPU measurement]"))
            ladder_data = data.subset(ladder.subset, ladder.test_subset)
            rungs = speed_ladder(ladder_data, device, **ladder.arguments)
            print(ladder_table(rungs, fake=ladder_data.fake))
    print()
    print(f"measured on: {describe(device.type)}" + ("" if full else
          " -- no GPU was used; nothing above is a GPU number"))


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
