"""Autograde every submission of an assignment in parallel, with progress, each student isolated.

    python -m course_utils.autograde ASSIGNMENT [--jobs N] [--student ID ...] [--timeout S]
                                                [--redo | --retry-failed]
    make grade ASSIGNMENT=a1_convolution [JOBS=2]

Run from the course root (where ``nbgrader_config.py`` is). ``N`` worker processes each load
nbgrader once and then grade one student at a time with nbgrader's own API -- what
``nbgrader autograde ASSIGNMENT --student ID --force`` runs, with the same configuration -- so
the gradebook and ``autograded/`` end up exactly as a serial ``nbgrader autograde ASSIGNMENT``
leaves them (``tests/test_autograde.py`` compares the two). What this adds:

* ``--jobs N`` workers (default: the number of cores), each with ``cores // N`` BLAS threads;
* a tqdm bar with count, rate and ETA, and one line per finished student (score and seconds, or
  why it failed);
* isolation: a submission that crashes its kernel, hangs past ``--timeout`` seconds (the whole
  submission; nbgrader's per-cell timeout still applies inside) or floods its output fails
  alone, with the reason recorded in ``.autograde/ASSIGNMENT/STUDENT.json``; the others grade
  (a worker stopped for a timeout is killed with its kernel and replaced);
* resumability: every finished student is recorded as it finishes, so an interrupted run
  (Ctrl-C, SIGTERM) loses nothing but the students in flight, which are stopped; running
  again grades only students without a record, or whose submission changed since, or who are
  missing from the gradebook (``--retry-failed`` adds the failed ones, ``--redo`` everyone);
* the SQLite gradebook gets a 60 s busy timeout so that workers wait for each other's writes;
  with many graders use PostgreSQL (``COURSE_GRADEBOOK_URL``, README "Running a large course").
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

STATE_DIR = ".autograde"  # git-ignored; one JSON record per graded student


@dataclass
class StudentResult:
    student: str
    status: str  # "graded" or "failed"
    seconds: float
    score: float | None = None
    max_score: float | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)  # e.g. "cell test_relu: stopped by the cell timeout"
    submitted: float = 0.0  # modification time of the submission that was graded

    def line(self) -> str:
        if self.status == "graded":
            notes = f" ({'; '.join(self.notes)})" if self.notes else ""
            return f"{self.student}: {self.score:g}/{self.max_score:g} in {self.seconds:.1f} s{notes}"
        return f"{self.student}: FAILED after {self.seconds:.1f} s: {self.reason}"


def load_course_directory(root: Path):
    """nbgrader's CourseDirectory configured from ``root/nbgrader_config.py``."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config_file = root / "nbgrader_config.py"
    if not config_file.exists():
        raise SystemExit(f"autograde: no nbgrader_config.py in {root}; run from the course root")
    config = PyFileConfigLoader(config_file.name, path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    return CourseDirectory(config=config)


def submitted_students(coursedir, assignment: str) -> list[str]:
    """Students with a folder ``submitted/<student>/<assignment>/``, sorted."""
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    return sorted(Path(path).parent.name for path in glob.glob(pattern) if Path(path).is_dir())


def open_gradebook(coursedir):
    from nbgrader.api import Gradebook

    return Gradebook(worker_db_url(coursedir.db_url), course_id=coursedir.course_id)


def check_assignment_known(coursedir, assignment: str) -> None:
    """Create the gradebook's tables once, here (two workers creating them would race)."""
    from nbgrader.api import MissingEntry

    gradebook = open_gradebook(coursedir)
    try:
        gradebook.find_assignment(assignment)
    except MissingEntry:
        raise SystemExit(
            f"autograde: the gradebook ({coursedir.db_url}) does not know assignment {assignment!r}; "
            f"run `make assignments` (nbgrader generate_assignment) first"
        ) from None
    finally:
        gradebook.close()


def with_venv_on_path(env) -> dict[str, str]:
    """``env`` with this Python's bin folder first on PATH: nbgrader runs the ``alembic``
    command when it creates a gradebook, also when the environment is not activated."""
    env = dict(env)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def worker_environment(jobs: int) -> dict[str, str]:
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = with_venv_on_path(os.environ)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = threads
    return env


def worker_db_url(db_url: str) -> str:
    """SQLite waits up to 60 s for another worker's write instead of failing after 5 s."""
    if db_url.startswith("sqlite") and "timeout=" not in db_url:
        return db_url + ("&" if "?" in db_url else "?") + "timeout=60"
    return db_url


#: Exceptions in nbgrader's log, in words an instructor can act on.
KNOWN_ERRORS = {
    "DeadKernelError": "the kernel died (the submission exits Python, crashes it or runs out of memory)",
    "CellTimeoutError": "a cell ran past the cell timeout and could not be interrupted",
    "OperationalError": "the gradebook database refused a write",
}


def failure_reason(log: str) -> str:
    """Why nbgrader failed for one student, from its log: the last exception line, explained."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    exceptions = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Interrupt): ", line)]
    for line in reversed(exceptions):
        for name, words in KNOWN_ERRORS.items():
            if name in line:
                return f"{words} [{line[:160]}]"
    errors = exceptions or [line for line in lines if "[ERROR]" in line]
    return (errors or lines or ["nbgrader failed without a message"])[-1][:200]


def notebook_notes(path: Path) -> list[str]:
    """What the autograded notebook shows went wrong without failing the whole submission:
    cells stopped by the cell timeout and outputs cut by nbgrader's LimitOutput."""
    notes = []
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return notes
    for index, cell in enumerate(notebook.get("cells", [])):
        name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"#{index + 1}"
        text = json.dumps(cell.get("outputs", []))
        if "CellTimeoutError" in text:
            notes.append(f"cell {name}: stopped by the cell timeout")
        if "Output truncated" in text:
            notes.append(f"cell {name}: output cut to the first lines")
    return notes


class Worker:
    """A long-lived ``python -m course_utils.autograde --worker`` process that grades one student
    per request with nbgrader's own API (what ``nbgrader autograde A --student S --force``
    runs), so nbgrader is imported once per worker, not once per student. Replaced when it
    dies or is stopped for a timeout.

    Importing nbgrader costs about 2.5 s of CPU (its package imports its Jupyter server
    extensions), so workers are started first, while the parent reads the course, and are told
    the gradebook URL afterwards, as their first line of input (never on the command line: the
    URL may hold a password)."""

    def __init__(self, root: Path, assignment: str, env: dict[str, str], log: Path):
        self.command = [sys.executable, "-m", "course_utils.autograde", "--worker", assignment,
                        "--root", str(root)]
        self.env, self.log, self.root = env, log, root
        self.db_url: str | None = None
        self.process: subprocess.Popen | None = None
        self.configured = False

    def start(self) -> None:
        """Start the process (if it is not running) so it imports nbgrader in the background."""
        if self.process is None or self.process.poll() is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log, "ab") as log:  # nbgrader's and the kernels' messages
                self.process = subprocess.Popen(self.command, cwd=self.root, env=self.env,
                                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                stderr=log, start_new_session=True)
            self.configured = False

    def grade(self, student: str, timeout: float) -> dict:
        """``{"success", "log", "error", "score", "max_score"}`` from nbgrader, or ``{"stopped": why}``."""
        self.start()
        process = self.process
        deadline = time.monotonic() + timeout
        buffer = b""
        try:
            if not self.configured:
                process.stdin.write(json.dumps({"db_url": self.db_url}).encode() + b"\n")
                self.configured = True
            process.stdin.write(student.encode() + b"\n")
            process.stdin.flush()
            while not buffer.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.stop()
                    return {"stopped": f"timed out: still running after {timeout:g} s (whole submission), stopped"}
                if select.select([process.stdout], [], [], min(remaining, 1.0))[0]:
                    chunk = os.read(process.stdout.fileno(), 1 << 16)
                    if not chunk:
                        break
                    buffer += chunk
        except (BrokenPipeError, OSError):
            pass
        if not buffer.endswith(b"\n"):
            self.stop()
            return {"stopped": f"the grading process died (exit {process.poll()}); see {self.log}"}
        return json.loads(buffer)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            _kill_tree(process)
            process.wait()


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill the worker's process group and every process it started: jupyter_client starts
    each kernel in a session of its own, which the group kill does not reach."""
    try:
        import psutil

        children = psutil.Process(process.pid).children(recursive=True)
    except Exception:  # psutil missing or the worker already gone; a kernel exits with its parent
        children = []
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for child in children:
        try:
            child.kill()
        except Exception:
            pass


def serve_worker(assignment: str, root: str) -> int:
    """The worker's side: read student ids on stdin, answer one JSON line each on stdout."""
    replies = os.fdopen(os.dup(1), "w")  # a private channel: anything printed goes to the log
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.chdir(root)
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.nbgraderapp import NbGraderApp

    db_url = json.loads(sys.stdin.readline())["db_url"]  # see Worker: sent once imports are done
    app = NbGraderApp()  # loads the configuration exactly as the `nbgrader` command does
    app.initialize([f"--CourseDirectory.db_url={db_url}"])
    api = NbGraderAPI(config=app.config)
    for line in sys.stdin:
        student = line.strip()
        result = api.autograde(assignment, student, force=True, create=True)
        reply = {"success": bool(result["success"]), "log": result.get("log", ""),
                 "error": result.get("error", ""), "score": None, "max_score": None}
        if reply["success"]:
            gradebook = Gradebook(db_url, course_id=api.coursedir.course_id)
            try:
                submission = gradebook.find_submission(assignment, student)
                reply["score"], reply["max_score"] = submission.score, submission.max_score
            finally:
                gradebook.close()
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


