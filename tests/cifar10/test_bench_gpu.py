"""benchmarks/bench_gpu.py on a machine without a GPU: a small run that says so on every table."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="this checks the CPU path")
def test_without_a_gpu_the_check_runs_small_and_says_nothing_is_a_gpu_number(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("bench_gpu", None)
    import bench_gpu

    bench_gpu.main(["--device", "cpu", "--train", "100", "--test", "40", "--epochs", "1",
                    "--ladder-epochs", "1", "--ladder-subset", "40"])
    out = capsys.readouterr().out
    assert "NO CUDA GPU: a SMALL run on the CPU (100 images, 1 epochs)" in out
    assert out.count("[SMALL CPU RUN: not a GPU measurement]") == 2
    assert "nothing above is a GPU number" in out and "not comparable with a GPU's" in out
    assert "| mixed precision (autocast dtype)   | auto             | float32" in out
    assert "FAKE" in out and "training images per second" in out
