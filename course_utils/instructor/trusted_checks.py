"""The trusted check of a submission: the student's code runs sandboxed, the verdict is decided here.

For every graded function -- every ``grading.check_<name>(<function>)`` call in a test cell,
read from the test cells as the gradebook restored them -- :func:`check_notebook`

1. writes a job folder (private, outside the course): the notebook's code cells as plain
   Python (IPython's magics turned into calls that do nothing), which cells lie above each
   function's test cell (test cells excluded), and the inputs of the function's visible and
   hidden cases (:mod:`course_utils.grading.wire`: JSON and ``.npy``, never pickle);
2. runs :mod:`course_utils.instructor.check_runner` on it in the checking sandbox
   (:mod:`course_utils.instructor.numpy_checker`: the standard library and numpy, nothing of
   the course, no network, limits on CPU, memory, processes and files) -- or, with the sandbox
   switched off, in a plain isolated Python with the same import guard;
3. reads the answers back (data only, sizes capped) and judges each one with
   :func:`course_utils.grading.compare.judge_case` against :mod:`course_utils.reference`, in
   this process, where no student code ever ran, and scores the function by named groups
   (:func:`course_utils.grading.scoring.score`).

A runner killed by the code it runs (``os.kill(os.getppid(), 9)``) is started again for the
functions after the one it was checking; each function's failure keeps its reason.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading import wire
from course_utils.instructor import check_runner
from course_utils.grading.cases import CHECKS
from course_utils.grading.compare import Judgment, failed, judge_case, wrap_lines
from course_utils.grading.scoring import Verdict, score
from course_utils.grading.specs import Case, Check

#: Seconds one function may take in the checking process: running the cells above its test
#: cell and all its cases (a right loop solution needs a fifth of a second; plain Python loops
#: without numpy, under one).
FUNCTION_SECONDS = 6.0
#: The most a runner may write back per function (answers and inputs after the call).
MAX_RESULT_BYTES = 64 * 2**20
RUNNER = Path(check_runner.__file__)  # run as a file in the checking process, never imported there
GUARD = RUNNER.with_name("import_guard.py")
WIRE = Path(wire.__file__)


@dataclass(frozen=True)
class GradedFunction:
    """One ``grading.check_<name>(<variable>)`` in test cell ``test_cell`` (a ``grade_id``)."""

    check: Check
    variable: str
    test_cell: str
    cells: tuple[int, ...]  # indices of the code cells above the test cell, test cells excluded

    @functools.cached_property
    def cases(self) -> list[Case]:
        """The visible cases, then the hidden ones (built once: the same every time)."""
        return self.check.visible() + self.check.hidden()

    @functools.cached_property
    def visible_count(self) -> int:
        return len(self.check.visible())


@dataclass
class FunctionResult:
    """The trusted verdict on one graded function, and what happened while it was checked."""

    function: GradedFunction
    verdict: Verdict
    notes: list[str] = field(default_factory=list)  # e.g. "stopped after 10 s in case 'stride 2'"
    visible_passed: bool = False  # every visible case right: what the kernel's test cell checked


def is_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def graded_functions(notebook) -> list[GradedFunction]:
    """Every check the test cells call, in notebook order (a function checked twice -- visible
    and hidden -- counts once)."""
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
                functions.append(GradedFunction(CHECKS[name], variable, grade_id, tuple(above)))
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


def python_source(source: str) -> str:
    """A cell's source as plain Python: IPython's magics and ``!commands`` become calls (which
    do nothing in the checking process)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # a cell IPython cannot read either: run it as it is, it will fail there
        return source


def write_job(folder: Path, notebook, functions: list[GradedFunction], seconds: float) -> None:
    """The job folder :mod:`~course_utils.instructor.check_runner` reads."""
    needed = sorted({index for function in functions for index in function.cells})
    cells = []
    for index in needed:
        cell = notebook["cells"][index]
        locked = bool(cell["metadata"].get("nbgrader", {}).get("locked"))
        cells.append({"index": index, "source": python_source(_source(cell)), "locked": locked})
    entries = []
    for k, function in enumerate(functions):
        arrays: list = []
        cases = function.cases
        payload = [{"name": case.name, "args": wire.encode(tuple(case.args), arrays),
                    "kwargs": wire.encode(dict(case.kwargs), arrays)} for case in cases]
        wire.write(str(folder), f"cases-{k}", payload, arrays)
        entries.append({"k": k, "name": function.check.function, "variable": function.variable,
                        "cells": list(function.cells), "seconds": seconds})
    (folder / "job.json").write_text(json.dumps({"cells": cells, "functions": entries}), encoding="utf-8")


def check_notebook(notebook, *, sandboxed: bool = True, seconds: float = FUNCTION_SECONDS,
                   keep: Path | None = None) -> list[FunctionResult]:
    """Check every graded function of ``notebook`` (an nbformat notebook or its dict) as the
    module docstring says; one :class:`FunctionResult` per function, in notebook order.

    ``sandboxed=False`` runs the checking process without the sandbox (the import guard and the
    fresh isolated interpreter still apply). ``keep``: copy the job folder there (to debug)."""
    return TrustedCheck.start(notebook, sandboxed=sandboxed, seconds=seconds, keep=keep).results()


