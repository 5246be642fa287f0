"""The checking process: runs a submission's own code as the kernel did, checks each graded function, hands back data.

    python -I -S checking_process.py JOB [START]   (in the checking sandbox; started by
                                                  course_utils.instructor.trusted.answers)

This file runs where nothing of the course exists: the sandbox holds the standard library,
numpy, this file, :mod:`course_utils.grading.wire` and the import guard (as top-level modules),
and the job folder ``JOB``, which the trusted grader wrote:

* ``job.json``: the notebook's code cells that are not test cells (their source, already plain
  Python), per graded function its name and the test cell it is checked at, the seconds one
  cell may take (the kernel's cell timeout) and the seconds one function's cases may take;
* ``cases-<k>.json`` / ``.npy``: the inputs of function ``k``'s cases (visible and hidden).

Time is judged as the kernel judges it. A child process runs the cells in notebook order, each
under the kernel's own per-cell limit, statement by statement (a statement that fails -- an
import the checker does not offer, say -- is recorded and the next one runs), and each cell
once; when it reaches a function's test cell it calls the function on every case, under the
function's own case budget, and writes ``result-<k>.json`` / ``.npy`` (per case the answer and
the inputs after the call, or the exception) and ``cells-<k>.json`` (what failed in the cells so
far, and which names their failed imports would have bound). The parent (which runs no student
code) watches the child: a cell past its limit that the child could not stop, or cases past
their budget, get the child killed; the functions still to check are checked by a new child
that leaves out the cell that never ended. Code that crashes or exits costs only the functions
from there on.

Nothing here decides a score: the trusted grader reads these files (data only, sizes capped) and
judges every answer against ``course_utils.reference`` in a process where no student code ran.
"""

import ast
import builtins
import json
import os
import signal
import sys
import time
import traceback
import types
import warnings

JOB = "."  # the job folder, set by main() from the command line
MAX_TRACEBACK = 20  # lines of a student's traceback kept in a record
GRACE = 2.0  # seconds the parent waits past a limit the child should have stopped itself at
#: Libraries a notebook may use for its own sake and the checker does not offer, given as
#: stand-ins that do nothing (tqdm's progress bars pass their iterable through).
STAND_INS = ("tqdm", "tqdm.auto", "tqdm.notebook", "tqdm.std")


def main(argv: list[str]) -> int:
    """``argv``: the job folder, and the first function to check (0; more after a restart)."""
    global JOB
    JOB = argv[0]
    start = int(argv[1]) if len(argv) > 1 else 0
    import import_guard

    import_guard.install(allow_processes=True)  # before numpy: it then runs without ctypes
    sys.meta_path.insert(0, _RefuseBanned(import_guard))
    sys.meta_path.insert(0, _StandIns())
    import numpy as np
    import wire

    _poison_numpy_convolutions(np)
    with open(os.path.join(JOB, "job.json"), encoding="utf-8") as handle:
        job = json.load(handle)
    skipped: dict[int, str] = {}  # cell index -> why it is left out (it never ended)
    functions = job["functions"]
    while start < len(functions):
        _mark({"at": "start"})
        child = os.fork()
        if child == 0:  # the child runs the student's code and never returns here
            code = 1
            try:
                os.setpgid(0, 0)
                sys.addaudithook(_refuse_processes_and_signals)
                code = run_notebook(job, start, skipped, np, wire)
            finally:
                os._exit(code)
        stopped = _watch(child, job)
        done = [k for k in range(start, len(functions)) if os.path.exists(_path(functions[k], "json"))]
        missing = [k for k in range(start, len(functions)) if k not in done]
        if not missing:
            break
        if stopped and stopped["at"] == "cell":  # a cell that never ended: left out next time
            skipped[stopped["index"]] = (f"did not end within {job['cell_seconds']:g} s (the kernel's limit "
                                         "for a cell) and could not be stopped")
            start = missing[0]
            continue
        first = missing[0]
        if stopped and stopped["at"] == "case":
            first = stopped["k"]
            _write_stopped(functions[first], f"timeout: still running after {job['case_seconds']:g} s",
                           f"case {stopped['case']}", wire)
        else:
            _write_stopped(functions[first], stopped["why"] if stopped else "exit: the checking process ended early",
                           stopped.get("where", "") if stopped else "", wire)
        start = first + 1
    return 0


# --- in the child ---------------------------------------------------------------------------

def _refuse_processes_and_signals(event, args, refused=frozenset({
        "os.fork", "os.forkpty", "os.kill", "os.killpg", "signal.pthread_kill", "os.system",
        "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen", "pty.spawn"})):
    """The child's own audit hook (added after the fork, never removed): the student's code may
    start no process and signal none -- a fork bomb or ``os.kill(os.getppid(), 9)`` fails as a
    statement of its cell, and the checking goes on."""
    if event in refused:
        raise PermissionError(f"{event} refused while a function is checked")


