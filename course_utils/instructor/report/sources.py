"""The code the similarity check compares: each submission's own, the template, the course's.

* :func:`own_code`: a submitted notebook's code cells, the release's locked cells (the test and
  set-up cells, which the grader restores anyway) left out: the solution cells and any cell the
  student added;
* :func:`template_code`: every code cell of the released notebook (signatures, docstrings,
  given code): the boilerplate, never counted;
* :func:`course_sources`: what a student can read and copy: ``course_utils/reference``, the
  grading's case lists (``course_utils/grading/cases``: its mistake generators are variants of
  the right answer), the lesson notebooks, and the instructor's solution cells in ``solutions/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import course_utils.grading.cases
import course_utils.reference


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else str(source)


def _code_cells(notebook: dict) -> list[dict]:
    cells = notebook.get("cells", []) if isinstance(notebook, dict) else []
    return [cell for cell in cells if isinstance(cell, dict) and cell.get("cell_type") == "code"]


def _grade_id(cell: dict):
    nbgrader = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
    return nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None


def locked_ids(released: list[dict]) -> set[str]:
    """The grade ids of the release's cells that are not solution cells (tests, set-up)."""
    return {_grade_id(cell) for notebook in released for cell in _code_cells(notebook)
            if _grade_id(cell) and not cell["metadata"]["nbgrader"].get("solution")}


def own_code(notebooks: list[dict], locked: set[str]) -> str:
    """The code a student wrote in ``notebooks``, cell after cell."""
    return "\n\n".join(_source(cell) for notebook in notebooks for cell in _code_cells(notebook)
                       if _grade_id(cell) not in locked and _source(cell).strip())


def template_code(released: list[dict]) -> str:
    return "\n\n".join(_source(cell) for notebook in released for cell in _code_cells(notebook))


def solution_code(source_notebooks: list[dict]) -> str:
    """The instructor's solution cells (``solutions/``)."""
    return "\n\n".join(_source(cell) for notebook in source_notebooks for cell in _code_cells(notebook)
                       if isinstance(cell.get("metadata", {}).get("nbgrader"), dict)
                       and cell["metadata"]["nbgrader"].get("solution"))


def read_notebook(path: Path) -> dict:
    """One of the course's own notebooks (the instructor's files: no student wrote them)."""
    return json.loads(path.read_text(encoding="utf-8"))


def course_sources(root: Path, source_notebooks: list[dict], source_directory: str = "solutions") -> dict[str, str]:
    """Course file (as the page names it) -> its code: the reference modules, the lessons'
    code cells (``notebooks/`` of the course, where it has them) and the solution cells."""
    sources = {}
    reference = Path(course_utils.reference.__file__).parent
    for path in sorted(reference.glob("*.py")):
        sources[f"course_utils/reference/{path.name}"] = path.read_text(encoding="utf-8")
    cases = Path(course_utils.grading.cases.__file__).parent
    for path in sorted(cases.glob("*.py")):
        sources[f"course_utils/grading/cases/{path.name}"] = path.read_text(encoding="utf-8")
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        sources[f"notebooks/{path.name}"] = "\n\n".join(_source(cell) for cell in _code_cells(read_notebook(path)))
    solutions = solution_code(source_notebooks)
    if solutions.strip():
        sources[f"{source_directory}/ (the instructor's solution)"] = solutions
    return sources
