"""course_utils.cifar10.training: learning on fake CIFAR-10, exact resume from checkpoints, settings."""

from __future__ import annotations

import os

import pytest
import torch

from course_utils.cifar10.augment import DeviceBatches
from course_utils.cifar10.data import load_cifar10
from course_utils.cifar10.fake_data import write_fake_cifar10
from course_utils.cifar10.metrics import confusion_matrix, evaluate, per_class_accuracy
from course_utils.cifar10.models import CourseCNN
from course_utils.cifar10.training import (
    CHECKPOINT_NAME, CPU_BATCH, CPU_EPOCHS, CPU_SUBSET, CPU_WIDTH, PREVIOUS_CHECKPOINT_NAME,
    TrainConfig, mixed_precision_settings, pick_device, plan_training, train, warmup_then_decay,
)


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    write_fake_cifar10(root, n_train=2000, n_test=500, seed=1)
    return load_cifar10(root, fake=True)


class Interrupted(Exception):
    pass


def pipelines(data, batch_size, seed=0):
    """The training pipeline (shuffled, augmented) and the test pipeline, built once."""
    return (DeviceBatches(data.train_images, data.train_labels, batch_size, "cpu", augment=True, seed=seed),
            DeviceBatches(data.test_images, data.test_labels, 1024, "cpu"))


@pytest.mark.slow
def test_training_with_flips_on_fake_data_learns_every_class(fake_data):
    """Flip augmentation in training and flip averaging at test time: every fake class stays
    learnable (a class that were another's mirror image would fall to about half)."""
    torch.manual_seed(0)
    model = CourseCNN(width=8)
    train_batches, test_batches = pipelines(fake_data, 64)
    history = train(model, train_batches, test_batches, TrainConfig(epochs=3, lr=0.05),
                    device="cpu", progress=False)
    assert history.final_test_accuracy >= 0.75, history.test_accuracy
    assert history.epoch == [1, 2, 3] and history.train_loss[-1] < history.train_loss[0]
    assert history.learning_rate[-1] == pytest.approx(0.0, abs=1e-9)  # decayed to 0
    result = evaluate(model, test_batches, flip_tta=True)
    per_class = per_class_accuracy(confusion_matrix(result.predictions, result.labels))
    assert per_class.min() >= 0.6, dict(zip(fake_data.classes, per_class.tolist()))


def _small_run(data, checkpoint_dir, init_seed=0, interrupt_after=None):
    torch.manual_seed(init_seed)
    model = CourseCNN(width=4)
    config = TrainConfig(epochs=3, lr=0.05, ema_decay=0.9, seed=7)

    def stop(epoch, history):
        if epoch == interrupt_after:
            raise Interrupted

    history = train(model, *pipelines(data, 32, seed=7), config, device="cpu",
                    checkpoint_dir=checkpoint_dir, progress=False, on_epoch_end=stop)
    return model, history


def test_interrupted_run_resumes_to_exactly_the_uninterrupted_result(fake_data, tmp_path):
    data = fake_data.subset(256, 64)
    model, history = _small_run(data, tmp_path / "whole")

    with pytest.raises(Interrupted):
        _small_run(data, tmp_path / "broken", interrupt_after=1)
    saved = torch.load(tmp_path / "broken" / CHECKPOINT_NAME, weights_only=False)
    assert saved["epoch"] == 1
    # A fresh process would build the model from another random state: the checkpoint must win.
    resumed, resumed_history = _small_run(data, tmp_path / "broken", init_seed=123)

    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name
    for name in ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                 "learning_rate"):  # everything but the wall-clock times
        assert getattr(resumed_history, name) == getattr(history, name), name
    assert [p.name for p in (tmp_path / "broken").iterdir()] == [CHECKPOINT_NAME]  # no .tmp left


def test_a_changed_setting_starts_fresh_and_says_what_differs(fake_data, tmp_path, capsys):
    data = fake_data.subset(64, 32)
    torch.manual_seed(0)
    train(CourseCNN(4), *pipelines(data, 32), TrainConfig(epochs=1, lr=0.1), device="cpu",
          checkpoint_dir=tmp_path, progress=False)
    history = train(CourseCNN(4), *pipelines(data, 32), TrainConfig(epochs=1, lr=0.05),
                    device="cpu", checkpoint_dir=tmp_path, progress=False)
    said = capsys.readouterr().out
    assert "lr 0.1 there, 0.05 now" in said and "Starting from scratch" in said
    assert history.epoch == [1]  # trained, not resumed
    assert torch.load(tmp_path / CHECKPOINT_NAME, weights_only=False)["config"]["lr"] == 0.05
    assert torch.load(tmp_path / PREVIOUS_CHECKPOINT_NAME, weights_only=False)["config"]["lr"] == 0.1


