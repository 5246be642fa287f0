"""The student's answers, obtained out of the kernel's reach: a job for the checking process, run sandboxed.

For every graded function -- every ``grading.check_<name>(<function>)`` call in a test cell,
read from the test cells as the gradebook restored them -- :class:`AnswerRun`

1. writes a job folder (private, outside the course): the notebook's code cells as plain
   Python (IPython's magics turned into calls that do nothing), which cells lie above each
   function's test cell (test cells excluded), and the inputs of the function's visible and
   hidden cases (:mod:`course_utils.grading.wire`: JSON and ``.npy``, never pickle);
2. runs :mod:`~course_utils.instructor.sandbox.checking_process` on it in the checking sandbox
   (:mod:`~course_utils.instructor.sandbox.checking_sandbox`) -- or, with the sandbox switched
   off, in a plain isolated Python with the same import guard -- in a thread of this process,
   so that it runs while the kernel runs the notebook;
3. hands the answer files to :func:`course_utils.instructor.trusted.verdict.judge_answers`,
   which decides, in this process, where no student code ever ran.

A checking process killed by the code it runs (``os.kill(os.getppid(), 9)``) is started again
for the functions after the one it was checking; each function's failure keeps its reason.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from course_utils.grading import wire
from course_utils.grading.cases import CHECKS
from course_utils.grading.specs import Case, Check
from course_utils.instructor.sandbox import checking_process, checking_sandbox, import_guard
from course_utils.instructor.sandbox.bubblewrap import GiB, MiB, Limits, run

#: Seconds all of one function's cases may take in the checking process (a right loop solution
#: needs a fifth of a second; plain Python loops without numpy, under one). The cells above the
#: function's test cell are not in it: each of them gets the kernel's own cell limit.
CASE_SECONDS = 6.0
#: A cell's limit when the configuration names none (nbgrader's own default, ``Execute.timeout``).
CELL_SECONDS = 30.0
#: The modules the checking process runs, copied into each job (never imported there).
CHECKING_MODULES = tuple(Path(module.__file__) for module in (checking_process, wire, import_guard))


@dataclass(frozen=True)
class GradedFunction:
    """One ``grading.check_<name>(<variable>)`` in test cell ``test_cell`` (a ``grade_id``)."""

    check: Check
    variable: str
    test_cell: str
    cells: tuple[int, ...]  # indices of the code cells above the test cell, test cells excluded
    test_cell_index: int = 0  # where the test cell is in the notebook
    seed: int | None = None  # the hidden cases' seed (:func:`submission_seed`); None: the published ones

    @functools.cached_property
    def cases(self) -> list[Case]:
        """The visible cases, then the hidden ones drawn from ``seed`` (built once)."""
        return self.check.visible() + self.check.hidden_cases(self.seed)

    @functools.cached_property
    def visible_count(self) -> int:
        return len(self.check.visible())


def is_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def submission_seed(notebook) -> int:
    """The seed the trusted check draws a submission's hidden cases from: a hash of every code
    cell's source. The published hidden cases (``course_utils/grading/cases``, fixed seeds) are
    in every student's copy of the course, so a notebook could hold a table of their answers and
    pass without computing anything; the hidden cases it is graded on are the same kinds of case
    with values that depend on that very notebook -- changing the table changes the cases --,
    and the same submission is graded on the same cases every time."""
    digest = hashlib.sha256()
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "code":
            digest.update(_source(cell).encode("utf-8", "surrogatepass") + b"\0")
    return int.from_bytes(digest.digest()[:8], "big")


def graded_functions(notebook, seed: int | None = None) -> list[GradedFunction]:
    """Every check the test cells call, in notebook order (a function checked twice -- visible
    and hidden -- counts once); ``seed``: where the hidden cases are drawn from (None: the
    published ones)."""
    functions, seen = [], set()
    above: list[int] = []
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") != "code":
            continue
        if not is_test_cell(cell):
            above.append(index)
            continue
        grade_id = cell["metadata"]["nbgrader"].get("grade_id", f"cell {index + 1}")
        for name, variable in _checks_called(_source(cell)):
            if name in CHECKS and (grade_id, name) not in seen:
                seen.add((grade_id, name))
                functions.append(GradedFunction(CHECKS[name], variable, grade_id, tuple(above), index, seed))
    return functions


def _checks_called(source: str) -> list[tuple[str, str]]:
    """``[("conv2d", "conv2d")]`` for ``grading.check_conv2d(conv2d)``: the check and the name of
    the student's function it is given."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr.startswith("check_") and node.args
                and isinstance(node.args[0], ast.Name)):
            found.append((node.func.attr[len("check_"):], node.args[0].id))
    return list(dict.fromkeys(found))


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


