"""The website's notebook pages: an executed lesson, a released assignment.

A lesson page is the executed notebook with its widgets as stills (:mod:`website.static_views`)
and, when it ran with its smoke parameters, a note at the top saying so: which settings
differ from the notebook's own and, for fake data, that every result comes from FAKE data on a
CPU. An assignment page is the released notebook from ``assignments/`` -- its text, the
function stubs and the visible checks, never anything from ``solutions/`` -- with a note on how
to do it.
"""

from __future__ import annotations

import ast
import copy

import nbformat

from website.lessons import smoke_parameters
from website.static_views import replace_widget_outputs


def notebook_defaults(notebook) -> dict:
    """``{name: value}`` of the constants the cell tagged ``parameters`` sets."""
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            values = {}
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                    try:
                        values[node.targets[0].id] = ast.literal_eval(node.value)
                    except ValueError:
                        values[node.targets[0].id] = ast.unparse(node.value)
            return values
    return {}


def smoke_note(notebook) -> str | None:
    """The note at the top of a lesson that ran with its smoke parameters (None otherwise)."""
    overrides = smoke_parameters(notebook)
    if not overrides:
        return None
    defaults = notebook_defaults(notebook)
    rows = "".join(f"| `{name}` | `{value!r}` | `{defaults.get(name)!r}` |\n"
                   for name, value in overrides.items())
    if overrides.get("FAKE_DATA"):
        lead = ("**The outputs on this page come from FAKE data on a CPU.** When the site was "
                "built, this lesson ran headless with the short settings its tests use, on "
                "synthetic shapes written in CIFAR-10's file format, not on CIFAR-10. Every "
                "result below says FAKE, as the notebook does: none of these numbers says "
                "anything about CIFAR-10 or about a GPU.")
    else:
        lead = ("**The outputs on this page come from a short run on a CPU.** When the site was "
                "built, this lesson ran headless with the smaller settings its tests use.")
    return (f":::{{important}}\n{lead}\n\n| setting | this run | the notebook |\n|---|---|---|\n"
            f"{rows}\n`{{tmp}}` is a temporary folder of the build; the cell that sets these is "
            "marked *Smoke mode*. Run the lesson with its own settings yourself with `make lab`."
            "\n:::")


def split_title(notebook) -> None:
    """Put the first cell's title (its first line, ``# ...``) in a cell of its own, so that a
    note can follow the title at once."""
    first = notebook.cells[0]
    title, _, rest = first.source.partition("\n")
    if first.cell_type == "markdown" and title.startswith("# ") and rest.strip():
        first.source = title
        notebook.cells.insert(1, nbformat.v4.new_markdown_cell(rest.strip("\n")))


def lesson_page(executed, smoke_folder: str | None = None) -> nbformat.NotebookNode:
    """The lesson's page from its executed copy (not changed): widgets as stills, the smoke
    note after the title, the temporary data folder written as ``{tmp}``."""
    notebook = copy.deepcopy(executed)
    replace_widget_outputs(notebook)
    note = smoke_note(notebook)
    if note:
        split_title(notebook)
        notebook.cells.insert(1, nbformat.v4.new_markdown_cell(note))
    if smoke_folder:
        text = nbformat.writes(notebook).replace(smoke_folder, "{tmp}")
        notebook = nbformat.reads(text, as_version=4)
    return notebook


def assignment_page(released, assignment: str) -> nbformat.NotebookNode:
    """The assignment's page: the released notebook (``assignments/<id>/<id>.ipynb``) without
    nbgrader's metadata, and a note on how to do it."""
    notebook = copy.deepcopy(released)
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    note = (":::{note}\nThis is the assignment as students get it: its text, the functions to "
            "write and the visible checks. To do it, get the course (the student kit: "
            "[setting up](../../docs/students/setup.md)), then `make start "
            f"ASSIGNMENT={assignment}` and `make lab`; [doing an assignment]"
            "(../../docs/students/assignments.md) says how it is checked and graded.\n:::")
    split_title(notebook)
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell(note))
    return notebook
