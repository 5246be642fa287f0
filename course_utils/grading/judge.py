"""Deciding pass or fail out of reach of the student's code: a fresh Python process per check.

A student's code runs in the same kernel as the test cells, so it could redefine
``numpy.allclose``, ``numpy.testing.assert_allclose``, ``numpy.array_equal`` or a builtin and
make a wrong answer look right. So :func:`course_utils.grading.checks.run_check` only *calls*
the student's function in the kernel and hands everything to :func:`decide`, which

1. writes the cases' inputs, the student's answers and the inputs after each call to a
   temporary folder (``answers.json`` plus the arrays in ``.npy`` format; no pickle: nothing
   the student returns can run code in the judge),
2. asks the judge -- ``python -I -m course_utils.grading.judge --serve``, a separate
   interpreter isolated from ``PYTHONPATH``, the user's site folder and the current folder,
   with a fixed environment, started at the first check and kept for the kernel's lifetime
   (one request per check, a few milliseconds after a start of about 0.3 s) --
3. which finds the same :class:`~course_utils.grading.specs.FunctionSpec` by its id in
   :mod:`course_utils.grading.cases`, recomputes every right answer with
   :mod:`course_utils.reference`, judges the answers in order with
   :func:`~course_utils.grading.compare.judge_answer` and prints the verdict as JSON:
   ``{"failure": message or null, "passed": [...]}``.

The judge side imports only the specs, the case lists, the comparison and the reference ops:
no kernel-side code.

Everything the kernel side uses (``subprocess``, ``json``, ``open``, numpy's ``.npy`` writer,
``tempfile``) is bound when this module is imported -- by the notebook's locked setup cell,
before any student code runs -- so patching those modules later does not reach it.

Limits (README, "Checking out of reach of student code"): the kernel still reports the inputs
and answers, so code that rewrites the grading package's own functions or objects (replaces
``grading.check_conv2d``, the case lists, or this module's functions) or that silences
exceptions in IPython is not stopped; nor is code that writes into the grader's Python
installation. Such code is plain to see in the autograded notebook.
"""

from __future__ import annotations

import atexit
import builtins
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path

import numpy as np

from course_utils.grading.cases import SPECS, find_spec
from course_utils.grading.compare import judge_answer
from course_utils.grading.specs import Case

# --- bound at import, before student code runs ----------------------------------------------
_open = builtins.open
_isinstance = builtins.isinstance
_type = builtins.type
_len = builtins.len
_repr = builtins.repr
_dumps = json.dumps
_loads = json.loads
_run = subprocess.run
_Popen = subprocess.Popen
_PIPE = subprocess.PIPE
_DEVNULL = subprocess.DEVNULL
_Lock = threading.Lock
_mkdtemp = tempfile.mkdtemp
_rmtree = shutil.rmtree
_write_array = np.lib.format.write_array
_ndarray = np.ndarray
_generic = np.generic
_asarray = np.asarray
_view = np.ndarray.view
_join = os.path.join
_gettempdir = tempfile.gettempdir
_PYTHON = sys.executable
_ENV = {  # fixed, so nothing the kernel put in os.environ reaches the judge
    "PATH": os.defpath,
    "HOME": tempfile.gettempdir(),
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "LANG": "C.UTF-8",
}
JUDGE_TIMEOUT = 120  # seconds; a judge takes well under one

MAX_ITEMS = 1000  # longer lists and tuples travel as their repr only


class JudgeError(RuntimeError):
    """The judge process failed: a problem of the grading code, not of the student's answer."""


# --- kernel side ------------------------------------------------------------------------------

def _encode(value, arrays: list, depth: int = 0):
    """A JSON-ready form of ``value``; arrays are appended to ``arrays`` and named by index."""
    kind = _type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if _isinstance(value, (_ndarray, _generic)):
        array = _view(_asarray(value), _ndarray)  # a subclass travels as a plain array
        if array.dtype.hasobject:  # no pickle: an object array travels as its shape only
            return {"object_array": list(array.shape), "scalar": _isinstance(value, _generic)}
        arrays.append(array)
        return {"array": _len(arrays) - 1, "scalar": _isinstance(value, _generic)}
    if kind in (tuple, list) and depth < 3 and _len(value) <= MAX_ITEMS:
        return {kind.__name__: [_encode(item, arrays, depth + 1) for item in value]}
    if kind is dict and depth < 3 and all(_type(key) is str for key in value):
        return {"dict": {key: _encode(item, arrays, depth + 1) for key, item in value.items()}}
    if _isinstance(value, (bool, int, float)):  # a subclass of a number travels as the number
        return (bool if _isinstance(value, bool) else int if _isinstance(value, int) else float)(value)
    try:
        text = _repr(value)
    except Exception as error:  # the student's own __repr__ failed
        text = f"<{kind.__name__} whose repr raised {_type(error).__name__}>"
    return {"other": kind.__name__, "repr": text[:200]}