#: A line IPython would rewrite: a magic, a shell command (also assigned), help with ``?``.
_IPYTHON_SYNTAX = re.compile(r"^\s*(%|!)|^\s*[\w.]+\s*=\s*[%!]|\?\s*$", re.MULTILINE)


#: Magics whose code IPython runs in the notebook's own namespace, as ordinary code: the checking
#: process runs that code (a ``def`` under ``%%time`` defines the function in the kernel too).
#: Others do nothing there: ``%%timeit`` runs its code in a scope of its own, ``%%bash``,
#: ``%%writefile``, ``%%html`` ... are not Python.
CODE_RUNS = {"time", "capture", "prun"}
_CELL_MAGIC = re.compile(r"\A(?:[ \t]*\n)*%%(?P<name>\w+)[^\n]*(?:\n|\Z)")
_LINE_MAGIC = re.compile(r"^(?P<indent>[ \t]*)%(?P<name>time|prun)[ \t]+(?=\S)", re.MULTILINE)


def python_source(source: str) -> str:
    """A cell's source as plain Python: the code under ``%%time``, ``%%capture`` and ``%%prun``
    (and after ``%time``, ``%prun``) as it is, as IPython runs it; other magics and
    ``!commands`` become calls (which do nothing in the checking process). A cell without such a
    line is returned as it is (IPython's transformer takes seconds on a pasted megabyte of data)."""
    if (magic := _CELL_MAGIC.match(source)) and magic["name"] in CODE_RUNS:
        source = "\n" * magic.group().count("\n") + source[magic.end():]  # line numbers kept
    source = _LINE_MAGIC.sub(lambda match: match["indent"], source)
    if not _IPYTHON_SYNTAX.search(source):
        return source
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # a cell IPython cannot read either: run it as it is, it will fail there
        return source


def write_job(folder: Path, notebook, functions: list[GradedFunction], case_seconds: float,
              cell_seconds: float) -> None:
    """The job folder the checking process reads (see its module docstring)."""
    needed = sorted({index for function in functions for index in function.cells})
    cells = []
    for index in needed:
        cell = notebook["cells"][index]
        locked = bool(cell["metadata"].get("nbgrader", {}).get("locked"))
        cells.append({"index": index, "source": python_source(_source(cell)), "locked": locked})
    entries = []
    for k, function in enumerate(functions):
        arrays: list = []
        payload = [{"name": case.name, "args": wire.encode(tuple(case.args), arrays),
                    "kwargs": wire.encode(dict(case.kwargs), arrays)} for case in function.cases]
        wire.write(str(folder), f"cases-{k}", payload, arrays)
        entries.append({"k": k, "name": function.check.function, "variable": function.variable,
                        "test_cell": function.test_cell_index})
    job = {"cells": cells, "functions": entries, "cell_seconds": cell_seconds, "case_seconds": case_seconds}
    (folder / "job.json").write_text(json.dumps(job), encoding="utf-8")


@dataclass(frozen=True)
class Answers:
    """The answer files of a finished run: ``folder/result-<k>.json``/``.npy`` per function, and
    for a function whose checking process died, how it ended (``restarts``: first function of
    the next run, how the run ended)."""

    folder: Path
    functions: list[GradedFunction]
    restarts: list[tuple[int, str]]


