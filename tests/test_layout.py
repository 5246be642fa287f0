"""The folder tree is the architecture: every module imports, and imports only go down.

Four layers (docs/layout.md), each importing only the layers before it in this list:

1. the lessons' layer: ``course_utils.<module>`` and ``course_utils.reference`` / ``widgets``;
2. ``course_utils.cifar10``;
3. ``course_utils.grading``;
4. ``course_utils.instructor``.

Inside a layer, the modules form a one-way graph too: no import circle anywhere (imports inside
functions count: a circle hidden in a function is still a circle), and each explorer in
``widgets/`` imports only ``widgets.base`` and the lessons' modules it draws with. The
instructor layer is rooms: ``untrusted/`` (what a student hands in, handled safely; imports no
other room), ``sandbox/`` (no grading at all), ``trusted/`` (may use the sandbox), ``lms/`` and
``exchange/`` (use neither), ``report/`` (reads what grading recorded: uses ``lms``), and the
commands at its top, which may use them all.
The import graph is read from the source (``ast``), so a lazy import cannot hide an arrow.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import course_utils

PACKAGE = Path(course_utils.__file__).parent
LAYERS = ("lessons", "cifar10", "grading", "instructor")
#: The instructor layer's rooms, and the rooms each may import (the commands at the top: all).
ROOMS = {"untrusted": set(), "sandbox": set(), "trusted": {"sandbox", "untrusted"}, "lms": {"untrusted"},
         "exchange": {"untrusted"}, "report": {"lms", "untrusted"}}
#: What an explorer may import from the course (besides widgets.base).
EXPLORER_MAY_IMPORT = ("course_utils.plotting", "course_utils.reference", "course_utils.images",
                       "course_utils.kernels")
#: Modules of the lessons' layer that compare with PyTorch, and may import it.
LESSON_MODULES_WITH_TORCH = {"course_utils.numpy_cnn"}


def all_modules() -> list[str]:
    names = ["course_utils"]
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="course_utils."):
        names.append(info.name)
    return sorted(names)


def source_path(module: str) -> Path:
    relative = Path(*module.split(".")[1:])
    package = PACKAGE / relative / "__init__.py"
    return package if package.exists() else (PACKAGE / relative).with_suffix(".py")


def imported_names(module: str) -> set[str]:
    """Every module ``module`` imports anywhere in its source (top level or inside functions),
    resolved to full names; ``from X import y`` counts as ``X.y`` when that is a module (and as
    ``X`` when ``y`` is a name defined in ``X``)."""
    tree = ast.parse(source_path(module).read_text(encoding="utf-8"))
    is_package = source_path(module).name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            submodules = {f"{stem}.{alias.name}" for alias in node.names} & MODULES
            found.update(submodules)
            if len(submodules) < len(node.names):  # a name from the module itself
                found.add(stem)
    return found


MODULES = set(all_modules())


def course_imports(module: str) -> set[str]:
    """The course's own modules that ``module`` imports (packages' ``__init__`` not counted as
    an arrow to their contents)."""
    return {name for name in imported_names(module) if name in MODULES and name != module}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS[1:]:
        return parts[1]
    return "lessons"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_imports(module):
    importlib.import_module(module)


@pytest.mark.parametrize("module", sorted(MODULES - {"course_utils"}))
def test_imports_only_go_down_the_layers(module):
    upward = [name for name in course_imports(module)
              if name != "course_utils" and LAYERS.index(layer(name)) > LAYERS.index(layer(module))]
    assert not upward, f"{module} ({layer(module)}) imports {upward} from a layer above it"


def room(module: str) -> str | None:
    """``sandbox``, ``trusted``, ``lms`` or ``report`` for a module in that room of the instructor layer;
    ``"commands"`` for the instructor layer's top-level modules and a room's ``__main__`` (``python
    -m course_utils.instructor.report`` is a command that lives beside its room); None outside the
    layer."""
    parts = module.split(".")
    if parts[:2] != ["course_utils", "instructor"]:
        return None
    if parts[-1] == "__main__":
        return "commands"
    return parts[2] if len(parts) > 3 or (len(parts) == 3 and parts[2] in ROOMS) else "commands"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if room(m) in ROOMS))
def test_each_instructor_room_imports_only_the_rooms_below_it(module):
    mine = room(module)
    allowed = ROOMS[mine] | {mine}
    crossing = sorted(name for name in course_imports(module) if room(name) not in (None, *allowed)
                      and name != "course_utils.instructor")
    assert not crossing, f"{module} (room {mine}) imports {crossing}; it may use only {sorted(allowed)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if room(m) == "sandbox"))
def test_the_sandbox_knows_nothing_of_grading(module):
    grading = sorted(name for name in course_imports(module) if layer(name) == "grading")
    assert not grading, f"{module} imports {grading}: the sandbox runs commands, it does not grade"


def test_the_instructor_package_names_where_a_score_is_decided_and_every_room():
    import course_utils.instructor as instructor
    from course_utils.instructor.trusted import verdict

    text = instructor.__doc__
    assert "course_utils.instructor.trusted.verdict.score_cell" in text and callable(verdict.score_cell)
    folders = sorted(path.name for path in (PACKAGE / "instructor").iterdir()
                     if path.is_dir() and (path / "__init__.py").exists())
    assert folders == sorted(ROOMS)
    for name in [*folders, *(path.stem for path in (PACKAGE / "instructor").glob("*.py") if path.stem != "__init__")]:
        assert f"``{name}" in text, f"course_utils/instructor/__init__.py does not name {name}"
    for folder in folders:
        room_doc = importlib.import_module(f"course_utils.instructor.{folder}").__doc__ or ""
        modules = [path.stem for path in (PACKAGE / "instructor" / folder).glob("*.py") if path.stem != "__init__"]
        missing = [name for name in modules if name not in room_doc]
        assert not missing, f"course_utils/instructor/{folder}/__init__.py does not name {missing}"


def test_there_is_no_import_circle():
    graph = {module: course_imports(module) - {"course_utils"} for module in MODULES}
    # a package's __init__ importing its own modules is "down"; a module importing its package
    # (to reach a sibling) would close a circle through the __init__, and counts.
    seen, path, circles = set(), [], []

    def visit(module):
        if module in path:
            circles.append(path[path.index(module):] + [module])
            return
        if module in seen:
            return
        seen.add(module)
        path.append(module)
        for target in sorted(graph.get(module, ())):
            visit(target)
        path.pop()

    for module in sorted(graph):
        visit(module)
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("course_utils.widgets.")
                                          and m != "course_utils.widgets.base"))
def test_each_explorer_imports_only_base_and_the_lessons_drawing_modules(module):
    allowed = ("course_utils.widgets.base", *EXPLORER_MAY_IMPORT)
    sideways = [name for name in course_imports(module)
                if name != "course_utils" and not any(name == a or name.startswith(a + ".") for a in allowed)]
    assert not sideways, f"{module} imports {sideways}; an explorer imports only {allowed}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == "lessons"))
def test_the_lessons_layer_needs_no_torch_except_to_compare(module):
    uses_torch = any(name == "torch" or name.startswith("torch.") for name in imported_names(module))
    assert not uses_torch or module in LESSON_MODULES_WITH_TORCH, f"{module} imports torch"


def test_the_judge_imports_only_specs_cases_comparison_and_reference():
    allowed = ("course_utils.grading.specs", "course_utils.grading.cases",
               "course_utils.grading.compare", "course_utils.grading.wire", "course_utils.grading.flags",
               "course_utils.reference", "course_utils.gradcheck",
               "course_utils.images", "course_utils.kernels")
    used = course_imports("course_utils.grading.judge")
    assert all(any(name == a or name.startswith(a + ".") for a in allowed) for name in used), used


def test_instructor_tools_find_the_course_from_the_current_folder_not_from_their_own_file():
    """A file of the package may name its neighbours (``Path(__file__).with_name(...)``), but the
    course's root is where nbgrader_config.py is, never a folder above the package."""
    import re

    climbing = re.compile(r"__file__\)?(\.resolve\(\))?\.(parents\[|parent\.parent)")
    for path in (PACKAGE / "instructor").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not climbing.search(text), f"{path.name} climbs from __file__ to find the course"