class TrustedCheck:
    """A check of one notebook running in a thread of this process (its checking process runs
    while the kernel runs the notebook: the grade needs both). :meth:`start` writes the job at
    once, from the notebook as it is then; :meth:`results` waits and returns the verdicts."""

    def __init__(self, folder: Path | None, functions: list[GradedFunction], sandboxed: bool,
                 seconds: float, keep: Path | None):
        self.folder, self.functions, self.sandboxed, self.seconds, self.keep = folder, functions, sandboxed, seconds, keep
        self._results: list[FunctionResult] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="trusted-check")

    @classmethod
    def start(cls, notebook, *, sandboxed: bool = True, seconds: float = FUNCTION_SECONDS,
              keep: Path | None = None) -> TrustedCheck:
        functions = graded_functions(notebook)
        folder = None
        if functions:
            folder = Path(tempfile.mkdtemp(prefix="course-check-"))
            write_job(folder, notebook, functions, seconds)
        check = cls(folder, functions, sandboxed, seconds, keep)
        check._thread.start()
        return check

    def results(self) -> list[FunctionResult]:
        """The verdicts, in notebook order (waits for the checking process); raises what the
        check raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._results

    def _run(self) -> None:
        if not self.functions:
            self._results = []
            return
        try:
            self._results = self._check()
        except BaseException as error:  # handed to whoever asks for the results
            self._error = error
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _check(self) -> list[FunctionResult]:
        folder, functions = self.folder, self.functions
        start, restarts = 0, []
        while start < len(functions):
            ended = run_runner(folder, start, self.sandboxed, timeout=self.seconds * (len(functions) - start) + 60)
            done = [k for k in range(len(functions)) if (folder / f"result-{k}.json").exists()]
            missing = [k for k in range(start, len(functions)) if k not in done]
            if not missing:
                break
            first = missing[0]  # the runner itself died while this function was checked
            restarts.append((first, ended))
            start = first + 1
        results = [judge_function(folder, k, function, restarts) for k, function in enumerate(functions)]
        if self.keep is not None:
            shutil.copytree(folder, self.keep, dirs_exist_ok=True)
        return results


def run_runner(folder: Path, start: int, sandboxed: bool, timeout: float) -> str:
    """Run the checking process on ``folder`` from function ``start`` on; how it ended, in words.

    The runner, :mod:`~course_utils.grading.wire` and the import guard are copied into the job
    folder and run from there, as top-level modules: nothing of the course package is on the
    checking process's path.
    """
    from course_utils.instructor import numpy_checker, sandbox

    code = folder / ".runner"
    code.mkdir(exist_ok=True)
    for source in (RUNNER, WIRE, GUARD):
        shutil.copy(source, code / source.name)
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    library = numpy_checker.LIBRARY if sandboxed else _numpy_parent()
    bootstrap = (f"import sys; sys.path[:0] = [{str(code)!r}, {library!r}]; "
                 "sys.argv = sys.argv[1:]; import runpy; runpy.run_path(sys.argv[0], run_name='__main__')")
    command = [numpy_checker.base_python(), "-I", "-S", "-c", bootstrap, str(code / RUNNER.name),
               str(folder), str(start)]
    if sandboxed:
        box = numpy_checker.numpy_checker_sandbox(str(folder), env=env, limits=check_limits())
        result = sandbox.run(command, box, timeout=timeout)
        return "ok" if result.returncode == 0 else (result.reason or f"exit {result.returncode}")
    try:
        completed = subprocess.run(command, cwd=folder, env={**env, "PATH": os.defpath, "HOME": str(folder)},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"still running after {timeout:g} s"
    return "ok" if completed.returncode == 0 else f"exit {completed.returncode}"


def check_limits():
    """The checking process's limits: per process CPU (each function's child has its own),
    memory, file size, processes, scratch space."""
    from course_utils.instructor.sandbox import GiB, MiB, Limits

    return Limits(cpu_seconds=int(2 * FUNCTION_SECONDS) + 10, memory_bytes=2 * GiB, file_bytes=256 * MiB,
                  processes=64, scratch_bytes=256 * MiB)


def _numpy_parent() -> str:
    """The folder that holds numpy (for the unsandboxed checking process: the guard then keeps
    the other packages in that folder out)."""
    import importlib.util

    spec = importlib.util.find_spec("numpy")
    return os.path.dirname(os.path.realpath(next(iter(spec.submodule_search_locations))))


def judge_function(folder: Path, k: int, function: GradedFunction, restarts) -> FunctionResult:
    """Judge function ``k``'s answers from ``result-<k>`` against the reference, in this process."""
    check = function.check
    cases = function.cases
    notes: list[str] = []
    try:
        payload, arrays = wire.read(str(folder), f"result-{k}", max_bytes=MAX_RESULT_BYTES)
    except FileNotFoundError:
        why = next((ended for first, ended in restarts if first == k), "no result")
        payload, arrays = {"stopped": f"the checking process was killed ({why})", "where": ""}, []
    except (OSError, ValueError) as error:
        payload, arrays = {"stopped": f"its result could not be read ({error})", "where": ""}, []
    if "stopped" in payload:
        reason = stopped_reason(check.function, payload["stopped"], payload.get("where", ""))
        notes.append(reason)
        judged = [[(case, failed(case, reason)) for case in cases] for _ in check.specs]
        return FunctionResult(function, score(check, judged, reason), notes)
    answers = payload.get("answers", [])
    answers = [entry for entry in answers if isinstance(entry, dict)] if isinstance(answers, list) else []
    delegated = next((entry["raised"] for entry in answers if _delegated(entry.get("raised"))), None)
    if delegated is not None:  # using a banned library costs the whole function
        reason = delegation_message(check.function, str(delegated.get("message", "")))
        notes.append(" ".join(reason.split()).split(". In this assignment")[0])
        judged = [[(case, failed(case, reason)) for case in cases] for _ in check.specs]
        return FunctionResult(function, score(check, judged, reason), notes)
    warned = [text for entry in answers for text in entry.get("warnings", []) if isinstance(text, str)]
    if warned:
        shown = "; ".join(list(dict.fromkeys(warned))[:3])
        notes.append(f"{check.function} warned while it was checked: {shown} (a warning alone costs no "
                     "points, but read it)")
    for error in payload.get("cell_errors", [])[:3]:
        notes.append(f"cell {error['cell']}: {error['error']['type']}: {error['error']['message'][:160]}")
    judged = []
    for index, spec in enumerate(check.specs):
        pairs = []
        for position, case in enumerate(cases):  # in order: names repeat (visible and hidden)
            entry = answers[position] if position < len(answers) else None
            if not isinstance(entry, dict) or entry.get("case") != case.name:
                entry = None
            pairs.append((case, _judge_entry(check, index, spec, case, entry, arrays)))
        judged.append(pairs)
    visible = function.visible_count
    visible_passed = all(judgment.right for pairs in judged for _, judgment in pairs[:visible])
    return FunctionResult(function, score(check, judged), notes, visible_passed)