class AnswerRun:
    """The checking process's run on one notebook, in a thread of this process.
    :meth:`start` writes the job at once, from the notebook as it is then; :meth:`judged`
    waits, hands the answers to ``judge`` and removes the job folder."""

    def __init__(self, folder: Path | None, functions: list[GradedFunction], sandboxed: bool, budget: float):
        self.folder, self.functions, self.sandboxed, self.budget = folder, functions, sandboxed, budget
        self._answers: Answers | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="checking-process")

    @classmethod
    def start(cls, notebook, *, sandboxed: bool = True, case_seconds: float = CASE_SECONDS,
              cell_seconds: float = CELL_SECONDS) -> AnswerRun:
        """Write the job and start the checking process on it. ``cell_seconds``: one cell's limit
        (the kernel's); ``case_seconds``: all of one function's cases."""
        functions = graded_functions(notebook, submission_seed(notebook))
        folder = None
        budget = 0.0
        if functions:
            folder = Path(tempfile.mkdtemp(prefix="course-check-"))
            write_job(folder, notebook, functions, case_seconds, cell_seconds)
            cells = len({index for function in functions for index in function.cells})
            budget = cells * cell_seconds + len(functions) * case_seconds
        run_ = cls(folder, functions, sandboxed, budget)
        run_._thread.start()
        return run_

    def judged(self, judge, keep: Path | None = None) -> list:
        """``judge(answers)`` once the run has ended (raises what the run raised); ``keep``: copy
        the job folder there first (to debug)."""
        self._thread.join()
        try:
            if self._error is not None:
                raise self._error
            if self._answers is None:
                return []
            if keep is not None:
                shutil.copytree(self.folder, keep, dirs_exist_ok=True)
            return judge(self._answers)
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self) -> None:
        if not self.functions:
            return
        try:
            start, restarts = 0, []
            while start < len(self.functions):
                ended = run_checking_process(self.folder, start, self.sandboxed, self.budget + 60)
                missing = [k for k in range(start, len(self.functions))
                           if not (self.folder / f"result-{k}.json").exists()]
                if not missing:
                    break
                first = missing[0]  # the checking process itself died while this function was checked
                restarts.append((first, ended))
                start = first + 1
            self._answers = Answers(self.folder, self.functions, restarts)
        except BaseException as error:  # handed to whoever asks for the results
            self._error = error


def run_checking_process(folder: Path, start: int, sandboxed: bool, timeout: float) -> str:
    """Run the checking process on ``folder`` from function ``start`` on; how it ended, in words.

    Its modules are copied into the job folder and run from there, as top-level modules: nothing
    of the course package is on the checking process's path.
    """
    code = folder / ".modules"
    code.mkdir(exist_ok=True)
    for module in CHECKING_MODULES:
        shutil.copy(module, code / module.name)
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = checking_sandbox.checking_command(
        str(code / "checking_process.py"), str(folder), str(start), path=[str(code)],
        library=checking_sandbox.LIBRARY if sandboxed else _numpy_parent(), install_guard=False)
    if sandboxed:
        box = checking_sandbox.checking_sandbox(str(folder), env=env, limits=checking_limits(timeout))
        result = run(command, box, timeout=timeout)
        return "ok" if result.returncode == 0 else (result.reason or f"exit {result.returncode}")
    try:
        completed = subprocess.run(command, cwd=folder, env={**env, "PATH": os.defpath, "HOME": str(folder)},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"still running after {timeout:g} s"
    return "ok" if completed.returncode == 0 else f"exit {completed.returncode}"


def checking_limits(seconds: float) -> Limits:
    """The checking process's limits: CPU time per process (the run's whole time budget), memory
    as the kernel has it (8 GiB of address space), file size, processes, scratch space."""
    return Limits(cpu_seconds=int(seconds) + 10, memory_bytes=8 * GiB, file_bytes=256 * MiB,
                  processes=64, scratch_bytes=256 * MiB)


def _numpy_parent() -> str:
    """The folder that holds numpy (for the unsandboxed checking process: the guard then keeps
    the other packages in that folder out)."""
    import importlib.util

    spec = importlib.util.find_spec("numpy")
    return os.path.dirname(os.path.realpath(next(iter(spec.submodule_search_locations))))
