"""Autograde every submission of one or more assignments in parallel, with progress, each student
isolated.

    python -m course_utils.instructor.autograde ASSIGNMENT [ASSIGNMENT ...] [--jobs N]
                    [--student ID ...] [--timeout S] [--redo | --retry-failed]
    make grade ASSIGNMENT=a1_convolution [JOBS=2]        (ASSIGNMENT="a1_convolution a2_pooling")

Run it in the course (the folder holding ``nbgrader_config.py``, or below it; ``--root`` to name
it). ``N`` worker processes (:mod:`course_utils.instructor.autograde_worker`) each load nbgrader once and then grade one student at a
time with nbgrader's own API -- what ``nbgrader autograde ASSIGNMENT --student ID --force`` runs,
with the configuration the ``nbgrader`` command loads -- so the gradebook and ``autograded/``
end up exactly as a serial ``nbgrader autograde ASSIGNMENT`` leaves them
(``tests/test_autograde.py`` compares the two). What this adds:

* ``--jobs N`` workers (default: the number of cores), each with ``cores // N`` BLAS threads,
  shared by all the assignments named (one run for several assignments loads nbgrader once
  per worker, not once per assignment);
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
  with many graders use PostgreSQL (``COURSE_GRADEBOOK_URL``, docs/instructors/large-courses.md).

This process does not import nbgrader: it starts the workers at once, asks the first one what
the course holds, and hands out students.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from course_utils.grading import flags
from course_utils.instructor.course import find_course_root, with_venv_on_path
from course_utils.instructor.untrusted.ids import is_safe_student_id
from course_utils.instructor.untrusted.terminal import one_line

STATE_DIR = ".autograde"  # git-ignored; one JSON record per graded student
SURVEY_TIMEOUT = 600.0  # seconds for a worker to start and read the course


@dataclass
class StudentResult:
    assignment: str
    student: str
    status: str  # "graded" or "failed"
    seconds: float
    score: float | None = None
    max_score: float | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)  # e.g. "cell test_relu: stopped by the cell timeout"
    submitted: float = 0.0  # modification time of the submission that was graded

    def line(self, with_assignment: bool = False) -> str:
        """One line for the terminal: notes and reasons can quote a submission (an error message,
        a file name), so control characters and escape sequences in them are shown escaped."""
        who = f"{self.student} ({self.assignment})" if with_assignment else self.student
        if self.status == "graded":
            notes = f" ({'; '.join(one_line(note) for note in self.notes)})" if self.notes else ""
            return f"{who}: {self.score:g}/{self.max_score:g} in {self.seconds:.1f} s{notes}"
        return f"{who}: FAILED after {self.seconds:.1f} s: {one_line(self.reason)}"


def worker_environment(jobs: int, sandbox: bool = True) -> dict[str, str]:
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = with_venv_on_path(os.environ)
    if not sandbox:
        env[flags.SANDBOX] = "off"  # read by course_utils.instructor.trusted.pipeline.CourseSandbox
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = threads
    return env


class Worker:
    """A long-lived ``python -m course_utils.instructor.autograde_worker`` process (see that module for its
    requests), started at once so that it imports nbgrader while others do the same, and
    replaced when it dies or is stopped for a timeout."""

    def __init__(self, root: Path, env: dict[str, str], log: Path):
        self.command = [sys.executable, "-m", "course_utils.instructor.autograde_worker", "--root", str(root)]
        self.env, self.log, self.root = env, log, root
        self.process: subprocess.Popen | None = None
        self.scratch: str | None = None  # the process's TMPDIR, removed when it is stopped
        self.closed = False  # set by close(): never start again (an interrupted run)
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start the process if it is not running (and the worker is not closed)."""
        with self.lock:
            if self.closed:
                raise OSError("the run is over: no new grading process")
            if self.process is not None and self.process.poll() is None:
                return
            self.log.parent.mkdir(parents=True, exist_ok=True)
            # A killed worker cannot clean up after itself: the student's answers and cases it
            # wrote (checking folders, kernel connection files) live here and go with it.
            if self.scratch is not None:  # a process that died on its own
                shutil.rmtree(self.scratch, ignore_errors=True)
            from course_utils.instructor.sandbox.kernel import ipc_parent  # jupyter_client: late

            self.scratch = tempfile.mkdtemp(prefix="course-grading-", dir=ipc_parent("course-grading-xxxxxxxx"))
            with open(self.log, "ab") as log:  # nbgrader's and the kernels' messages
                self.process = subprocess.Popen(self.command, cwd=self.root,
                                                env={**self.env, "TMPDIR": self.scratch},
                                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                stderr=log, start_new_session=True)

    def close(self) -> None:
        """Stop the process for good: a thread still holding this worker cannot restart it."""
        with self.lock:
            self.closed = True
        self.stop()

    def ask(self, request: dict, timeout: float, what: str) -> dict:
        """The worker's reply to ``request``, or ``{"stopped": why}`` if it took longer than
        ``timeout`` seconds (``what`` says what took so long), died or could not be started."""
        try:
            self.start()
        except OSError as error:
            return {"stopped": f"could not start a grading process: {error}"}
        process = self.process
        deadline = time.monotonic() + timeout
        buffer = b""
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
            while not buffer.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.stop()
                    return {"stopped": f"timed out: still running after {timeout:g} s ({what}), stopped"}
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
        try:
            return json.loads(buffer)
        except ValueError:
            self.stop()
            return {"stopped": f"the grading process sent an unreadable reply; see {self.log}"}

    def stop(self) -> None:
        with self.lock:
            process, self.process = self.process, None
            scratch, self.scratch = self.scratch, None
        if process is not None:
            _kill_tree(process)
            process.wait()
            from course_utils.instructor.sandbox.pids_cgroup import sweep_orphans

            sweep_orphans()  # a killed worker's sandboxes (kernel, checker) leave their cgroups
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


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