def submission_time(coursedir, assignment: str, student: str) -> float:
    """Latest modification time of the files in ``submitted/<student>/<assignment>/``."""
    folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    return max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)


def grade_student(worker: Worker, coursedir, assignment: str, student: str, timeout: float) -> StudentResult:
    """Grade one student with ``worker``; any failure is this student's alone."""
    submitted = submission_time(coursedir, assignment, student)
    start = time.perf_counter()
    try:
        reply = worker.grade(student, timeout)
        seconds = time.perf_counter() - start
        if "stopped" in reply:
            return StudentResult(student, "failed", seconds, reason=reply["stopped"], submitted=submitted)
        if not reply["success"]:
            return StudentResult(student, "failed", seconds, submitted=submitted,
                                 reason=failure_reason(reply["log"] + "\n" + reply["error"]))
        notebooks = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment)).glob("*.ipynb")
        notes = [note for path in sorted(notebooks) for note in notebook_notes(path)]
        return StudentResult(student, "graded", seconds, reply["score"], reply["max_score"],
                             notes=notes, submitted=submitted)
    except Exception as error:  # e.g. the gradebook could not be read
        return StudentResult(student, "failed", time.perf_counter() - start, submitted=submitted,
                             reason=f"{type(error).__name__}: {error}"[:300])


