"""Time serial ``nbgrader autograde`` against ``python -m course_utils.autograde --jobs N``, one run.

    .venv/bin/python benchmarks/bench_autograde.py [--students 20] [--jobs 2]

Builds a throwaway course (the repository's nbgrader_config.py and solutions/, released), hands
in both assignments for every student -- most correct, every fourth with a typical bug
(a1: zero_pad hard-codes the padding; a2: max_pool2d forgets the stride) -- and grades the same
submissions twice, in two copies of the course: serial nbgrader, one assignment after the other,
and the parallel autograde. Both must leave the same scores. Prints wall seconds, seconds per
submission, the speed-up and the machine's load average (other work on the machine slows both).
Target (issue 8): at least 1.7x with --jobs 2 on 2 cores.
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
        serial, parallel = Path(scratch) / "serial", Path(scratch) / "parallel"
        shutil.copytree(base, serial)
        shutil.copytree(base, parallel)
        load_before = os.getloadavg()
        serial_seconds = sum(timed([sys.executable, "-m", "nbgrader", "autograde", assignment], serial)
                             for assignment in ASSIGNMENTS)
        parallel_seconds = sum(timed([sys.executable, "-m", "course_utils.autograde", assignment,
                                      "--jobs", str(args.jobs)], parallel) for assignment in ASSIGNMENTS)
        load_after = os.getloadavg()
        for assignment in ASSIGNMENTS:
            same = (gradebook_scores(f"sqlite:///{serial / 'gradebook.db'}", students, assignment)
                    == gradebook_scores(f"sqlite:///{parallel / 'gradebook.db'}", students, assignment))
            if not same:
                raise SystemExit(f"{assignment}: the parallel autograde's scores differ from nbgrader's")

    print(f"autograde of {count} submissions ({len(students)} students x {len(ASSIGNMENTS)} assignments, "
          f"{sum(1 for i in range(len(students)) if i % 4 == 3)} of them buggy per assignment); "
          "kernel start included")
    print(f"machine: {describe()}; 1-minute load average {load_before[0]:.2f} before the runs, "
          f"{load_after[0]:.2f} after (other work on the machine slows both runs)")
    print()
    print(f"| {'run':<40} | {'wall s':>7} | {'s / submission':>14} | {'speed-up':>8} |")
    print(f"|{'-' * 42}|{'-' * 9}|{'-' * 16}|{'-' * 10}|")
    rows = [("serial `nbgrader autograde`", serial_seconds),
            (f"`course_utils.autograde --jobs {args.jobs}`", parallel_seconds)]
    for name, seconds in rows:
        print(f"| {name:<40} | {seconds:7.1f} | {seconds / count:14.2f} | {serial_seconds / seconds:7.2f}x |")
    print()
    print(f"same scores in both gradebooks; {3600 * count / parallel_seconds:.0f} submissions per hour "
          f"with --jobs {args.jobs} (target speed-up 1.7x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