def grade_student(worker: Worker, assignment: str, student: str, submitted: float,
                  timeout: float) -> StudentResult:
    """Grade one student with ``worker``; any failure is this student's alone."""
    start = time.perf_counter()
    try:
        reply = worker.ask({"grade": assignment, "student": student}, timeout, "whole submission")
        seconds = time.perf_counter() - start
        if "stopped" in reply:
            return StudentResult(assignment, student, "failed", seconds, reason=reply["stopped"], submitted=submitted)
        if not reply["success"]:
            return StudentResult(assignment, student, "failed", seconds, reason=reply["reason"], submitted=submitted)
        return StudentResult(assignment, student, "graded", seconds, reply["score"], reply["max_score"],
                             notes=reply["notes"], submitted=submitted)
    except Exception as error:  # a reply without the expected fields, or a bug here: this student only
        worker.stop()
        return StudentResult(assignment, student, "failed", time.perf_counter() - start, submitted=submitted,
                             reason=f"{type(error).__name__}: {error}"[:300])


def record_path(root: Path, assignment: str, student: str) -> Path:
    return root / STATE_DIR / assignment / f"{student}.json"


def load_record(root: Path, assignment: str, student: str) -> dict | None:
    path = record_path(root, assignment, student)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def save_record(root: Path, result: StudentResult) -> None:
    """Write the student's record atomically (an interrupt never leaves half a file)."""
    path = record_path(root, result.assignment, result.student)
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


def plan(worker: Worker, root: Path, assignments: list[str], students: list[str] | None, redo: bool,
         retry_failed: bool) -> list[tuple[str, str, float]]:
    """(assignment, student, submission time) for everything to grade in this run, in order;
    says what is skipped. Raises SystemExit when the course cannot be graded as asked."""
    todo, surveys = [], {}
    for assignment in assignments:
        survey = worker.ask({"survey": assignment}, SURVEY_TIMEOUT, "reading the course")
        if "stopped" in survey or "error" in survey:
            raise SystemExit(f"autograde: {survey.get('error') or survey.get('stopped')}")
        surveys[assignment] = survey
    if students:  # a student named must have handed in at least one of the assignments
        nowhere = [s for s in students if not any(s in survey["students"] for survey in surveys.values())]
        if nowhere:
            raise SystemExit(f"autograde: no submission of {' or '.join(assignments)} from {', '.join(nowhere)}")
    for assignment, survey in surveys.items():
        submitted = survey["students"]
        if students:
            missing = [s for s in students if s not in submitted]
            if missing:
                tqdm.write(f"no submission of {assignment} from {', '.join(missing)}")
            submitted = {s: t for s, t in submitted.items() if s in set(students)}
        in_gradebook = set(survey["in_gradebook"])
        chosen = [(assignment, s, t) for s, t in sorted(submitted.items()) if redo or needs_grading(
            load_record(root, assignment, s), t, s in in_gradebook, retry_failed)]
        skipped = len(submitted) - len(chosen)
        if skipped:
            tqdm.write(f"{skipped} of {len(submitted)} already done for {assignment} (recorded in "
                       f"{STATE_DIR}/{assignment}/); --retry-failed grades the failed ones again, --redo all of them")
        todo += chosen
    return todo


