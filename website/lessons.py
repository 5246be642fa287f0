"""Run a lesson notebook headless, once, the way the tests and the website show it.

Smoke mode: a notebook whose metadata holds ``course.smoke_parameters`` gets those overrides in a
cell right after its cell tagged ``parameters`` (papermill's convention), so each notebook says in
one place how it runs fast; ``{tmp}`` in a string value becomes a fresh folder (for data the
notebook writes). Lesson 05 runs on its fake data this way, lesson 07 on fewer images.

The tests execute every lesson once per test session with :func:`execute_lesson`
(``executed_lessons`` in ``tests/conftest.py``): the notebook tests check the outputs and the
website's test builds its pages from the same copies. ``make site`` on its own executes them
itself (``python -m website.build``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

INJECTED_TAG = "injected-parameters"


def smoke_parameters(notebook) -> dict:
    """The overrides a lesson runs with in smoke mode (``{}``: none, it runs as it is)."""
    return dict(notebook.metadata.get("course", {}).get("smoke_parameters", {}))


def inject_smoke_parameters(notebook, tmp_path: Path) -> None:
    """Insert the smoke overrides after the cell tagged ``parameters`` (nothing to do without)."""
    overrides = smoke_parameters(notebook)
    if not overrides:
        return
    index = next(
        (i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])),
        None,
    )
    assert index is not None, "smoke_parameters given but no cell is tagged 'parameters'"
    lines = ["# Smoke mode: the notebook's own smoke_parameters (website/lessons.py), a short run"]
    for name, value in overrides.items():
        if isinstance(value, str):
            value = value.replace("{tmp}", str(tmp_path))
        lines.append(f"{name} = {value!r}")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = [INJECTED_TAG]
    notebook.cells.insert(index + 1, cell)


@dataclass
class ExecutedLesson:
    """A lesson run once: the notebook with its outputs, the seconds it took, and the error that
    stopped it (None when every cell ran)."""

    path: Path
    notebook: nbformat.NotebookNode
    seconds: float
    error: Exception | None


def execute_lesson(path: Path, scratch: Path, timeout: int = 300) -> ExecutedLesson:
    """Run ``path`` top to bottom in smoke mode in a fresh kernel (its folder as the working
    directory, ``scratch`` for the ``{tmp}`` data). Never raises for a failing cell: the error is
    returned with the notebook as far as it ran."""
    notebook = nbformat.read(path, as_version=4)
    scratch.mkdir(parents=True, exist_ok=True)
    inject_smoke_parameters(notebook, scratch)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    environment = dict(os.environ, COURSE_SMOKE="1", MPLBACKEND="Agg")
    start = time.perf_counter()
    try:
        client.execute(env=environment)
        error = None
    except Exception as failure:  # noqa: BLE001 - reported by the caller, with the notebook
        error = failure
    return ExecutedLesson(path, notebook, time.perf_counter() - start, error)
