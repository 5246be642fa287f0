"""Time serial ``nbgrader autograde`` against ``python -m course_utils.instructor.autograde --jobs N``,
side by side in one run, with and without the sandbox and the trusted check.

    .venv/bin/python benchmarks/bench_autograde.py [--students 20] [--jobs 2] [--quick]
                                                   [--section 24] [--only-section]

Builds a throwaway course (the repository's nbgrader_config.py and solutions/, released) and hands
in both assignments for every student -- most correct, every fourth with a typical bug
(a1: zero_pad hard-codes the padding; a2: max_pool2d forgets the stride) -- plus one more a2
submission whose max_pool2d never returns (real classes have one: it waits out the timeouts).
The same submissions are graded in copies of the course:

* ``plain serial``: ``nbgrader autograde``, one assignment after the other, with nbgrader's own
  pipeline (the course's sandbox and trusted check switched off in that copy's config): what a
  course gets from nbgrader alone, and the baseline of every speed-up;
* ``course serial``: the same command with the course's config (kernel in the sandbox, every
  score decided by the trusted check);
* ``course --jobs N``: the parallel autograde, both assignments in one command (the course's
  config);
* ``course --jobs N --no-sandbox``: the same without the sandbox (the trusted check still runs);
* ``plain --jobs N``: the parallel autograde with nbgrader's own pipeline (what the trusted check
  and the sandbox add, seen from the parallel side).

First, a small section (``--section 24``: 23 students' a2_pooling and one submission that never
returns), where what a run costs whatever its size weighs most: plain serial nbgrader against
the parallel autograde, and the parallel run's fixed cost (its wall time less the students'
grading seconds shared by the workers). Then the class above.

Prints wall seconds, seconds per submission and the speed-up over plain serial nbgrader, and the
machine's load average (other work slows every run). Target (issue 13): the sandboxed and trusted
``--jobs 2`` at least 1.7x faster than plain serial ``nbgrader autograde``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "instructor"))  # the course builder the nbgrader tests use

from machine import describe  # noqa: E402  (benchmarks/machine.py)
from nbgrader_course import (  # noqa: E402
    ASSIGNMENTS,
    course_env,
    mutate,
    new_course,
    solution_code,
    submission,
    submit,
)

#: Appended to a course copy's nbgrader_config.py: nbgrader's own autograde pipeline.
PLAIN_PIPELINE = """
# --- benchmark: nbgrader's own pipeline (no sandbox, no trusted check) ---
from nbgrader.converters import Autograde as _Autograde
c.Autograde.sanitize_preprocessors = _Autograde.sanitize_preprocessors.default()
c.Autograde.autograde_preprocessors = _Autograde.autograde_preprocessors.default()
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20, help="each hands in both assignments")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="only plain serial and the sandboxed --jobs N")
    parser.add_argument("--section", type=int, default=24,
                        help="submissions of the small-section case (a2 only, one of them hangs); 0: skip it")
    parser.add_argument("--only-section", action="store_true", help="only the small-section case")
    return parser.parse_args()


def hand_in_section(course: Path, students: list[str]) -> None:
    """One assignment (a2_pooling) for a small section: every fourth student forgets the stride,
    and one more submission never returns."""
    a2 = solution_code("a2_pooling")
    bug = {"max_pool2d": mutate(a2["max_pool2d"], "top, left = y * stride, x_ * stride", "top, left = y, x_")}
    hang = mutate(a2["max_pool2d"], "    if stride is None:", "    while True:\n        pass\n    if stride is None:")
    submit(course, "a2_pooling", {
        student: submission(course, "a2_pooling", code=bug if index % 4 == 3 else None)
        for index, student in enumerate(students)})
    submit(course, "a2_pooling", {"zz_hang": submission(course, "a2_pooling", code={"max_pool2d": hang})})


