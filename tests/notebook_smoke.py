"""Smoke mode for a lesson notebook: the overrides in its metadata, injected after its
``parameters`` cell (used by test_notebooks.py and by the browser tests' copy of the course)."""

from __future__ import annotations

from pathlib import Path

import nbformat


def inject_smoke_parameters(notebook, tmp_path: Path) -> None:
    overrides = notebook.metadata.get("course", {}).get("smoke_parameters")
    if not overrides:
        return
    index = next(
        (i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])),
        None,
    )
    assert index is not None, "smoke_parameters given but no cell is tagged 'parameters'"
    lines = ["# Injected by the tests (smoke mode: tests/notebook_smoke.py)"]
    for name, value in overrides.items():
        if isinstance(value, str):
            value = value.replace("{tmp}", str(tmp_path))
        lines.append(f"{name} = {value!r}")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    notebook.cells.insert(index + 1, cell)
