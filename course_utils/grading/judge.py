"""Deciding pass or fail out of reach of the student's code: a fresh Python process per check.

A student's code runs in the same kernel as the test cells, so it could redefine
``numpy.allclose``, ``numpy.testing.assert_allclose``, ``numpy.array_equal`` or a builtin and
make a wrong answer look right. So a check (:mod:`course_utils.grading.checks`) only *calls*
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
   :func:`~course_utils.grading.compare.judge_case` and prints the judgments as JSON:
   ``{"judgments": [{"case", "values_right", "dtype_right", "input_unchanged", "message"}, ...]}``.

The judge side imports only the specs, the case lists, the comparison and the reference ops:
no kernel-side code.

Everything the kernel side uses (``subprocess``, ``json``, ``open``, numpy's ``.npy`` writer,
``tempfile``) is bound when this module is imported -- by the notebook's locked setup cell,
before any student code runs -- so patching those modules later does not reach it.

What this cannot stop: the kernel still reports the inputs and answers, so code that rewrites
the grading package's own functions (replaces ``grading.check_conv2d`` or this module's
functions) or silences exceptions in IPython fools the kernel's verdict. That is why the
instructor's autograde decides every score with its trusted check instead, from a run of the
student's code in a sandbox, and only compares with this verdict.
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

from course_utils.grading import flags, wire
from course_utils.grading.cases import SPECS, find_spec
from course_utils.grading.compare import judge_case
from course_utils.grading.specs import Case

# --- bound at import, before student code runs ----------------------------------------------
_open = builtins.open
_dumps = json.dumps
_loads = json.loads
_run = subprocess.run
_Popen = subprocess.Popen
_PIPE = subprocess.PIPE
_DEVNULL = subprocess.DEVNULL
_Lock = threading.Lock
_mkdtemp = tempfile.mkdtemp
_rmtree = shutil.rmtree
_encode = wire.encode
_write = wire.write
_join = os.path.join
_gettempdir = tempfile.gettempdir
_PYTHON = sys.executable
#: The folder holding this ``course_utils``: the judge imports the same copy as the kernel,
#: whether it was installed or is only on ``PYTHONPATH`` (which ``python -I`` ignores).
_COURSE_PATH = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: ``python -I -m course_utils.grading.judge ARGS``, with that folder first on ``sys.path``.
_JUDGE_COMMAND = [_PYTHON, "-I", "-c",
                  f"import sys; sys.path.insert(0, {_COURSE_PATH!r}); import runpy; "
                  "sys.argv[0] = 'course_utils.grading.judge'; "
                  "runpy.run_module('course_utils.grading.judge', run_name='__main__', alter_sys=True)"]
_ENV = {  # fixed, so nothing the kernel put in os.environ reaches the judge
    "PATH": os.defpath,
    "HOME": tempfile.gettempdir(),
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "LANG": "C.UTF-8",
}
JUDGE_TIMEOUT = 120  # seconds; a judge takes well under one

class JudgeError(RuntimeError):
    """The judge process failed: a problem of the grading code, not of the student's answer."""


# --- kernel side ------------------------------------------------------------------------------

def decide(spec, answers) -> list[dict]:
    """Judge ``answers`` -- ``(case, got, args after, kwargs after)`` for each case, in order --
    in the judge process; return one judgment per answer
    (:meth:`~course_utils.grading.compare.Judgment.as_dict`)."""
    name = spec.name
    if SPECS.get(spec.id) is not spec:  # a spec made in a test module: judge right here
        return judge_in_process(spec, answers)
    if flags.trusted_grading_decides():
        # an autograde whose trusted check decides every score from its own run of the
        # student's code (course_utils.instructor.trusted): this kernel's verdict only serves
        # to compare, so it is judged right here, without starting a judge process.
        return judge_in_process(spec, answers)
    arrays: list = []
    payload = {"spec": spec.id, "answers": [encode_answer(answer, arrays) for answer in answers]}
    folder = _mkdtemp(prefix="course-judge-")
    try:
        _write(folder, "answers", payload, arrays)
        verdict = _JUDGE.ask(folder)
        if verdict is None:  # the judge process is gone: judge once in a new one, to see why
            result = _run([*_JUDGE_COMMAND, folder], cwd=folder,
                          env=_ENV, capture_output=True, text=True, timeout=JUDGE_TIMEOUT)
            if result.returncode != 0:
                raise JudgeError(f"the grading judge for {name} failed (exit {result.returncode}):\n"
                                 f"{result.stderr[-3000:]}")
            verdict = _loads(result.stdout)
    finally:
        _rmtree(folder, ignore_errors=True)
    if "error" in verdict:
        raise JudgeError(f"the grading judge for {name} failed:\n{verdict['error'][-3000:]}")
    return verdict["judgments"]


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
                self.process = _Popen([*_JUDGE_COMMAND, "--serve"],
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

def decode_answer(entry: dict, arrays: list):
    decode = wire.decode
    case = Case(entry["name"], decode(entry["args"], arrays), decode(entry["kwargs"], arrays))
    return case, decode(entry["got"], arrays), decode(entry["args_after"], arrays), \
        decode(entry["kwargs_after"], arrays)


def judge_in_process(spec, answers) -> list[dict]:
    """The judgments of ``answers`` (``(case, got, args after, kwargs after)``, in order)."""
    return [judge_case(spec, case, got, args, kwargs).as_dict() for case, got, args, kwargs in answers]


def judge_folder(folder: Path) -> dict:
    """``{"judgments": [...]}`` for the answers :func:`decide` wrote to ``folder``."""
    payload, arrays = wire.read(str(folder), "answers")
    spec = find_spec(payload["spec"])
    return {"judgments": judge_in_process(spec, [decode_answer(entry, arrays) for entry in payload["answers"]])}


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