class CellTimeout(BaseException):
    """A cell (or a function's cases) ran past its limit (raised by SIGALRM)."""


def _alarm(seconds: float):
    def stop(signum, frame):
        raise CellTimeout(f"still running after {seconds:g} s")

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _no_alarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


def run_notebook(job: dict, start: int, skipped: dict, np, wire) -> int:
    """Run the cells in order, each once, under the per-cell limit; at each graded function's
    test cell, check that function. Writes ``result-<k>`` and ``cells-<k>`` per function."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # what the student's code prints is not needed here
    os.dup2(devnull, 2)
    namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _NoIPython,
                 "display": lambda *args, **kwargs: None}
    record = {"cell_errors": [], "unavailable": {}}  # unavailable: name -> "banned" / "not offered"
    cells = sorted(job["cells"], key=lambda cell: cell["index"])
    position = 0
    for function in job["functions"][start:]:
        while position < len(cells) and cells[position]["index"] < function["test_cell"]:
            cell = cells[position]
            position += 1
            if cell["index"] in skipped:
                record["cell_errors"].append({"cell": cell["index"] + 1, "kind": "stopped",
                                              "error": {"type": "CellTimeout", "message": skipped[cell["index"]]}})
                continue
            _mark({"at": "cell", "index": cell["index"]})
            run_cell(cell, namespace, record, job["cell_seconds"])
        _write_record(function, record)
        check_function(function, namespace, record, job["case_seconds"], np, wire)
    return 0


def run_cell(cell: dict, namespace: dict, record: dict, seconds: float) -> None:
    """Execute one cell's top-level statements one by one, within ``seconds`` in all (as the
    kernel's cell limit); record each failure, and the names a failed import would have bound.

    A locked cell (the setup cell) runs with the course package replaced by a stand-in: its
    ``from course_utils import grading`` binds a ``grading`` whose every use is refused.
    """
    where = f"<cell {cell['index'] + 1}>"
    try:
        tree = ast.parse(cell["source"], filename=where)
    except SyntaxError as error:
        record["cell_errors"].append({"cell": cell["index"] + 1, "kind": "error", "error": _describe(error)})
        return
    stubs = _course_stand_in() if cell.get("locked") else {}
    sys.modules.update(stubs)
    _alarm(seconds)
    try:
        for statement in tree.body:
            code = compile(ast.Module([statement], []), where, "exec")
            try:
                exec(code, namespace)
            except CellTimeout as error:
                record["cell_errors"].append({"cell": cell["index"] + 1, "kind": "stopped", "line": statement.lineno,
                                              "error": {"type": "CellTimeout", "message": f"{error} (the kernel's "
                                                        "limit for a cell); the rest of the cell was not run"}})
                break
            except BaseException as error:  # noqa: B036 -- a SystemExit in a cell is the student's
                kind = _classify(statement, error, record)
                record["cell_errors"].append({"cell": cell["index"] + 1, "kind": kind, "line": statement.lineno,
                                              "error": _describe(error)})
    except CellTimeout:  # the alarm between two statements
        pass
    finally:
        _no_alarm()
        for name in stubs:
            sys.modules.pop(name, None)


def _classify(statement, error, record: dict) -> str:
    """``"banned"`` (a refused library), ``"not offered"`` (an import, or a name only such an
    import binds -- or a statement that needed one -- the checker does not have), or ``"error"``
    (the student's own). A statement that fails for a name it cannot have passes that on to the
    names it would have bound (``photo = images.photo()``: ``photo`` too)."""
    kind = "error"
    if isinstance(statement, (ast.Import, ast.ImportFrom)) and isinstance(error, ImportError):
        kind = "banned" if type(error).__name__ == "DelegationError" else "not offered"
    elif isinstance(error, NameError) and getattr(error, "name", None) in record["unavailable"]:
        kind = record["unavailable"][error.name]
    if kind != "error":
        for name in _bound_names(statement):
            record["unavailable"].setdefault(name, kind)
    return kind


def _bound_names(statement) -> list[str]:
    """The names a top-level statement binds (assignments, loops, imports, definitions)."""
    if isinstance(statement, ast.Import):
        return [alias.asname or alias.name.partition(".")[0] for alias in statement.names]
    if isinstance(statement, ast.ImportFrom):
        return [alias.asname or alias.name for alias in statement.names]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    targets = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    elif isinstance(statement, (ast.For, ast.AsyncFor)):
        targets = [statement.target]
    elif isinstance(statement, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in statement.items if item.optional_vars is not None]
    return [node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)]


def check_function(function: dict, namespace: dict, record: dict, seconds: float, np, wire) -> None:
    """Call the function on every case, within ``seconds`` for all of them; write the result."""
    target = namespace.get(function["variable"])
    payload, arrays = wire.read(JOB, f"cases-{function['k']}")
    cases = [(entry["name"], wire.decode(entry["args"], arrays), wire.decode(entry["kwargs"], arrays))
             for entry in payload]
    out_arrays, answers = [], []
    _alarm(seconds)
    try:
        for name, args, kwargs in cases:
            _mark({"at": "case", "k": function["k"], "case": name})
            args = tuple(value.copy() if isinstance(value, np.ndarray) else value for value in args)
            kwargs = {key: value.copy() if isinstance(value, np.ndarray) else value for key, value in kwargs.items()}
            entry = {"case": name}
            started = time.perf_counter()
            if target is None and function["variable"] in record["unavailable"]:
                # bound only by an import the checker does not have (``from helpers import relu``)
                entry["raised"] = {"type": "NameError", "message": f"name '{function['variable']}' is not defined",
                                   "unavailable": record["unavailable"][function["variable"]], "imported": True}
            elif not callable(target):
                entry["missing"] = _missing(function["variable"], target, record)
            else:
                try:
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        got = target(*args, **kwargs)
                    entry["got"] = wire.encode(got, out_arrays)
                    entry["warnings"] = [f"{w.category.__name__}: {w.message}"[:300] for w in caught[:3]]
                except CellTimeout:
                    raise
                except BaseException as error:  # noqa: B036 -- SystemExit too: it is the student's
                    entry["raised"] = _describe(error)
                    if isinstance(error, NameError) and getattr(error, "name", None) in record["unavailable"]:
                        entry["raised"]["unavailable"] = record["unavailable"][error.name]
            entry["seconds"] = round(time.perf_counter() - started, 4)
            entry["args_after"] = wire.encode(args, out_arrays)
            entry["kwargs_after"] = wire.encode(kwargs, out_arrays)
            answers.append(entry)
    except CellTimeout:
        _no_alarm()
        _write_stopped(function, f"timeout: still running after {seconds:g} s", _read_mark().get("case", ""), wire,
                       prefix="case ")
        return
    finally:
        _no_alarm()
    partial = f"result-{function['k']}.partial"
    wire.write(JOB, partial, {"answers": answers}, out_arrays)
    os.replace(os.path.join(JOB, partial + ".npy"), _path(function, "npy"))
    os.replace(os.path.join(JOB, partial + ".json"), _path(function, "json"))


class _RefuseBanned:
    """A finder that names the refusal: ``importlib.import_module("course_utils.reference")`` raises
    no audit event, and those packages are not on disk here, so without it the student would
    read a plain ModuleNotFoundError. (Removing it changes nothing but the message.)"""

    def __init__(self, guard):
        self.guard = guard

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.guard.BANNED:
            raise self.guard.DelegationError(f"import of {name} refused: this code may not use it")
        return None


class _StandIn(types.ModuleType):
    """tqdm here: its progress bars return what they wrap; nothing is drawn."""

    @staticmethod
    def tqdm(iterable=None, *args, **kwargs):
        return iterable if iterable is not None else _NoBar()

    @staticmethod
    def trange(*args, **kwargs):
        return range(*args)


class _NoBar:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _StandIns:
    """A finder that gives the stand-ins of :data:`STAND_INS`."""

    def find_spec(self, name, path=None, target=None):
        if name not in STAND_INS:
            return None
        import importlib.machinery

        return importlib.machinery.ModuleSpec(name, self, is_package=name == "tqdm")

    def create_module(self, spec):
        module = _StandIn(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        return None


class _Refused(types.ModuleType):
    """The setup cell's ``grading`` in the checking process: there is nothing to call."""

    def __getattr__(self, name):
        raise ImportError(f"grading.{name} is not available while a function is checked")


def _course_stand_in() -> dict:
    package = types.ModuleType("course_utils")
    package.__path__ = []
    grading = _Refused("course_utils.grading")
    package.grading = grading
    return {"course_utils": package, "course_utils.grading": grading}


class _NoIPython:
    """``get_ipython()`` in the checking process: magics and shell commands do nothing."""

    def __new__(cls):
        return cls

    @staticmethod
    def run_line_magic(*args, **kwargs):
        return None

    run_cell_magic = system = getoutput = run_line_magic


def _missing(variable: str, value, record: dict) -> str:
    own = [e for e in record["cell_errors"] if e["kind"] == "error"]
    where = "; ".join(f"cell {e['cell']}: {e['error']['type']}: {e['error']['message'][:120]}" for e in own[:3])
    if value is None:
        return (f"{variable} is not defined by the code above its test cell"
                + (f" (errors there: {where})" if where else ""))
    return f"{variable} is not a function but {type(value).__name__}"


def _describe(error: BaseException) -> dict:
    """The exception as data: type, message, and the student's own frames of the traceback."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename.startswith("<cell")]
    lines = traceback.format_list(frames)[-MAX_TRACEBACK:]
    try:
        message = str(error)
    except Exception:  # a student's exception whose __str__ fails
        message = "<message could not be read>"
    return {"type": type(error).__name__, "message": message[:2000], "traceback": "".join(lines)[-4000:]}


def _poison_numpy_convolutions(np) -> None:
    """``np.convolve`` and ``np.correlate`` are another library's convolution here: refused."""
    from import_guard import DelegationError

    def refused(*args, **kwargs):
        raise DelegationError("numpy.convolve / numpy.correlate refused: this code may not use them")

    for module in (np, getattr(np, "_core", None), getattr(getattr(np, "_core", None), "numeric", None),
                   getattr(getattr(np, "_core", None), "multiarray", None)):
        for name in ("convolve", "correlate", "correlate2"):
            if module is not None and hasattr(module, name):
                setattr(module, name, refused)


# --- in the parent ----------------------------------------------------------------------------

def _watch(child: int, job: dict) -> dict | None:
    """Wait for the child; ``None`` if it ended by itself, else what it was doing when it was
    stopped or died (``{"at": "cell", "index": i}``, ``{"at": "case", "k": k, "case": name}``, or
    ``{"at": "end", "why": ...}``).

    The child's marks say where it is, but the times are the parent's own: a step's limit runs
    from when the parent first saw it (a cell, or all the cases of one function), and a step
    seen before does not restart its clock, so code that rewrites the marks gains no time."""
    limits = {"cell": job["cell_seconds"], "case": job["case_seconds"]}
    first_seen: dict[tuple, float] = {}
    current = ("start",)
    while True:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            break
        mark = _read_mark()
        key = ("cell", mark.get("index")) if mark.get("at") == "cell" else \
            ("case", mark.get("k")) if mark.get("at") == "case" else ("start",)
        now = time.monotonic()
        if key not in first_seen:
            first_seen[key] = now
            current = key
        limit = limits.get(current[0], job["cell_seconds"])
        if now - first_seen[current] > limit + GRACE:
            _kill_group(child)
            os.waitpid(child, 0)
            if current[0] == "cell":
                return {"at": "cell", "index": current[1]}
            if current[0] == "case":
                return {"at": "case", "k": current[1], "case": mark.get("case", "") if key == current else ""}
            return {"at": "end", "why": f"timeout: nothing started within {limit:g} s", "where": ""}
        time.sleep(0.005)
    _kill_group(child)  # anything the child started
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return {"at": "end", "why": f"signal: killed by {signal.Signals(number).name}", "where": _where(_read_mark())}
    code = os.WEXITSTATUS(status)
    return None if code == 0 else {"at": "end", "why": f"exit: the process exited with code {code}",
                                   "where": _where(_read_mark())}


def _where(mark: dict) -> str:
    if mark.get("at") == "cell":
        return f"cell {mark['index'] + 1}"
    if mark.get("at") == "case":
        return f"case {mark['case']}"
    return ""


def _kill_group(child: int) -> None:
    try:
        os.killpg(child, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _write_stopped(function: dict, reason: str, where: str, wire, prefix: str = "") -> None:
    wire.write(JOB, f"result-{function['k']}", {"stopped": reason, "where": prefix + where if where else ""}, [])


def _write_record(function: dict, record: dict) -> None:
    with open(os.path.join(JOB, f"cells-{function['k']}.json"), "w", encoding="utf-8") as handle:
        json.dump(record, handle)


def _mark(what: dict) -> None:
    """Where the child is (``{"at": "cell", "index": 3}``): read by the parent."""
    with open(os.path.join(JOB, "progress.json.partial"), "w", encoding="utf-8") as handle:
        json.dump(what, handle)
    os.replace(os.path.join(JOB, "progress.json.partial"), os.path.join(JOB, "progress.json"))


def _read_mark() -> dict:
    try:
        with open(os.path.join(JOB, "progress.json"), encoding="utf-8") as handle:
            mark = json.loads(handle.read(2000))
        return mark if isinstance(mark, dict) else {}
    except (OSError, ValueError):
        return {}


def _path(function: dict, suffix: str) -> str:
    return os.path.join(JOB, f"result-{function['k']}.{suffix}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
