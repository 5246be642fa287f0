"""course_utils.cifar10.speed_ladder: every rung timed several times (median, range), a CPU run
that says its seconds are not comparable, and words that agree with the settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.cifar10 import speed_ladder as ladder
from course_utils.cifar10.fake_data import FAKE_LABEL
from course_utils.cifar10.data import CIFAR10Data
from course_utils.cifar10.fake_data import FAKE_CLASSES, fake_images
from course_utils.cifar10.training import TrainConfig


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    train_images, train_labels = fake_images(64, rng)
    test_images, test_labels = fake_images(40, rng)
    return CIFAR10Data(*(torch.from_numpy(a) for a in (train_images, train_labels, test_images,
                                                       test_labels)), FAKE_CLASSES, fake=True)


def test_every_rung_is_timed_every_epoch_of_every_repeat(tiny_data):
    torch.manual_seed(0)
    rungs = ladder.speed_ladder(tiny_data, torch.device("cpu"), epochs=2, small_batch=32,
                                large_batch=64, width=4, fast_widths=(8, 8, 8), repeats=2)
    assert [rung.idea for rung in rungs] == [idea for idea, _ in ladder.IDEAS]
    by_idea = {rung.idea: rung for rung in rungs}
    for rung in rungs:
        assert len(rung.epoch_seconds) == 4 and all(s > 0 for s in rung.epoch_seconds)
        assert rung.low <= rung.median <= rung.high
        assert rung.device == "cpu" and rung.n_test == 40 and rung.n_train == 64
        if rung.idea != "flip test-time augmentation":
            assert rung.accuracies[0] == rung.accuracies[1] == rung.test_accuracy  # same seed
    # Flips change only the test: the rung scores the model above, with the same seconds.
    flips = by_idea["flip test-time augmentation"]
    assert flips.epoch_seconds == by_idea["label smoothing"].epoch_seconds
    assert "only the test differs" in flips.note
    # Mixed precision does nothing on a CPU: the run above, not repeated, and said so.
    mixed = by_idea["mixed precision"]
    assert (mixed.epoch_seconds, mixed.test_accuracy) == (
        by_idea["channels_last"].epoch_seconds, by_idea["channels_last"].test_accuracy)
    assert "not repeated" in mixed.note
    table = ladder.ladder_table(rungs)
    assert "median and range over 4 timed epochs of 64 training images per rung" in table
    assert "accuracy on 40 test images" in table and ladder.CPU_NOTE in table
    first = table.splitlines()[1]
    assert f"{rungs[0].median:.2f}" in first and f"{rungs[0].low:.2f}-{rungs[0].high:.2f}" in first


def test_the_ladders_budget_depends_on_the_device():
    cpu = ladder.plan_ladder(torch.device("cpu"))
    gpu = ladder.plan_ladder(torch.device("cuda"))
    assert (cpu.subset, cpu.epochs, cpu.width, cpu.large_batch) == (
        ladder.CPU_LADDER["subset"], ladder.CPU_LADDER["epochs"], 8, cpu.small_batch)
    assert "batch 32 throughout" in cpu.message and "batch 64 then 512" in gpu.message
    assert (gpu.subset, gpu.epochs, gpu.width, gpu.large_batch) == (None, 10, 64, 512)
    assert cpu.epochs >= 3  # several timed epochs: a median and a range
    assert ladder.plan_ladder(torch.device("cpu"), epochs=2, subset=300).subset == 300
    assert f"the first {ladder.CPU_LADDER['subset']:,} training images" in cpu.message
    assert set(cpu.arguments) == {"epochs", "small_batch", "large_batch", "width", "fast_widths"}


def test_label_smoothing_is_described_with_the_value_the_code_uses():
    assert ladder.LABEL_SMOOTHING == TrainConfig().label_smoothing == 0.1
    words = dict(ladder.IDEAS)["label smoothing"]
    assert "smoothing 0.1" in words and "0.91 on the right class" in words
    assert f"{1 - ladder.EMA_DECAY:.0%}" in dict(ladder.IDEAS)["weight averaging"]


def test_a_ladder_trained_on_fake_data_says_so_in_its_first_line():
    rungs = [ladder.Rung("tutorial pipeline", (2.0, 2.2), 0.61, n_test=500, n_train=600),
             ladder.Rung("data on the device", (1.0, 1.1), 0.70, n_test=500, n_train=600)]
    fake = ladder.ladder_table(rungs, fake=True).splitlines()
    assert fake[0].startswith(FAKE_LABEL)
    assert "600 FAKE training images per rung; accuracy on 500 FAKE test images" in fake[-2]
    real = ladder.ladder_table(rungs)
    assert "FAKE" not in real and real.splitlines()[0].startswith("idea added")