def decide(spec, answers) -> dict:
    """Judge ``answers`` -- ``(case, got, args after, kwargs after)`` for each case, in order --
    in the judge process; return ``{"failure": message or None, "passed": [case names]}``."""
    name = spec.name
    if SPECS.get(spec.id) is not spec:  # a spec made in a test module: judge right here
        return judge_in_process(spec, answers)
    arrays: list = []
    payload = {"spec": spec.id, "answers": [encode_answer(answer, arrays) for answer in answers]}
    folder = _mkdtemp(prefix="course-judge-")
    try:
        with _open(_join(folder, "arrays.npy"), "wb") as handle:
            for array in arrays:
                _write_array(handle, array, allow_pickle=False)
        with _open(_join(folder, "answers.json"), "w", encoding="utf-8") as handle:
            handle.write(_dumps(payload))
        verdict = _JUDGE.ask(folder)
        if verdict is None:  # the judge process is gone: judge once in a new one, to see why
            result = _run([_PYTHON, "-I", "-m", "course_utils.grading.judge", folder], cwd=folder,
                          env=_ENV, capture_output=True, text=True, timeout=JUDGE_TIMEOUT)
            if result.returncode != 0:
                raise JudgeError(f"the grading judge for {name} failed (exit {result.returncode}):\n"
                                 f"{result.stderr[-3000:]}")
            verdict = _loads(result.stdout)
    finally:
        _rmtree(folder, ignore_errors=True)
    if "error" in verdict:
        raise JudgeError(f"the grading judge for {name} failed:\n{verdict['error'][-3000:]}")
    return verdict


class _JudgeProcess:
    """The judge, started at the first request and kept: one JSON line in, one line out."""

    def __init__(self):
        self.process = None
        self.lock = _Lock()
        self.requests = 0

    def ask(self, folder: str) -> dict | None:
        """The judge's reply for the answers in ``folder``, or ``None`` if it died."""
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                # A session of its own: ipykernel's shutdown waits for the children in its
                # process group; the judge needs no signal, it ends when its stdin closes.
                self.process = _Popen([_PYTHON, "-I", "-m", "course_utils.grading.judge", "--serve"],
                                      stdin=_PIPE, stdout=_PIPE, stderr=_DEVNULL, env=_ENV,
                                      cwd=_gettempdir(), text=True, encoding="utf-8",
                                      start_new_session=True)
            self.requests += 1
            request = self.requests
            try:
                self.process.stdin.write(_dumps({"id": request, "folder": folder}) + "\n")
                self.process.stdin.flush()
                while True:  # skip replies to requests an interrupt abandoned
                    line = self.process.stdout.readline()
                    if not line:
                        self.process = None
                        return None
                    reply = _loads(line)
                    if reply.get("id") == request:
                        return reply
            except (BrokenPipeError, OSError, ValueError):
                self.process = None
                return None

    def close(self) -> None:
        """End the judge (it exits when its stdin closes) and reap it; at interpreter exit."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            process.stdin.close()
            process.wait(timeout=2)
        except Exception:  # stuck or already gone
            process.kill()
            process.wait()
        finally:
            process.stdout.close()


_JUDGE = _JudgeProcess()
atexit.register(_JUDGE.close)


def encode_answer(answer, arrays: list) -> dict:
    case, got, args, kwargs = answer
    return {
        "name": case.name,
        "args": _encode(tuple(case.args), arrays),
        "kwargs": _encode(dict(case.kwargs), arrays),
        "got": _encode(got, arrays),
        "args_after": _encode(tuple(args), arrays),
        "kwargs_after": _encode(dict(kwargs), arrays),
    }


# --- judge side -------------------------------------------------------------------------------

def _decode(value, arrays: list):
    if not isinstance(value, dict):
        return value
    if "array" in value:
        array = arrays[value["array"]]
        return array[()] if value["scalar"] else array
    if "object_array" in value:
        array = np.empty(value["object_array"], dtype=object)
        return array[()] if value["scalar"] else array
    if "tuple" in value:
        return tuple(_decode(item, arrays) for item in value["tuple"])
    if "list" in value:
        return [_decode(item, arrays) for item in value["list"]]
    if "dict" in value:
        return {key: _decode(item, arrays) for key, item in value["dict"].items()}
    # Any other object: a stand-in with the same type name and repr, judged "wrong type".
    stand_in = type(value["other"], (), {"__repr__": lambda self, text=value["repr"]: text})
    return stand_in()


def decode_answer(entry: dict, arrays: list):
    case = Case(entry["name"], _decode(entry["args"], arrays), _decode(entry["kwargs"], arrays))
    return case, _decode(entry["got"], arrays), _decode(entry["args_after"], arrays), \
        _decode(entry["kwargs_after"], arrays)


def judge_in_process(spec, answers) -> dict:
    """The verdict on ``answers`` (``(case, got, args after, kwargs after)``, in order)."""
    passed = []
    for case, got, args, kwargs in answers:
        message = judge_answer(spec, case, got, args, kwargs)
        if message is not None:
            return {"failure": message, "passed": passed}
        passed.append(case.name)
    return {"failure": None, "passed": passed}


def judge_folder(folder: Path) -> dict:
    """The verdict on the answers :func:`decide` wrote to ``folder``."""
    payload = json.loads((folder / "answers.json").read_text(encoding="utf-8"))
    arrays = []
    with open(folder / "arrays.npy", "rb") as handle:
        while handle.peek(1):
            arrays.append(np.lib.format.read_array(handle, allow_pickle=False))
    spec = find_spec(payload["spec"])
    return judge_in_process(spec, [decode_answer(entry, arrays) for entry in payload["answers"]])


def serve() -> int:
    """Answer requests ``{"id": n, "folder": path}`` on stdin, one JSON line each, until EOF."""
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"id": request["id"], **judge_folder(Path(request["folder"]))}
        except Exception:
            reply = {"id": request["id"], "error": traceback.format_exc()}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--serve"]:
        return serve()
    print(json.dumps(judge_folder(Path(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