def test_a_changed_width_starts_fresh_instead_of_crashing_on_the_weights(fake_data, tmp_path, capsys):
    data = fake_data.subset(64, 32)
    torch.manual_seed(0)
    train(CourseCNN(4), *pipelines(data, 32), TrainConfig(epochs=1), device="cpu",
          checkpoint_dir=tmp_path, progress=False)
    wider = CourseCNN(8)
    history = train(wider, *pipelines(data, 32), TrainConfig(epochs=1), device="cpu",
                    checkpoint_dir=tmp_path, progress=False)
    said = capsys.readouterr().out
    assert "conv1a.weight of shape (4, 3, 3, 3) there, (8, 3, 3, 3) now" in said
    assert str(tmp_path / PREVIOUS_CHECKPOINT_NAME) in said
    assert history.epoch == [1] and wider.conv1a.weight.shape == (8, 3, 3, 3)


def test_other_data_starts_fresh(fake_data, tmp_path, capsys):
    torch.manual_seed(0)
    train(CourseCNN(4), *pipelines(fake_data.subset(64, 32), 32), TrainConfig(epochs=1),
          device="cpu", checkpoint_dir=tmp_path, progress=False)
    train(CourseCNN(4), *pipelines(fake_data.subset(96, 32), 32), TrainConfig(epochs=1),
          device="cpu", checkpoint_dir=tmp_path, progress=False)
    assert "data images 64 there, 96 now" in capsys.readouterr().out


def test_history_records_the_fast_paths_the_first_step_used(fake_data):
    data = fake_data.subset(32, 32)
    torch.manual_seed(0)
    plain = train(CourseCNN(4), *pipelines(data, 32), TrainConfig(epochs=1), device="cpu",
                  progress=False)
    assert plain.fast_paths == {"device": "cpu", "autocast": "float32", "gradient scaler": False,
                                "channels_last": False, "cudnn autotune": False}
    forced = train(CourseCNN(4), *pipelines(data, 32),
                   TrainConfig(epochs=1, channels_last=True, mixed_precision="bf16"),
                   device="cpu", progress=False)
    assert forced.fast_paths["channels_last"] and forced.fast_paths["autocast"] == "bfloat16"


def test_same_seed_same_run_different_seed_different_run(fake_data):
    data = fake_data.subset(128, 32)

    def run(seed):
        torch.manual_seed(0)
        model = CourseCNN(4)
        train(model, *pipelines(data, 32, seed=seed), TrainConfig(epochs=1, seed=seed), device="cpu",
              progress=False)
        return model.fc.weight

    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_learning_rate_warms_up_then_decays_to_zero():
    factors = [warmup_then_decay(step, 10, 0.2) for step in range(10)]
    assert factors[:2] == [0.5, 1.0]
    assert factors[2:] == pytest.approx([1.0, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8])


def test_mixed_precision_is_off_on_the_cpu_unless_asked():
    cpu = torch.device("cpu")
    assert mixed_precision_settings(cpu, "auto") == (None, False)
    assert mixed_precision_settings(cpu, "bf16") == (torch.bfloat16, False)
    assert mixed_precision_settings(cpu, "fp16") == (torch.float16, False)  # no scaler off CUDA
    with pytest.raises(ValueError, match="mixed_precision"):
        mixed_precision_settings(cpu, "half")


def test_pick_device_falls_back_to_the_cpu_and_refuses_a_missing_gpu():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device().type == expected
    assert pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="not available"):
            pick_device("cuda")


def test_cpu_plan_is_smaller_and_says_so():
    cpu = plan_training(torch.device("cpu"))
    gpu = plan_training(torch.device("cuda"))
    assert (cpu.width, cpu.subset, cpu.batch_size, cpu.config.epochs) == (
        CPU_WIDTH, CPU_SUBSET, CPU_BATCH, CPU_EPOCHS) == (12, 2000, 64, 3)
    assert (gpu.width, gpu.subset, gpu.batch_size, gpu.config.epochs) == (64, None, 512, 20)
    assert cpu.test_subset == 1000 and gpu.test_subset is None
    assert (cpu.test_batch_size, gpu.test_batch_size) == (256, 1024)
    assert "No GPU" in cpu.message and "No GPU" not in gpu.message
    assert gpu.config.lr == pytest.approx(0.4) and cpu.config.lr == pytest.approx(0.05)
    assert 1 <= cpu.threads <= (os.cpu_count() or 1) and "CPU threads" in cpu.message


def test_fake_plan_starts_with_a_banner():
    fake = plan_training(torch.device("cpu"), fake=True)
    assert fake.message.splitlines()[1].startswith("*  FAKE DATA")
    assert "FAKE" not in plan_training(torch.device("cpu")).message


def test_every_setting_gets_its_own_checkpoint_folder():
    cpu = torch.device("cpu")
    names = {plan_training(cpu).run_name, plan_training(cpu, width=8).run_name,
             plan_training(cpu, epochs=2).run_name, plan_training(cpu, subset=100).run_name,
             plan_training(cpu, batch_size=32).run_name}
    assert len(names) == 5 and plan_training(cpu).run_name == "width12-2000img-3ep-batch64"


@pytest.mark.parametrize("load, threads", [(0.1, 2), (0.7, 2), (0.8, 1), (3.5, 1)])
def test_cpu_threads_leave_the_busy_cores_alone(monkeypatch, load, threads):
    from course_utils.cifar10 import training

    monkeypatch.setattr(training.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(training.os, "getloadavg", lambda: (load, load, load))
    assert training.cpu_threads()[0] == threads
