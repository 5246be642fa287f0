"""Make the student versions: ``solutions/<id>/`` -> ``assignments/<id>/`` with nbgrader.

    python -m course_utils.instructor.release               # every assignment (`make assignments`)
    python -m course_utils.instructor.release a2_pooling    # only these
    python -m course_utils.instructor.release --check       # exit 1 if assignments/ is out of date

Run it in the course: the root is the folder holding ``nbgrader_config.py``, the current one or
the nearest above it (``--root`` to name it). For each assignment it runs nbgrader's ``generate_assignment`` (solutions and
hidden tests removed, test cells locked with checksums, the assignment and its cells recorded
in the gradebook, which ``autograde`` needs later) and then writes every released notebook in
one canonical form -- no outputs, no execution counts, sorted keys, one-space indent, final
newline -- so regenerating from unchanged solutions is byte-identical and ``git diff`` shows
only real changes. ``--check`` does the same in a temporary copy of the course and compares;
it touches neither ``assignments/`` nor the gradebook.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from course_utils.instructor.course import find_course_root, with_venv_on_path


def assignment_ids(root: Path) -> list[str]:
    """Every ``solutions/<id>/`` that holds ``<id>.ipynb``, sorted."""
    return sorted(path.parent.name for path in (root / "solutions").glob("*/*.ipynb")
                  if path.stem == path.parent.name)


def canonical_json(notebook: dict) -> str:
    """A notebook as committed: outputs and execution counts cleared, stable formatting."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _load_config(root: Path):
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    return config


def generate(root: Path, ids: list[str] | None = None, *, db_url: str | None = None) -> None:
    """Run nbgrader's generate_assignment for ``ids`` (default: all) and canonicalise the output.

    ``db_url`` overrides the gradebook of ``nbgrader_config.py`` (``--check`` uses a throwaway).
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = _load_config(root)
    if db_url is not None:
        config.CourseDirectory.db_url = db_url
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    saved_path = os.environ.get("PATH", "")
    os.environ["PATH"] = with_venv_on_path()["PATH"]  # nbgrader runs `alembic`
    try:
        for assignment in ids or assignment_ids(root):
            result = api.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(
                    f"nbgrader generate_assignment {assignment} failed:\n{result.get('log', '')}\n"
                    f"{result.get('error', '')}"
                )
            for path in sorted((root / "assignments" / assignment).rglob("*.ipynb")):
                text = canonical_json(json.loads(path.read_text(encoding="utf-8")))
                path.write_text(text, encoding="utf-8")
    finally:
        os.environ["PATH"] = saved_path


def stale_files(root: Path) -> list[str]:
    """Differences between ``assignments/`` and a fresh release of ``solutions/`` (empty: up to date).

    Each entry names a file that is missing, extra or different, with the first lines of the diff.
    """
    problems = []
    with tempfile.TemporaryDirectory(prefix="release-check-") as scratch:
        course = Path(scratch)
        shutil.copy(root / "nbgrader_config.py", course)
        shutil.copytree(root / "solutions", course / "solutions",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        generate(course, db_url=f"sqlite:///{course / 'gradebook.db'}")
        fresh = {p.relative_to(course / "assignments"): p for p in (course / "assignments").rglob("*") if p.is_file()}
        released = root / "assignments"
        committed = {
            p.relative_to(released): p for p in released.rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts and p.name != ".gitkeep"
        }
        for name in sorted(set(fresh) | set(committed), key=str):
            if name not in committed:
                problems.append(f"assignments/{name} is missing")
            elif name not in fresh:
                problems.append(f"assignments/{name} has no source in solutions/")
            elif fresh[name].read_bytes() != committed[name].read_bytes():
                diff = difflib.unified_diff(
                    committed[name].read_text(encoding="utf-8").splitlines(),
                    fresh[name].read_text(encoding="utf-8").splitlines(),
                    "committed", "generated", lineterm="", n=1,
                )
                problems.append(f"assignments/{name} differs:\n" + "\n".join(list(diff)[:20]))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.instructor.release",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: all in solutions/)")
    parser.add_argument("--check", action="store_true",
                        help="only report whether assignments/ is up to date (exit 1 if not)")
    parser.add_argument("--root", default=None,
                        help="the course root (default: the folder holding nbgrader_config.py, here or above)")
    args = parser.parse_args(argv)
    root = find_course_root(args.root)
    if args.check:
        problems = stale_files(root)
        for problem in problems:
            print(problem)
        if problems:
            print("assignments/ is out of date: run `make assignments` and commit the result.")
            return 1
        print("assignments/ is up to date with solutions/.")
        return 0
    known = assignment_ids(root)
    unknown = sorted(set(args.assignments) - set(known))
    if unknown:
        parser.error(f"no solutions/<id>/<id>.ipynb for {', '.join(unknown)}; known: {', '.join(known)}")
    ids = args.assignments or known
    generate(root, ids)
    for assignment in ids:
        print(f"released assignments/{assignment}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
