"""Every notebook in notebooks/ runs top to bottom, headless, in smoke mode; none carries outputs.

Smoke mode: the environment variable ``COURSE_SMOKE=1`` is set for the kernel, and a notebook
with a cell tagged ``parameters`` (papermill's convention) gets the overrides stored in its own
metadata, ``metadata["course"]["smoke_parameters"]``, injected in a cell right after it -- so
each notebook says in one place how it runs fast. ``{tmp}`` in a string value is replaced by a
fresh temporary folder (for data the notebook writes).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Seconds a notebook may take in smoke mode on the 2-core CI machine (issue targets).
TIME_LIMITS = {"05_cnn_on_cifar10.ipynb": 90, "06_backprop_through_conv.ipynb": 90}
DEFAULT_TIME_LIMIT = 60


def repo_notebooks() -> list[Path]:
    """Every notebook git tracks, plus any in the course folders not yet committed."""
    listed = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    found = {ROOT / name for name in listed}
    for folder in ("notebooks", "solutions", "assignments"):
        found.update((ROOT / folder).rglob("*.ipynb"))
    return sorted(path for path in found if ".ipynb_checkpoints" not in path.parts)


def test_there_are_lessons():
    assert NOTEBOOKS, "notebooks/ holds no notebooks"


@pytest.mark.parametrize("path", repo_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_without_outputs(path: Path):
    notebook = json.loads(path.read_text())
    dirty = [
        index
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts"


def inject_smoke_parameters(notebook, tmp_path: Path) -> None:
    overrides = notebook.metadata.get("course", {}).get("smoke_parameters")
    if not overrides:
        return
    index = next(
        (i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])),
        None,
    )
    assert index is not None, "smoke_parameters given but no cell is tagged 'parameters'"
    lines = ["# Injected by tests/test_notebooks.py (smoke mode)"]
    for name, value in overrides.items():
        if isinstance(value, str):
            value = value.replace("{tmp}", str(tmp_path))
        lines.append(f"{name} = {value!r}")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    notebook.cells.insert(index + 1, cell)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_headless(path: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    inject_smoke_parameters(notebook, tmp_path)
    limit = TIME_LIMITS.get(path.name, DEFAULT_TIME_LIMIT)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    print(f"{path.name}: {seconds:.1f} s")
    # Generous on a loaded machine (x2), but a notebook that drifts far past its budget fails.
    assert seconds < 2 * limit, f"{path.name} took {seconds:.0f} s; its smoke budget is {limit} s"
