"""Which calls in a notebook draw, and which outputs show a picture (test_notebooks.py and the
browser tests count explorers with it).

A drawing call is a call of a public function of ``course_utils.plotting`` or
``course_utils.cifar10.plots`` that makes a figure, or of an explorer (``course_utils.widgets``'
``*_explorer``). Calls are read from a cell's source (``ast``), names resolved through the
notebook's own imports, so ``plotting.show_grids``, ``cifar_plots.image_grid`` and
``gradient_explorer`` are all found however they were imported.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from functools import cache

#: Modules whose figure-making functions must show what they draw (with show_figure).
DRAWING_MODULES = ("course_utils.plotting", "course_utils.cifar10.plots")
#: A function makes a figure when its body calls one of these (``show_figure`` shows one).
MAKES_A_FIGURE = {"show_figure", "_new_figure", "subplots", "figure"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def makes_a_figure(function) -> bool:
    if function.__name__ == "show_figure":
        return True
    body = ast.parse(inspect.getsource(function)).body[0].body
    called = {getattr(node.func, "attr", getattr(node.func, "id", None))
              for statement in body for node in ast.walk(statement) if isinstance(node, ast.Call)}
    return bool(called & MAKES_A_FIGURE)


@cache
def drawing_functions() -> dict[int, str]:
    """``{id(function): qualified name}`` for every public function of DRAWING_MODULES that
    makes a figure, and every explorer of ``course_utils.widgets`` (a function ``*_explorer``)."""
    found = {}
    for module_name in DRAWING_MODULES:
        module = importlib.import_module(module_name)
        for name, function in vars(module).items():
            if (inspect.isfunction(function) and function.__module__ == module_name
                    and not name.startswith("_") and makes_a_figure(function)):
                found[id(function)] = f"{module_name}.{name}"
    widgets = importlib.import_module("course_utils.widgets")
    for name in widgets.__all__:
        if name.endswith("_explorer"):
            found[id(getattr(widgets, name))] = f"course_utils.widgets.{name}"
    return found


def resolve(dotted: str):
    """The object a dotted name such as ``course_utils.plotting.show_grids`` refers to, or None."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attribute in parts[cut:]:
                target = getattr(target, attribute)
        except AttributeError:
            return None
        return target
    return None


def python_source(cell_source: str) -> ast.Module:
    """The cell as Python (IPython's magics such as ``%matplotlib inline`` translated)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(cell_source))


def imported_names(notebook) -> dict[str, str]:
    """``{name in the notebook: full dotted name}`` for every import in its code cells."""
    names = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(python_source(cell.source)):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        names[alias.asname] = alias.name
                    else:
                        names[alias.name.split(".")[0]] = alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def dotted_name(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted_name(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def drawing_calls(cell_source: str, names: dict[str, str]) -> list[str]:
    """The drawing calls a cell makes when it runs (calls inside a ``def``, ``lambda`` or
    ``class`` run later, or never, and are not counted; a call in a loop counts once)."""
    calls = []

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return
        if isinstance(node, ast.Call):
            written = dotted_name(node.func)
            if written:
                head, _, rest = written.partition(".")
                if head in names:
                    target = resolve(names[head] + (f".{rest}" if rest else ""))
                    if target is not None and id(target) in drawing_functions():
                        calls.append(drawing_functions()[id(target)])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(python_source(cell_source))
    return calls


def shown_pictures(cell) -> int:
    """Pictures and explorer views in a cell's outputs: ``<img>`` tags, PNG outputs, widgets."""
    count = 0
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        count += len(re.findall(r"<img\b", data.get("text/html", "")))
        count += "image/png" in data
        count += WIDGET_VIEW in data
    return count
