"""Autograde every submission of an assignment in parallel, with progress, one student per process.

    python -m course_utils.autograde ASSIGNMENT [--jobs N] [--student ID ...] [--timeout S] [--redo]
    make grade ASSIGNMENT=a1_convolution [JOBS=2]

Run from the course root (where ``nbgrader_config.py`` is). Each student is graded by its own
``nbgrader autograde ASSIGNMENT --student ID`` process, so the result in the gradebook and in
``autograded/`` is exactly what a serial ``nbgrader autograde ASSIGNMENT`` leaves
(``tests/test_autograde.py`` compares the two). What this adds:

* ``--jobs N`` workers (default: the number of cores), each with ``cores // N`` BLAS threads;
* a tqdm bar with count, rate and ETA, and one line per finished student (score and seconds, or
  why it failed);
* isolation: a submission that crashes its kernel, hangs past ``--timeout`` seconds (the whole
  submission; nbgrader's per-cell timeout still applies inside) or floods its output fails
  alone, with the reason recorded in ``.autograde/ASSIGNMENT/STUDENT.json``; the others grade;
* resumability: every finished student is recorded as it finishes, so an interrupted run loses
  nothing; running again grades only students not yet graded, failures included (``--redo``
  grades them all).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
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

    def line(self) -> str:
        if self.status == "graded":
            return f"{self.student}: {self.score:g}/{self.max_score:g} in {self.seconds:.1f} s"
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

    return Gradebook(coursedir.db_url, course_id=coursedir.course_id)


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


def worker_environment(jobs: int) -> dict[str, str]:
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = threads
    return env


def failure_reason(log: str, returncode: int) -> str:
    """The most telling line of nbgrader's log for a failed student."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for marker in ("DeadKernelError", "Kernel died", "CellTimeoutError", "timed out", "Traceback"):
        for line in lines:
            if marker in line:
                return f"{line[:200]} (exit {returncode})"
    errors = [line for line in lines if "[ERROR]" in line or "Error" in line]
    return f"{(errors or lines or ['no output'])[-1][:200]} (exit {returncode})"


def grade_student(root: Path, coursedir, assignment: str, student: str, timeout: float,
                  env: dict[str, str]) -> StudentResult:
    """Run ``nbgrader autograde`` for one student in its own process group."""
    command = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", student,
               "--force", "--log-level=INFO"]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        log, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # nbgrader and the kernel it started
        process.communicate()
        return StudentResult(student, "failed", time.perf_counter() - start,
                             reason=f"timed out after {timeout:g} s (whole submission)")
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        return StudentResult(student, "failed", seconds, reason=failure_reason(log, process.returncode))
    gradebook = open_gradebook(coursedir)
    try:
        submission = gradebook.find_submission(assignment, student)
        return StudentResult(student, "graded", seconds, submission.score, submission.max_score)
    finally:
        gradebook.close()


def record_path(root: Path, assignment: str, student: str) -> Path:
    return root / STATE_DIR / assignment / f"{student}.json"


def already_graded(root: Path, assignment: str, student: str) -> bool:
    path = record_path(root, assignment, student)
    return path.exists() and json.loads(path.read_text()).get("status") == "graded"


def autograde(assignment: str, root: Path | str = ".", jobs: int | None = None,
              students: list[str] | None = None, timeout: float = 600.0, redo: bool = False,
              progress: bool = True) -> list[StudentResult]:
    """Grade ``students`` (default: every submitted one) of ``assignment``; see the module doc."""
    root = Path(root).resolve()
    jobs = jobs or os.cpu_count() or 1
    coursedir = load_course_directory(root)
    check_assignment_known(coursedir, assignment)
    submitted = submitted_students(coursedir, assignment)
    if students:
        missing = sorted(set(students) - set(submitted))
        if missing:
            raise SystemExit(f"autograde: no submission of {assignment} from {', '.join(missing)}")
        submitted = [s for s in submitted if s in set(students)]
    todo = [s for s in submitted if redo or not already_graded(root, assignment, s)]
    skipped = len(submitted) - len(todo)
    if skipped:
        tqdm.write(f"{skipped} already graded (recorded in {STATE_DIR}/{assignment}/); "
                   f"--redo grades them again")
    env = worker_environment(jobs)
    results: list[StudentResult] = []
    bar = tqdm(total=len(todo), desc=f"autograde {assignment}", unit="student", disable=not progress)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(grade_student, root, coursedir, assignment, s, timeout, env): s for s in todo}
        try:
            for future in as_completed(futures):
                result = future.result()
                path = record_path(root, assignment, result.student)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(asdict(result), indent=1))
                results.append(result)
                tqdm.write(result.line())
                bar.update()
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            tqdm.write("interrupted: finished students are recorded; run again to grade the rest")
            raise
        finally:
            bar.close()
    return sorted(results, key=lambda r: r.student)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.autograde",
                                     description="Autograde submissions in parallel (see module docstring).")
    parser.add_argument("assignment")
    parser.add_argument("--jobs", type=int, default=None, help="workers (default: number of cores)")
    parser.add_argument("--student", nargs="+", default=None, metavar="ID", help="only these students")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds for one whole submission before it is stopped (default 600)")
    parser.add_argument("--redo", action="store_true", help="grade again students already recorded")
    parser.add_argument("--root", default=".", help="course root (default: current folder)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = autograde(args.assignment, args.root, args.jobs, args.student, args.timeout, args.redo)
    failed = [r for r in results if r.status != "graded"]
    wall = time.perf_counter() - start
    per = f", {wall / len(results):.1f} s per submission (wall clock)" if results else ""
    print(f"graded {len(results) - len(failed)}, failed {len(failed)} in {wall:.1f} s{per}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
