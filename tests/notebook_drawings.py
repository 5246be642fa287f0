"""Which calls in a notebook draw, and which outputs show a picture (test_notebooks.py and the
browser tests count explorers with it).

A drawing call is a call of a public function of ``course_utils.plotting``,
``course_utils.figures`` or ``course_utils.cifar10.plots`` that makes a figure, or of an explorer
(``course_utils.widgets``' ``*_explorer``). Calls are read from a cell's source (``ast``), names
resolved through the notebook's own imports, so ``plotting.show_grids``,
``cifar_plots.image_grid`` and ``gradient_explorer`` are all found however they were imported.
Each such call shows one picture (or one explorer); a call in a loop may show several.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from functools import cache

#: Modules whose figure-making functions must show what they draw (with show_figure).
DRAWING_MODULES = ("course_utils.plotting", "course_utils.figures", "course_utils.cifar10.plots")
#: A function makes a figure when its body calls one of these (``show_figure`` shows one).
MAKES_A_FIGURE = {"show_figure", "_new_figure", "subplots", "figure"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _called_names(function) -> set[str]:
    body = ast.parse(inspect.getsource(function)).body[0].body
    return {getattr(node.func, "attr", getattr(node.func, "id", None))
            for statement in body for node in ast.walk(statement) if isinstance(node, ast.Call)}


def makes_a_figure(function, drawing_names: frozenset[str] = frozenset()) -> bool:
    """Whether ``function`` makes a figure: it is ``show_figure``, or calls one of MAKES_A_FIGURE
    or of ``drawing_names`` (the functions of its module already known to draw)."""
    if function.__name__ == "show_figure":
        return True
    return bool(_called_names(function) & (MAKES_A_FIGURE | drawing_names))


@cache
def drawing_functions() -> dict[int, str]:
    """``{id(function): qualified name}`` for every public function of DRAWING_MODULES that
    makes a figure (itself, or through another drawing function of its module, as
    ``show_misclassified`` draws with ``image_grid``), and every explorer of
    ``course_utils.widgets`` (a function ``*_explorer``)."""
    found = {}
    for module_name in DRAWING_MODULES:
        module = importlib.import_module(module_name)
        functions = {name: function for name, function in vars(module).items()
                     if inspect.isfunction(function) and function.__module__ == module_name
                     and not name.startswith("_")}
        drawing: set[str] = set()
        while True:  # until no function is added: drawing through a drawing function draws
            more = {name for name, function in functions.items()
                    if name not in drawing and makes_a_figure(function, frozenset(drawing))}
            if not more:
                break
            drawing |= more
        for name in drawing:
            found[id(functions[name])] = f"{module_name}.{name}"
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
    return [name for name, _ in _drawing_calls(cell_source, names)]


def draws_in_a_loop(cell_source: str, names: dict[str, str]) -> bool:
    """Whether one of the cell's drawing calls sits in a ``for`` or ``while`` loop (or a
    comprehension): then it may show more pictures than it has calls."""
    return any(in_loop for _, in_loop in _drawing_calls(cell_source, names))


LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
         ast.GeneratorExp)


def _drawing_calls(cell_source: str, names: dict[str, str]) -> list[tuple[str, bool]]:
    calls = []

    def visit(node, in_loop: bool):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return
        if isinstance(node, ast.Call):
            written = dotted_name(node.func)
            if written:
                head, _, rest = written.partition(".")
                if head in names:
                    target = resolve(names[head] + (f".{rest}" if rest else ""))
                    if target is not None and id(target) in drawing_functions():
                        calls.append((drawing_functions()[id(target)], in_loop))
        for child in ast.iter_child_nodes(node):
            visit(child, in_loop or isinstance(node, LOOPS))

    visit(python_source(cell_source), False)
    return calls


def shown_pictures(cell) -> int:
    """Pictures and explorer views in a cell's outputs: ``<img>`` tags, PNG outputs, widgets."""
    return shown_figures(cell) + sum(WIDGET_VIEW in output.get("data", {})
                                     for output in cell.get("outputs", []))


def shown_figures(cell) -> int:
    """Figures in a cell's outputs: ``<img>`` tags and PNG outputs (widget views not counted:
    an explorer, but also a progress bar)."""
    count = 0
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        count += len(re.findall(r"<img\b", data.get("text/html", "")))
        count += "image/png" in data
    return count