def hand_in(course: Path, students: list[str]) -> None:
    a1, a2 = solution_code("a1_convolution"), solution_code("a2_pooling")
    bugs = {
        "a1_convolution": {"zero_pad": mutate(a1["zero_pad"], "(pad, pad), (pad, pad)", "(1, 1), (1, 1)")},
        "a2_pooling": {"max_pool2d": mutate(a2["max_pool2d"], "top, left = y * stride, x_ * stride",
                                            "top, left = y, x_")},
    }
    for assignment in ASSIGNMENTS:
        submit(course, assignment, {
            student: submission(course, assignment, code=bugs[assignment] if index % 4 == 3 else None)
            for index, student in enumerate(students)
        })
    hang = mutate(a2["max_pool2d"], "    if stride is None:", "    while True:\n        pass\n    if stride is None:")
    submit(course, "a2_pooling", {"zz_hang": submission(course, "a2_pooling", code={"max_pool2d": hang})})


def parallel(*assignments: str, jobs: int, sandbox: bool = True) -> list[str]:
    return [sys.executable, "-m", "course_utils.instructor.autograde", *assignments, "--jobs", str(jobs),
            *([] if sandbox else ["--no-sandbox"])]


def timed(command: list[str], course: Path, ok_codes=(0,)) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=course, env=course_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode not in ok_codes:
        logs = "".join(path.read_text()[-4000:] for path in sorted((course / ".autograde").glob("worker-*.log")))
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}\n"
                         f"worker logs (ends):\n{logs}")
    return seconds


def fixed_cost(course: Path, wall: float, jobs: int) -> float:
    """Seconds of a parallel run not spent grading a student on some worker: the wall time less
    the students' grading seconds (``.autograde`` records) shared by the workers -- starting the
    workers and nbgrader's import, reading the course, the idle tail while one worker still
    grades (a hang), stopping."""
    seconds = sum(json.loads(path.read_text())["seconds"] for path in (course / ".autograde").glob("*/*.json"))
    return wall - seconds / jobs


