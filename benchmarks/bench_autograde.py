"""Time serial ``nbgrader autograde`` against ``python -m course_utils.instructor.autograde --jobs N``, one run.

    .venv/bin/python benchmarks/bench_autograde.py [--students 20] [--jobs 2]

Builds a throwaway course (the repository's nbgrader_config.py and solutions/, released), hands
in both assignments for every student -- most correct, every fourth with a typical bug
(a1: zero_pad hard-codes the padding; a2: max_pool2d forgets the stride) -- and grades the same
submissions four times, in four copies of the course: serial nbgrader, one assignment after
the other (``nbgrader autograde`` takes one assignment); the parallel autograde the same way,
one command per assignment; the parallel autograde given both assignments in one command (its
workers load nbgrader once); and that command with one worker, which separates what the
parallelism gives from what the rest gives (the parent not importing nbgrader, kernels stopped
in the background: see course_utils/autograde_worker.py). All four must leave the same scores. Prints wall seconds,
seconds per submission, the speed-ups and the machine's load average (other work on the
machine slows every run). Target (issue 8): at least 1.7x with --jobs 2 on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the course builder the nbgrader tests use

from machine import describe  # noqa: E402  (benchmarks/machine.py)
from nbgrader_course import (  # noqa: E402
    ASSIGNMENTS,
    course_env,
    gradebook_scores,
    mutate,
    new_course,
    solution_code,
    submission,
    submit,
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20, help="each hands in both assignments")
    parser.add_argument("--jobs", type=int, default=2)
    return parser.parse_args()


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


def parallel(*assignments: str, jobs: int) -> list[str]:
    return [sys.executable, "-m", "course_utils.instructor.autograde", *assignments, "--jobs", str(jobs)]


def timed(command: list[str], course: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=course, env=course_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds


def main() -> int:
    args = parse_args()
    students = [f"student{index:03d}" for index in range(args.students)]
    count = len(students) * len(ASSIGNMENTS)
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as scratch:
        base = new_course(Path(scratch) / "base")
        hand_in(base, students)
        runs = {name: Path(scratch) / name for name in ("serial", "per_assignment", "together", "one_worker")}
        for course in runs.values():
            shutil.copytree(base, course)

        load_before = os.getloadavg()
        seconds = {
            "serial": sum(timed([sys.executable, "-m", "nbgrader", "autograde", assignment], runs["serial"])
                          for assignment in ASSIGNMENTS),
            "per_assignment": sum(timed(parallel(assignment, jobs=args.jobs), runs["per_assignment"])
                                  for assignment in ASSIGNMENTS),
            "together": timed(parallel(*ASSIGNMENTS, jobs=args.jobs), runs["together"]),
            "one_worker": timed(parallel(*ASSIGNMENTS, jobs=1), runs["one_worker"]),
        }
        load_after = os.getloadavg()
        for assignment in ASSIGNMENTS:
            scores = {name: gradebook_scores(f"sqlite:///{course / 'gradebook.db'}", students, assignment)
                      for name, course in runs.items()}
            if any(other != scores["serial"] for other in scores.values()):
                raise SystemExit(f"{assignment}: the parallel autograde's scores differ from nbgrader's")

    print(f"autograde of {count} submissions ({len(students)} students x {len(ASSIGNMENTS)} assignments, "
          f"{sum(1 for i in range(len(students)) if i % 4 == 3)} of them buggy per assignment); "
          "kernel start included")
    print(f"machine: {describe()}; 1-minute load average {load_before[0]:.2f} before the runs, "
          f"{load_after[0]:.2f} after (other work on the machine slows every run)")
    print()
    print(f"| {'run':<50} | {'wall s':>7} | {'s / submission':>14} | {'speed-up':>8} |")
    print(f"|{'-' * 52}|{'-' * 9}|{'-' * 16}|{'-' * 10}|")
    jobs = f"--jobs {args.jobs}"
    rows = [("serial `nbgrader autograde`, per assignment", seconds["serial"]),
            (f"`course_utils.autograde {jobs}`, per assignment", seconds["per_assignment"]),
            (f"`course_utils.autograde {jobs}`, both at once", seconds["together"]),
            ("`course_utils.autograde --jobs 1`, both at once", seconds["one_worker"])]
    for name, wall in rows:
        print(f"| {name:<50} | {wall:7.1f} | {wall / count:14.2f} | {seconds['serial'] / wall:7.2f}x |")
    print()
    print(f"same scores in all four gradebooks; {3600 * count / seconds['together']:.0f} submissions per "
          f"hour with {jobs} (target speed-up 1.7x); {jobs} is "
          f"{seconds['one_worker'] / seconds['together']:.2f}x one worker (the parallel part alone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