def record_path(root: Path, assignment: str, student: str) -> Path:
    return root / STATE_DIR / assignment / f"{student}.json"


def load_record(root: Path, assignment: str, student: str) -> dict | None:
    path = record_path(root, assignment, student)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def save_record(root: Path, assignment: str, result: StudentResult) -> None:
    """Write the student's record atomically (an interrupt never leaves half a file)."""
    path = record_path(root, assignment, result.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(result), indent=1))
    partial.replace(path)


def needs_grading(record: dict | None, submitted: float, in_gradebook: bool, retry_failed: bool) -> bool:
    """No record, a newer submission, graded but gone from the gradebook, or a failure to retry."""
    if record is None or record.get("submitted") != submitted:
        return True
    if record.get("status") == "graded":
        return not in_gradebook
    return retry_failed


def graded_in_gradebook(coursedir, assignment: str) -> set[str]:
    gradebook = open_gradebook(coursedir)
    try:
        return {s.student_id for s in gradebook.find_assignment(assignment).submissions}
    finally:
        gradebook.close()


def autograde(assignment: str, root: Path | str = ".", jobs: int | None = None,
              students: list[str] | None = None, timeout: float = 600.0, redo: bool = False,
              retry_failed: bool = False, progress: bool = True) -> list[StudentResult]:
    """Grade ``students`` (default: every submitted one) of ``assignment``; see the module doc.

    Returns the results of the students graded in this run, sorted by student.
    """
    root = Path(root).resolve()
    jobs = jobs or os.cpu_count() or 1
    os.environ["PATH"] = with_venv_on_path(os.environ)["PATH"]  # our own Gradebook may create the file
    env = worker_environment(jobs)
    workers = [Worker(root, assignment, env, root / STATE_DIR / assignment / f"worker-{index + 1}.log")
               for index in range(jobs)]
    for worker in workers:  # they import nbgrader while we read the course (see Worker)
        worker.start()
    try:
        coursedir = load_course_directory(root)
        check_assignment_known(coursedir, assignment)
        submitted = submitted_students(coursedir, assignment)
        if students:
            missing = sorted(set(students) - set(submitted))
            if missing:
                raise SystemExit(f"autograde: no submission of {assignment} from {', '.join(missing)}")
            submitted = [s for s in submitted if s in set(students)]
        in_gradebook = graded_in_gradebook(coursedir, assignment)
        todo = [s for s in submitted if redo or needs_grading(
            load_record(root, assignment, s), submission_time(coursedir, assignment, s),
            s in in_gradebook, retry_failed)]
    except BaseException:
        for worker in workers:
            worker.stop()
        raise
    for worker in workers[len(todo):]:  # fewer students than workers
        worker.stop()
    workers = workers[: len(todo)]
    for worker in workers:
        worker.db_url = worker_db_url(coursedir.db_url)
    skipped = len(submitted) - len(todo)
    if skipped:
        tqdm.write(f"{skipped} of {len(submitted)} already done (recorded in {STATE_DIR}/{assignment}/); "
                   f"--retry-failed grades the failed ones again, --redo all of them")
    waiting: queue.Queue[str] = queue.Queue()
    for student in todo:
        waiting.put(student)
    finished: queue.Queue[StudentResult] = queue.Queue()
    stopping = threading.Event()

    def work(worker: Worker) -> None:
        while not stopping.is_set():
            try:
                student = waiting.get_nowait()
            except queue.Empty:
                break
            result = grade_student(worker, coursedir, assignment, student, timeout)
            if not stopping.is_set():
                finished.put(result)
        worker.stop()

    threads = [threading.Thread(target=work, args=(worker,), daemon=True) for worker in workers]
    for thread in threads:
        thread.start()
    results: list[StudentResult] = []
    bar = tqdm(total=len(todo), desc=f"autograde {assignment}", unit="student", disable=not progress)
    try:
        while len(results) < len(todo):
            try:
                result = finished.get(timeout=0.5)
            except queue.Empty:
                if not any(thread.is_alive() for thread in threads) and finished.empty():
                    break  # every worker thread ended (should not happen): do not wait forever
                continue
            save_record(root, assignment, result)
            results.append(result)
            tqdm.write(result.line())
            bar.update()
    except BaseException:  # Ctrl-C, SIGTERM: stop the students in flight; the finished are saved
        stopping.set()
        for worker in workers:
            worker.stop()
        bar.close()
        tqdm.write(f"interrupted: {len(results)} graded in this run are recorded; run again for the rest")
        raise
    for thread in threads:
        thread.join()
    bar.close()
    return sorted(results, key=lambda r: r.student)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:  # internal: one grading worker (see Worker)
        worker = argparse.ArgumentParser()
        worker.add_argument("assignment")
        worker.add_argument("--root", required=True)
        options = worker.parse_args(argv[1:])
        return serve_worker(options.assignment, options.root)
    parser = argparse.ArgumentParser(prog="python -m course_utils.autograde",
                                     description="Autograde submissions in parallel (see module docstring).")
    parser.add_argument("assignment")
    parser.add_argument("--jobs", type=int, default=None, help="workers (default: number of cores)")
    parser.add_argument("--student", nargs="+", default=None, metavar="ID", help="only these students")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds for one whole submission before it is stopped (default 600)")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--redo", action="store_true", help="grade again students already recorded")
    again.add_argument("--retry-failed", action="store_true",
                       help="grade again the students whose grading failed")
    parser.add_argument("--root", default=".", help="course root (default: current folder)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    start = time.perf_counter()
    try:
        results = autograde(args.assignment, args.root, args.jobs, args.student, args.timeout,
                            args.redo, args.retry_failed)
    except KeyboardInterrupt:
        return 130
    failed = [r for r in results if r.status != "graded"]
    wall = time.perf_counter() - start
    per = f", {wall / len(results):.1f} s per submission (wall clock)" if results else ""
    print(f"graded {len(results) - len(failed)}, failed {len(failed)} in {wall:.1f} s{per}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
