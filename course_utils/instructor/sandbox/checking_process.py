"""The checking process: runs a submission's own code, one graded function at a time, hands back data.

    python -I -S checking_process.py JOB [START]   (in the checking sandbox; started by
                                                  course_utils.instructor.trusted.answers)

This file runs where nothing of the course exists: the sandbox holds the standard library,
numpy, this file, :mod:`course_utils.grading.wire` and the import guard (as top-level modules),
and the job folder ``JOB``, which the trusted grader wrote:

* ``job.json``: the notebook's code cells (their source, already plain Python), and per graded
  function its name, the cells above its test cell, and a per-function time budget;
* ``cases-<k>.json`` / ``.npy``: the inputs of function ``k``'s cases (visible and hidden).

For every function, in notebook order, a fresh child process (``fork``) runs the cells above
that function's test cell -- test cells excluded; a locked cell (the setup cell) with the
course's ``grading`` replaced by a stand-in that does nothing -- statement by statement (a
statement that fails, e.g. importing a package the checker does not have, is recorded and the
next one runs), then calls the function on every case and writes ``result-<k>.json`` /
``.npy``: per case the answer and the inputs after the call, or the exception. So a child holds
only the code above its own test cell, and code that crashes, exits or loops forever in a later
cell costs only the functions from there on. The parent (which runs no student code) stops a
child that runs past its budget and records why a child ended early (a signal, an exit). The
import guard refuses the banned libraries in every child, however the import is spelled.

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


def main(argv: list[str]) -> int:
    """``argv``: the job folder, and the first function to check (0; more after a restart)."""
    global JOB
    JOB = argv[0]
    start = int(argv[1]) if len(argv) > 1 else 0
    import import_guard

    import_guard.install(allow_processes=True)  # before numpy: it then runs without ctypes
    sys.meta_path.insert(0, _RefuseBanned(import_guard))
    import numpy as np
    import wire

    _poison_numpy_convolutions(np)
    with open(os.path.join(JOB, "job.json"), encoding="utf-8") as handle:
        job = json.load(handle)
    for function in job["functions"][start:]:
        _mark(function, "started")
        child = os.fork()
        if child == 0:  # the child runs the student's code and never returns here
            code = 1
            try:
                os.setpgid(0, 0)
                sys.addaudithook(_refuse_processes_and_signals)
                code = check_function(job, function, np, wire)
            finally:
                os._exit(code)
        reason = _wait(child, function["seconds"])
        if reason is not None:
            _write_stopped(function, reason, wire)
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


def check_function(job: dict, function: dict, np, wire) -> int:
    """Run the cells above the function's test cell, then its cases; write the result file."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # what the student's code prints is not needed here
    os.dup2(devnull, 2)
    namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _NoIPython,
                 "display": lambda *args, **kwargs: None}
    cell_errors = []
    for cell in job["cells"]:
        if cell["index"] in function["cells"]:
            _mark(function, f"cell {cell['index'] + 1}")
            cell_errors += run_cell(cell, namespace)
    target = namespace.get(function["variable"])
    payload, arrays = wire.read(JOB, f"cases-{function['k']}")
    cases = [(entry["name"], wire.decode(entry["args"], arrays), wire.decode(entry["kwargs"], arrays))
             for entry in payload]
    out_arrays, answers = [], []
    for name, args, kwargs in cases:
        _mark(function, f"case {name}")
        args = tuple(value.copy() if isinstance(value, np.ndarray) else value for value in args)
        kwargs = {key: value.copy() if isinstance(value, np.ndarray) else value for key, value in kwargs.items()}
        entry = {"case": name}
        started = time.perf_counter()
        if not callable(target):
            entry["missing"] = _missing(function["variable"], target, cell_errors)
        else:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    got = target(*args, **kwargs)
                entry["got"] = wire.encode(got, out_arrays)
                entry["warnings"] = [f"{w.category.__name__}: {w.message}"[:300] for w in caught[:3]]
            except BaseException as error:  # noqa: B036 -- SystemExit too: it is the student's
                entry["raised"] = _describe(error)
        entry["seconds"] = round(time.perf_counter() - started, 4)
        entry["args_after"] = wire.encode(args, out_arrays)
        entry["kwargs_after"] = wire.encode(kwargs, out_arrays)
        answers.append(entry)
    partial = f"result-{function['k']}.partial"
    wire.write(JOB, partial, {"cell_errors": cell_errors, "answers": answers}, out_arrays)
    os.replace(os.path.join(JOB, partial + ".npy"), _path(function, "npy"))
    os.replace(os.path.join(JOB, partial + ".json"), _path(function, "json"))
    return 0


def run_cell(cell: dict, namespace: dict) -> list[dict]:
    """Execute one cell's top-level statements one by one; return the failures as records.

    A locked cell (the setup cell) runs with the course package replaced by a stand-in: its
    ``from course_utils import grading`` binds a ``grading`` whose every use is refused.
    """
    try:
        tree = ast.parse(cell["source"], filename=f"<cell {cell['index'] + 1}>")
    except SyntaxError as error:
        return [{"cell": cell["index"] + 1, "error": _describe(error)}]
    stubs = _course_stand_in() if cell.get("locked") else {}
    sys.modules.update(stubs)
    errors = []
    try:
        for statement in tree.body:
            code = compile(ast.Module([statement], []), f"<cell {cell['index'] + 1}>", "exec")
            try:
                exec(code, namespace)
            except BaseException as error:  # noqa: B036 -- a SystemExit in a cell is the student's
                errors.append({"cell": cell["index"] + 1, "line": statement.lineno, "error": _describe(error)})
    finally:
        for name in stubs:
            sys.modules.pop(name, None)
    return errors


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


def _missing(variable: str, value, cell_errors: list) -> str:
    where = "; ".join(f"cell {e['cell']}: {e['error']['type']}: {e['error']['message'][:120]}"
                      for e in cell_errors[:3])
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

def _wait(child: int, seconds: float) -> str | None:
    """Wait for the child; ``None`` if it ended normally, else why it did not."""
    deadline = time.monotonic() + seconds
    while True:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            break
        if time.monotonic() > deadline:
            _kill_group(child)
            os.waitpid(child, 0)
            return f"timeout: still running after {seconds:g} s"
        time.sleep(0.005)
    _kill_group(child)  # anything the child started
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return f"signal: killed by {signal.Signals(number).name}"
    code = os.WEXITSTATUS(status)
    return None if code == 0 else f"exit: the process exited with code {code}"


def _kill_group(child: int) -> None:
    try:
        os.killpg(child, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _write_stopped(function: dict, reason: str, wire) -> None:
    where = _read_mark(function)
    wire.write(JOB, f"result-{function['k']}", {"stopped": reason, "where": where}, [])


def _mark(function: dict, what: str) -> None:
    """Where the child is (``cell 4``, ``case stride 2``): read if it never comes back."""
    with open(os.path.join(JOB, f"progress-{function['k']}.txt"), "w", encoding="utf-8") as handle:
        handle.write(what)


def _read_mark(function: dict) -> str:
    try:
        with open(os.path.join(JOB, f"progress-{function['k']}.txt"), encoding="utf-8") as handle:
            return handle.read(200)
    except OSError:
        return ""


def _path(function: dict, suffix: str) -> str:
    return os.path.join(JOB, f"result-{function['k']}.{suffix}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
