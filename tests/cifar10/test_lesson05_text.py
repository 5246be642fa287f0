"""Lesson 05's words agree with its code: every number the notebook and its guide state about the
CPU budget, label smoothing and the speed ladder is the one the code uses; cells draw only through
course_utils."""

from __future__ import annotations

import json
import re
from pathlib import Path

from course_utils.cifar10 import speed_ladder, training

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = json.loads((ROOT / "notebooks" / "05_cnn_on_cifar10.ipynb").read_text())
CELLS = ["".join(cell["source"]) for cell in NOTEBOOK["cells"]]
CODE = ["".join(cell["source"]) for cell in NOTEBOOK["cells"] if cell["cell_type"] == "code"]
PROSE = "\n".join("".join(cell["source"]) for cell in NOTEBOOK["cells"]
                  if cell["cell_type"] == "markdown")


def parameter_comment(name: str) -> str:
    parameters = next(cell for cell in NOTEBOOK["cells"]
                      if "parameters" in cell["metadata"].get("tags", []))
    line = next(line for line in "".join(parameters["source"]).splitlines()
                if line.startswith(f"{name} "))
    return line.split("#", 1)[1]


def test_the_parameters_cell_states_the_cpu_defaults_the_code_uses():
    cpu = speed_ladder.CPU_LADDER
    assert f"{training.CPU_EPOCHS} on the CPU" in parameter_comment("EPOCHS")
    assert f"{training.CPU_BATCH} on the CPU" in parameter_comment("BATCH_SIZE")
    assert f"{training.CPU_SUBSET:,} on the CPU" in parameter_comment("SUBSET")
    assert f"{training.CPU_WIDTH} on the CPU" in parameter_comment("WIDTH")
    assert f"{cpu['epochs']} on the CPU" in parameter_comment("SPEED_EPOCHS")
    assert f"{cpu['subset']:,} on the CPU" in parameter_comment("SPEED_SUBSET")
    gpu = speed_ladder.GPU_LADDER
    assert f"{gpu['epochs']} on a GPU" in parameter_comment("SPEED_EPOCHS")


def test_label_smoothing_is_one_number_everywhere():
    value = training.TrainConfig().label_smoothing
    target = 1 - value + value / 10
    assert f"**label smoothing** {value:g}" in PROSE
    assert f"= {target:.2f} on the right class" in PROSE and f"{value / 10:.2f} on" in PROSE
    assert speed_ladder.LABEL_SMOOTHING == value
    assert "0.8" not in dict(speed_ladder.IDEAS)["label smoothing"]


def test_the_lessons_guide_states_the_cpu_budget_the_code_uses():
    guide = (ROOT / "docs" / "students" / "lessons.md").read_text()
    detail = " ".join(guide[guide.index("## Lesson 05 in detail"):].split())
    assert (f"width {training.CPU_WIDTH}, {training.CPU_SUBSET:,} images, {training.CPU_EPOCHS} "
            f"epochs, batch {training.CPU_BATCH}") in detail
    cpu = speed_ladder.CPU_LADDER
    assert (f"{cpu['subset']:,} images, {cpu['epochs']} epochs per rung, batch "
            f"{cpu['small_batch']}") in detail
    benchmarks = (ROOT / "docs" / "benchmarks.md").read_text()
    assert "make gpu-check" in detail and "bench_gpu" in benchmarks and "make gpu-check" in benchmarks


def test_cells_draw_only_through_course_utils():
    for source in CODE:
        assert not re.search(r"\b(plt|pyplot|matplotlib)\b", source), source
        assert ".imshow(" not in source and "subplots(" not in source, source


def test_no_cell_relies_on_being_the_cells_last_value_to_draw():
    """Drawing calls end with show_figure (shown at once): none needs a trailing ';' or to be last."""
    for source in CODE:
        if "cifar_plots." in source:
            assert not source.rstrip().endswith(";"), source


def test_the_prose_does_not_claim_which_classes_this_run_confuses():
    # The most confused pair is printed from the data; the prose names real CIFAR-10's only as such.
    assert "confused_pairs_sentence(confusion, data.classes)" in "\n".join(CODE)
    for sentence in re.split(r"(?<=[.!?])\s", PROSE):
        if "cat and dog" in sentence or "cat ↔ dog" in sentence:
            assert "real CIFAR-10" in sentence, sentence


def test_reading_the_ladder_states_the_steps_the_budgets_give():
    cpu, gpu = speed_ladder.CPU_LADDER, speed_ladder.GPU_LADDER
    text = " ".join(PROSE[PROSE.index("**Reading the table.**"):].split())
    cpu_steps = -(-cpu["subset"] // cpu["small_batch"]) * cpu["epochs"]
    assert (f"about {round(cpu_steps, -1)} steps ({cpu['subset']} images in batches of "
            f"{cpu['small_batch']}, {cpu['epochs']} epochs") in text
    assert cpu["small_batch"] == cpu["large_batch"]  # "the batch stays small"
    gpu_steps = 50_000 // gpu["large_batch"] * gpu["epochs"]
    assert f"batch {gpu['large_batch']} from the third rung on, {gpu['epochs']} epochs" in text
    assert 900 <= gpu_steps <= 1100  # "about a thousand steps per rung"