def section(args) -> None:
    """The small-section case: ``args.section`` submissions of a2_pooling, one of which hangs."""
    students = [f"student{index:03d}" for index in range(args.section - 1)]
    with tempfile.TemporaryDirectory(prefix="bench-section-") as scratch:
        base = new_course(Path(scratch) / "base", assignments=("a2_pooling",))
        hand_in_section(base, students)
        runs = {name: Path(scratch) / name for name in ("plain_serial", "course_jobs")}
        for name, course in runs.items():
            shutil.copytree(base, course)
            if name == "plain_serial":
                with open(course / "nbgrader_config.py", "a") as config:
                    config.write(PLAIN_PIPELINE)
        load_before = os.getloadavg()
        serial_wall = timed([sys.executable, "-m", "nbgrader", "autograde", "a2_pooling"], runs["plain_serial"])
        jobs_wall = timed(parallel("a2_pooling", jobs=args.jobs), runs["course_jobs"])
        fixed = fixed_cost(runs["course_jobs"], jobs_wall, args.jobs)
        load_after = os.getloadavg()
    print(f"small section: {args.section} submissions of a2_pooling ({len(students)} students, every fourth "
          "forgets the stride, and one submission that never returns)")
    print(f"machine: {describe()}; 1-minute load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print()
    print(f"| {'run':<66} | {'wall s':>7} | {'s / submission':>14} | {'speed-up':>8} |")
    print(f"|{'-' * 68}|{'-' * 9}|{'-' * 16}|{'-' * 10}|")
    for label, wall in (("serial `nbgrader autograde`, nbgrader's own pipeline", serial_wall),
                        (f"`instructor.autograde --jobs {args.jobs}` (sandbox + trusted)", jobs_wall)):
        print(f"| {label:<66} | {wall:7.1f} | {wall / args.section:14.2f} | {serial_wall / wall:7.2f}x |")
    print()
    print(f"fixed cost of the parallel run: {fixed:.1f} s of {jobs_wall:.1f} s (wall time not spent grading "
          "a student on a worker: start, nbgrader's import, reading the course, the idle tail, stopping)")
    print(f"target: the sandboxed, trusted --jobs {args.jobs} at least 1.8x plain serial nbgrader on a small "
          f"section: {serial_wall / jobs_wall:.2f}x")
    print()


def serial(course: Path) -> float:
    return sum(timed([sys.executable, "-m", "nbgrader", "autograde", assignment], course)
               for assignment in ASSIGNMENTS)


def main() -> int:
    args = parse_args()
    if args.section:
        section(args)
    if args.only_section:
        return 0
    students = [f"student{index:03d}" for index in range(args.students)]
    count = len(students) * len(ASSIGNMENTS) + 1
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as scratch:
        base = new_course(Path(scratch) / "base")
        hand_in(base, students)
        names = ["plain_serial", "course_jobs"] if args.quick else [
            "plain_serial", "course_serial", "course_jobs", "course_jobs_no_sandbox", "plain_jobs"]
        runs = {name: Path(scratch) / name for name in names}
        for name, course in runs.items():
            shutil.copytree(base, course)
            if name.startswith("plain"):
                with open(course / "nbgrader_config.py", "a") as config:
                    config.write(PLAIN_PIPELINE)
        load_before = os.getloadavg()
        commands = {
            "plain_serial": lambda course: serial(course),
            "course_serial": lambda course: serial(course),
            "course_jobs": lambda course: timed(parallel(*ASSIGNMENTS, jobs=args.jobs), course),
            "course_jobs_no_sandbox": lambda course: timed(parallel(*ASSIGNMENTS, jobs=args.jobs, sandbox=False), course),
            "plain_jobs": lambda course: timed(parallel(*ASSIGNMENTS, jobs=args.jobs), course),
        }
        seconds = {name: commands[name](course) for name, course in runs.items()}
        fixed = fixed_cost(runs["course_jobs"], seconds["course_jobs"], args.jobs)
        load_after = os.getloadavg()

    print(f"autograde of {count} submissions ({len(students)} students x {len(ASSIGNMENTS)} assignments, "
          f"{sum(1 for i in range(len(students)) if i % 4 == 3)} buggy per assignment, and one a2 "
          "submission that never returns); kernel start included")
    print(f"machine: {describe()}; 1-minute load average {load_before[0]:.2f} before the runs, "
          f"{load_after[0]:.2f} after (other work on the machine slows every run)")
    print()
    labels = {
        "plain_serial": "serial `nbgrader autograde`, nbgrader's own pipeline",
        "course_serial": "serial `nbgrader autograde`, course config (sandbox + trusted)",
        "course_jobs": f"`instructor.autograde --jobs {args.jobs}` (sandbox + trusted)",
        "course_jobs_no_sandbox": f"`instructor.autograde --jobs {args.jobs} --no-sandbox` (trusted)",
        "plain_jobs": f"`instructor.autograde --jobs {args.jobs}`, nbgrader's own pipeline",
    }
    print(f"| {'run':<66} | {'wall s':>7} | {'s / submission':>14} | {'speed-up':>8} |")
    print(f"|{'-' * 68}|{'-' * 9}|{'-' * 16}|{'-' * 10}|")
    for name, wall in seconds.items():
        print(f"| {labels[name]:<66} | {wall:7.1f} | {wall / count:14.2f} | "
              f"{seconds['plain_serial'] / wall:7.2f}x |")
    print()
    print(f"target: the sandboxed, trusted --jobs {args.jobs} at least 1.7x plain serial nbgrader: "
          f"{seconds['plain_serial'] / seconds['course_jobs']:.2f}x")
    print(f"fixed cost of the parallel run: {fixed:.1f} s of {seconds['course_jobs']:.1f} s")
    if "plain_jobs" in seconds:
        added = (seconds["course_jobs"] - seconds["plain_jobs"]) / count
        sandbox = (seconds["course_jobs"] - seconds["course_jobs_no_sandbox"]) / count
        print(f"the sandbox and the trusted check add {added:+.2f} s per submission in the parallel run "
              f"(the sandbox alone {sandbox:+.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
