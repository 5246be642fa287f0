"""``python -m course_utils.instructor.report ASSIGNMENT``: the class report, one HTML page.

    python -m course_utils.instructor.report a1_convolution [--names] [--threshold 0.65]
                                             [--output reports/a1_convolution.html] [--no-similarity]
    make report ASSIGNMENT=a1_convolution [NAMES=1]

Run it in the course after ``make grade`` (or ``nbgrader autograde``). It reads the gradebook
and the verdicts recorded at autograde (:mod:`.records`), computes what the class got wrong
(:mod:`.statistics`), compares the submissions' code (:mod:`.similarity`), writes the page
(:mod:`.page`) in one go -- nothing half-written: the page appears whole or not at all -- and
prints a summary. Students appear by id only with ``--names``; otherwise as ``submission N``.
Exit status: 0 written, 1 the course's data cannot be reported (nothing graded, an unreadable
submission), 2 a bad argument (an assignment the gradebook does not know).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import sys
from pathlib import Path

from tqdm.auto import tqdm

from course_utils.instructor.course import CourseNotFound, find_course_root
from course_utils.instructor.report import page, records, similarity, sources, statistics
from course_utils.instructor.report.records import ReportError


def course_settings(root: Path) -> dict:
    """The gradebook, the folders and the roster, from the course's configuration exactly as the
    ``nbgrader`` command loads it (``nbgrader_config.py``, ``COURSE_GRADEBOOK_URL``)."""
    from nbgrader.apps.nbgraderapp import NbGraderApp
    from nbgrader.coursedir import CourseDirectory

    from course_utils.instructor.lms.roster import CourseRoster

    with contextlib.chdir(root):
        app = NbGraderApp()
        app.initialize([])
        coursedir = CourseDirectory(config=app.config)
        try:
            roster = CourseRoster(config=app.config).load_roster(root)
        except (OSError, ValueError) as error:
            raise ReportError(f"report: the roster (c.CourseRoster.path) cannot be read: {error}") from None
    return {"db_url": coursedir.db_url, "course_id": coursedir.course_id,
            "autograded": coursedir.autograded_directory, "submitted": coursedir.submitted_directory,
            "release": coursedir.release_directory, "source": coursedir.source_directory,
            "roster_ids": [entry.student_id for entry in roster.entries] if roster else [],
            "roster_names": [entry.name for entry in roster.entries] if roster else []}


def _course_notebooks(folder: Path, names: list[str], what: str) -> list[dict]:
    found = []
    for name in names:
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            raise ReportError(f"report: {path} is missing: the {what} of the assignment is needed "
                              "(run `make assignments`)")
        found.append(sources.read_notebook(path))
    return found


def build(root: Path, assignment: str, names: bool = False, threshold: float = similarity.THRESHOLD,
          compare: bool = True, progress: bool = True) -> tuple[str, statistics.ClassStatistics,
                                                                similarity.SimilarityResult | None, dict]:
    """(page, statistics, similarity, labels) for ``assignment`` of the course at ``root``.
    Raises :class:`ReportError`."""
    settings = course_settings(root)
    found = records.read_class(root, assignment, settings["db_url"], settings["course_id"],
                               settings["autograded"], settings["roster_ids"], settings["roster_names"])
    stats = statistics.class_statistics(found)
    code: dict[str, str] = {}
    result = None
    handed_in = []
    if compare:
        released = _course_notebooks(root / settings["release"] / assignment, found.notebooks, "release")
        solved = _course_notebooks(root / settings["source"] / assignment, found.notebooks, "source (solutions)")
        submitted = records.submitted_notebooks(root, assignment, found.notebooks, settings["submitted"])
        handed_in = sorted(submitted)
        locked = sources.locked_ids(released)
        code = {student: sources.own_code(notebooks, locked) for student, notebooks in submitted.items()}
        course = sources.course_sources(root, solved, settings["source"])

        def bar(iterable, total):
            return tqdm(iterable, total=total, desc="similar work", unit="pair", disable=not progress, leave=False)

        result = similarity.similar_work([similarity.Document(s, c) for s, c in code.items()],
                                         [similarity.Document(k, c) for k, c in course.items()],
                                         sources.template_code(released), threshold, progress=bar)
        code.update(course)
    everyone = sorted(set(found.enrolled) | {s.student for s in found.students} | set(found.failed) | set(handed_in))
    labels = {s: s for s in everyone} if names else page.pseudonyms(everyone, assignment)
    generated = datetime.datetime.now().isoformat(sep=" ", timespec="minutes")
    html = page.render(stats, result, code, labels, names, generated)
    return html, stats, result, labels


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def summary(stats: statistics.ClassStatistics, result, labels: dict[str, str], names: bool) -> list[str]:
    graded = len(stats.scores)
    mean = sum(stats.scores) / graded if graded else 0.0
    lines = [f"{stats.assignment}: {graded} graded of {stats.enrolled} students, mean {mean:.2f} of "
             f"{stats.max_score:g}; late {len(stats.late)}, missing {len(stats.missing)}, grading failed "
             f"{len(stats.failed)}, tampering suspected {len(stats.tampering)}, delegation "
             f"{len({s for v in stats.delegated.values() for s in v})}"]
    worst = sorted((g for g in stats.groups if g.failed), key=lambda g: -g.share)[:5]
    if worst:
        lines.append("failed most: " + "; ".join(f"{g.function} '{g.label}' {g.failed}/{g.graded}" for g in worst))
    for mistake in stats.mistakes[:3]:
        lines.append(f"  {mistake.students} x {mistake.function}: {mistake.kind[:110]}")
    if result is not None:
        lines.append(f"similar work (>= {100 * result.threshold:.0f}% shared): {len(result.pairs)} pairs, "
                     f"{len(result.sources)} like the course's code"
                     + ("" if names or not (result.pairs or result.sources) else " (--names to see who)"))
        for match in result.pairs[:5]:
            lines.append(f"  {labels[match.left]} and {labels[match.right]}: {100 * match.share:.0f}%")
        for match in result.sources[:5]:
            lines.append(f"  {labels[match.left]} and {match.right}: {100 * match.left_share:.0f}%")
    return lines


def threshold_argument(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1 (0.65 is 65%), got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_utils.instructor.report",
                                     description="What the class got wrong, and who handed in the same work: "
                                                 "one HTML page from the gradebook and the recorded verdicts.")
    parser.add_argument("assignment", help="the assignment, e.g. a1_convolution")
    parser.add_argument("--names", action="store_true", help="show students by id (default: submission N)")
    parser.add_argument("--threshold", type=threshold_argument, default=similarity.THRESHOLD,
                        help=f"share of a submission's own code found in another that flags the pair "
                             f"(default {similarity.THRESHOLD})")
    parser.add_argument("--output", default=None, help="the page (default: reports/ASSIGNMENT.html in the course)")
    parser.add_argument("--no-similarity", action="store_true", help="leave out the comparison of code")
    parser.add_argument("--root", default=None, help="course root (default: the folder holding nbgrader_config.py)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        root = find_course_root(args.root)
    except CourseNotFound as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    output = Path(args.output) if args.output else root / "reports" / f"{args.assignment}.html"
    if not records.is_plain_name(args.assignment):
        print(f"report: assignment must be an assignment's name, got {args.assignment!r}", file=sys.stderr)
        return 2
    try:
        html, stats, result, labels = build(root, args.assignment, args.names, args.threshold,
                                            not args.no_similarity, progress=sys.stderr.isatty())
    except ReportError as error:
        print(error, file=sys.stderr)
        return error.status
    write_whole(output, html)
    print("\n".join(summary(stats, result, labels, args.names)))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
