"""``make site``: the course website, built with Jupyter Book 1 into ``_build/site/``.

    python -m website.build                      # execute the lessons (cached), stage, build
    python -m website.build --executed DIR       # use lessons already executed (the tests do)

Steps: (1) every lesson executed headless in smoke mode (:mod:`website.lessons`), kept in
``_build/executed/`` and run again only when the notebook or ``course_utils`` changed;
(2) the book's sources staged in ``_build/site-source/``: README.md as the front page,
``docs/``, the lesson pages and one page per released assignment (:mod:`website.pages`);
(3) Jupyter Book renders them without executing anything. Nothing is fetched from the web.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import nbformat

from website.lessons import execute_lesson
from website.pages import assignment_page, lesson_page

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
BUILD = ROOT / "_build"


def lessons() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def source_key(lesson: Path) -> str:
    """What an executed copy depends on: the notebook and every file of ``course_utils``."""
    digest = hashlib.sha256(lesson.read_bytes())
    for path in sorted((ROOT / "course_utils").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def execute_lessons(folder: Path) -> None:
    """Execute every lesson into ``folder`` (``NN.ipynb`` and ``NN.json``: its key, seconds and
    scratch folder); a copy whose key still matches is kept. Exits on a failing lesson."""
    folder.mkdir(parents=True, exist_ok=True)
    for lesson in lessons():
        record = folder / f"{lesson.stem}.json"
        key = source_key(lesson)
        if record.exists() and json.loads(record.read_text()).get("key") == key \
                and (folder / lesson.name).exists():
            print(f"{lesson.name}: executed copy up to date")
            continue
        scratch = BUILD / "scratch" / lesson.stem
        shutil.rmtree(scratch, ignore_errors=True)
        result = execute_lesson(lesson, scratch)
        if result.error is not None:
            sys.exit(f"{lesson.name} failed after {result.seconds:.0f} s: {result.error}")
        nbformat.write(result.notebook, folder / lesson.name)
        record.write_text(json.dumps({"key": key, "seconds": round(result.seconds, 1),
                                      "scratch": str(scratch)}))
        print(f"{lesson.name}: executed in {result.seconds:.1f} s")


def stage(executed: Path, source: Path) -> None:
    """The book's sources in ``source``: configuration, front page, guides, lessons, assignments."""
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "_static", "_templates", "favicon.svg"):
        if (HERE / name).is_dir():
            shutil.copytree(HERE / name, source / name)
        else:
            shutil.copy(HERE / name, source / name)
    shutil.copy(ROOT / "README.md", source / "README.md")  # the front page, as on GitHub
    shutil.copytree(ROOT / "docs", source / "docs")
    (source / "notebooks").mkdir()
    for lesson in lessons():
        record = executed / f"{lesson.stem}.json"
        scratch = json.loads(record.read_text()).get("scratch") if record.exists() else None
        page = lesson_page(nbformat.read(executed / lesson.name, as_version=4), scratch)
        nbformat.write(page, source / "notebooks" / lesson.name)
    for released in sorted((ROOT / "assignments").glob("*/*.ipynb")):
        target = source / "assignments" / released.parent.name / released.name
        target.parent.mkdir(parents=True)
        nbformat.write(assignment_page(nbformat.read(released, as_version=4), released.stem), target)


def build(source: Path, output: Path, strict: bool = True) -> None:
    """Render the staged book into ``output`` with Jupyter Book (a warning fails a strict build)."""
    from jupyter_book.sphinx import build_sphinx

    shutil.rmtree(output, ignore_errors=True)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the website's own Sphinx extension
    overrides = {"external_toc_path": (source / "_toc.yml").as_posix(),
                 "latex_individualpages": False}
    result = build_sphinx(source, output, noconfig=True, path_config=source / "_config.yml",
                          confoverrides=overrides, doctreedir=source / ".doctrees",
                          builder="html", freshenv=True, warningiserror=strict,
                          keep_going=True, quiet=True)
    if result:
        sys.exit(f"the website did not build (Jupyter Book returned {result})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executed", type=Path, help="folder of executed lessons (default: "
                        "execute them into _build/executed/)")
    parser.add_argument("--source", type=Path, default=BUILD / "site-source")
    parser.add_argument("--output", type=Path, default=BUILD / "site")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    executed = args.executed
    if executed is None:
        executed = BUILD / "executed"
        execute_lessons(executed)
    stage(executed, args.source)
    build(args.source, args.output)
    print(f"the website is in {args.output} ({time.perf_counter() - start:.0f} s); "
          "serve it with `make site-serve`")


if __name__ == "__main__":
    main()