def _judge_entry(check: Check, index: int, spec, case: Case, entry: dict | None, arrays) -> Judgment:
    shown = Case(f"{case.name} [{check.outputs[index]}]", case.args, case.kwargs, case.group) \
        if check.outputs else case
    if entry is None:
        return failed(shown, f"{check.function}: no answer came back for the check '{case.name}'")
    if "missing" in entry:
        return failed(shown, f"{check.function} could not be checked: {entry['missing']}.")
    if "raised" in entry:
        raised = entry["raised"]
        text = f"{check.function} raised {raised['type']}: {raised['message'][:300]} in the check '{case.name}'"
        if raised.get("traceback"):
            text += "\n" + raised["traceback"].rstrip()
        return failed(shown, text)
    try:
        got = wire.decode(entry["got"], arrays)
        args = wire.decode(entry["args_after"], arrays)
        kwargs = wire.decode(entry["kwargs_after"], arrays)
    except (KeyError, IndexError, TypeError) as error:
        return failed(shown, f"{check.function}: its answer to '{case.name}' could not be read ({error})")
    if check.outputs:
        if not (isinstance(got, (tuple, list)) and len(got) == len(check.outputs)):
            return failed(shown, f"{check.function} must return the {len(check.outputs)} {check.outputs_are} "
                                 f"as a tuple (return {', '.join(check.outputs)})")
        got = got[index]
    if not isinstance(args, tuple) or not isinstance(kwargs, dict):
        return failed(shown, f"{check.function}: the inputs after the call could not be read")
    return judge_case(spec, shown, got, args, kwargs)


def _delegated(raised) -> bool:
    """Did a call end by reaching a banned library (refused by the guard, or absent)?"""
    from course_utils.grading.delegation import BANNED_PACKAGES

    if not isinstance(raised, dict):
        return False
    if raised.get("type") == "DelegationError":
        return True
    message = str(raised.get("message", ""))
    return raised.get("type") == "ModuleNotFoundError" and any(
        f"'{package}'" in message or f"'{package}." in message for package in BANNED_PACKAGES)


def delegation_message(function: str, refused: str) -> str:
    """What a student reads when their function reached a banned library in the checking process."""
    from course_utils.grading.delegation import ADVICE

    words = refused.split()
    if words[:2] == ["import", "of"] and len(words) > 2:  # the import guard's "import of torch refused: ..."
        refused = f"it uses `import {words[2]}` (refused here)"
    return wrap_lines([f"DelegationError: {function} delegates instead of computing: {refused}.", ADVICE])


def stopped_reason(function: str, stopped: str, where: str) -> str:
    """One plain line: which function, what stopped it, where it was, what to look for."""
    kind, _, detail = stopped.partition(": ")
    place = f" while running {where}" if where and where != "started" else ""
    if kind == "timeout":
        return (f"{function} was stopped: {detail}{place}. A right answer takes well under a "
                "second: look for a loop that never ends.")
    return f"{function} could not be checked: {detail or stopped}{place}."