def autograde(assignments: str | list[str], root: Path | str | None = None, jobs: int | None = None,
              students: list[str] | None = None, timeout: float = 600.0, redo: bool = False,
              retry_failed: bool = False, progress: bool = True, sandbox: bool = True) -> list[StudentResult]:
    """Grade ``students`` (default: every submitted one) of ``assignments``; see the module doc.

    ``sandbox=False`` grades without the bubblewrap sandbox (the trusted check still decides the
    scores; every line then says that tampering protection is partial). With it, a machine that
    cannot run the sandbox stops the run with what to install. Returns the results of the
    students graded in this run, sorted by assignment and student.
    """
    assignments = [assignments] if isinstance(assignments, str) else list(dict.fromkeys(assignments))
    root = find_course_root(root)
    jobs = jobs or os.cpu_count() or 1
    env = worker_environment(jobs, sandbox)
    workers = [Worker(root, env, root / STATE_DIR / f"worker-{index + 1}.log") for index in range(jobs)]
    for worker in workers:  # all import nbgrader at once, while the first one reads the course
        worker.start()
    try:
        if sandbox:  # tried while the workers import nbgrader (a fixed cost of every run otherwise)
            from course_utils.instructor.sandbox.bubblewrap import sandbox_available

            available, message = sandbox_available()
            if not available:
                raise SystemExit(f"autograde: {message}\nOr grade without the sandbox (tampering "
                                 "protection partial): add --no-sandbox.")
        todo = plan(workers[0], root, assignments, students, redo, retry_failed)
    except BaseException:
        for worker in workers:
            worker.close()
        raise
    for worker in workers[len(todo):]:  # fewer students than workers
        worker.close()
    workers = workers[: len(todo)]
    waiting: queue.Queue[tuple[str, str, float]] = queue.Queue()
    for item in todo:
        waiting.put(item)
    finished: queue.Queue[StudentResult] = queue.Queue()
    stopping = threading.Event()

    def work(worker: Worker) -> None:
        try:
            while not stopping.is_set():
                try:
                    assignment, student, submitted = waiting.get_nowait()
                except queue.Empty:
                    break
                result = grade_student(worker, assignment, student, submitted, timeout)
                if not stopping.is_set():
                    finished.put(result)
        finally:
            worker.close()

    threads = [threading.Thread(target=work, args=(worker,), daemon=True) for worker in workers]
    for thread in threads:
        thread.start()
    results: list[StudentResult] = []
    desc = f"autograde {assignments[0]}" if len(assignments) == 1 else f"autograde {len(assignments)} assignments"
    bar = tqdm(total=len(todo), desc=desc, unit="submission", disable=not progress)
    try:
        while len(results) < len(todo):
            try:
                result = finished.get(timeout=0.5)
            except queue.Empty:
                if not any(thread.is_alive() for thread in threads) and finished.empty():
                    break  # every worker thread ended (should not happen): do not wait forever
                continue
            if not sandbox:
                _say_partial(result)
            save_record(root, result)
            results.append(result)
            tqdm.write(result.line(with_assignment=len(assignments) > 1))
            bar.update()
    except BaseException:  # Ctrl-C, SIGTERM: stop the students in flight; the finished are saved
        stopping.set()
        for worker in workers:
            worker.close()
        bar.close()
        tqdm.write(f"interrupted: {len(results)} graded in this run are recorded; run again for the rest")
        raise
    for thread in threads:
        thread.join()
    bar.close()
    done = {(r.assignment, r.student) for r in results}
    for assignment, student, submitted in todo:  # only if a grading thread ended early (a bug)
        if (assignment, student) not in done:
            result = StudentResult(assignment, student, "failed", 0.0, submitted=submitted,
                                   reason="not graded: its grading thread ended early; run again")
            results.append(result)  # no record: the next run grades it
            tqdm.write(result.line(with_assignment=len(assignments) > 1))
    return sorted(results, key=lambda r: (assignments.index(r.assignment), r.student))


def _say_partial(result: StudentResult) -> None:
    """Every line of a run without the sandbox says so."""
    if result.status == "graded" and flags.PARTIAL_PROTECTION not in result.notes:
        result.notes.append(flags.PARTIAL_PROTECTION)
    elif result.status != "graded" and flags.PARTIAL_PROTECTION not in result.reason:
        result.reason += f" ({flags.PARTIAL_PROTECTION})"


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_utils.instructor.autograde",
                                     description="Autograde submissions in parallel (see module docstring).")
    parser.add_argument("assignment", nargs="+", help="one or more assignments, graded in this order")
    parser.add_argument("--jobs", type=int, default=None, help="workers (default: number of cores)")
    parser.add_argument("--student", nargs="+", action="extend", default=None, metavar="ID",
                        help="only these students (--student a b, or --student a --student b)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds for one whole submission before it is stopped (default 600)")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--redo", action="store_true", help="grade again students already recorded")
    again.add_argument("--retry-failed", action="store_true",
                       help="grade again the students whose grading failed")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade without the bubblewrap sandbox: the trusted check still decides "
                             "every score, but students' code can read what your account can")
    parser.add_argument("--root", default=None,
                        help="course root (default: the folder holding nbgrader_config.py, here or above)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    for name in [*(args.student or []), *args.assignment]:
        if not is_safe_student_id(name):
            parser.error(f"{name!r} is not an id: students and assignments are plain names, never paths")
    signal.signal(signal.SIGTERM, _interrupt)
    start = time.perf_counter()
    try:
        results = autograde(args.assignment, args.root, args.jobs, args.student, args.timeout,
                            args.redo, args.retry_failed, sandbox=not args.no_sandbox)
    except KeyboardInterrupt:
        return 130
    failed = [r for r in results if r.status != "graded"]
    wall = time.perf_counter() - start
    per = f", {wall / len(results):.1f} s per submission (wall clock)" if results else ""
    print(f"graded {len(results) - len(failed)}, failed {len(failed)} in {wall:.1f} s{per}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
