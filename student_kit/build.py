"""``make student-kit``: what an instructor publishes for students, built from this repository.

    python -m student_kit.build          # -> _build/student-kit/cnn-course/ and cnn-course.tar.gz

The kit holds everything a student needs and nothing of ``solutions/``: the lessons
(``notebooks/``), ``course_utils`` without the instructor package, the released assignments
(``assignments/``), the student's JupyterLab configuration (``jupyter_config/``, less what loads
the instructor package), a Makefile
whose ``make lab``, ``make start`` and ``make validate`` are the repository's own
(``student_kit/lab.mk``), a README and a pyproject.toml made from the repository's. Only files
git tracks are copied, so nothing left lying in the working tree slips in. The build refuses a
kit with a notebook that holds an nbgrader solution or hidden-test marker. Standard library only: it runs
before any environment exists.
"""

from __future__ import annotations

import argparse
import gzip
import io
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
NAME = "cnn-course"
#: What the kit takes from the repository, and what it leaves out of those folders.
COPIED = ("notebooks/", "assignments/", "course_utils/", "jupyter_config/")
LEFT_OUT = ("course_utils/instructor/",)
#: Files of this folder that become the kit's own (source -> name in the kit).
OWN_FILES = {"Makefile": "Makefile", "lab.mk": "lab.mk", "README.md": "README.md",
             "gitignore": ".gitignore"}
MARKERS = ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return sorted(name for name in listed.stdout.decode().split("\0") if name)


def loads_the_instructor_package(name: str) -> bool:
    """A configuration file that loads ``course_utils.instructor`` (the Formgrader's sanitized
    view is a server extension every JupyterLab of the course enables): without the package, the
    student's JupyterLab would print an error for it at every start."""
    return name.startswith("jupyter_config/") and "course_utils.instructor" in (ROOT / name).read_text()


def kit_files() -> list[str]:
    """The repository's files the kit copies, as paths relative to the root."""
    return [name for name in tracked_files()
            if name.startswith(COPIED) and not name.startswith(LEFT_OUT)
            and (ROOT / name).is_file() and not loads_the_instructor_package(name)]


def pyproject() -> str:
    """The kit's pyproject.toml: the repository's package and runtime dependencies, no extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dependencies = "".join(f'    "{requirement}",\n' for requirement in project["dependencies"])
    return (
        "# The course's package and what the lessons need (made by `make student-kit` from the\n"
        "# course repository's pyproject.toml).\n"
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{project["name"]}"\nversion = "{project["version"]}"\n'
        f'description = "{project["description"]}"\n'
        f'requires-python = "{project["requires-python"]}"\n'
        f"dependencies = [\n{dependencies}]\n\n"
        '[tool.setuptools.packages.find]\ninclude = ["course_utils*"]\n'
    )


def check(kit: Path) -> None:
    """Stop if a notebook of the kit holds a solution or hidden-test marker (nbgrader removes
    them from what it releases: a marker means an instructor's notebook got in), or if the
    instructor package or solutions/ did."""
    for path in kit.rglob("*.ipynb"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="ignore")
            found = [marker for marker in MARKERS if marker in text]
            if found:
                sys.exit(f"student kit: {path.relative_to(kit)} holds {found[0]!r}; not published")
    if (kit / "course_utils" / "instructor").exists() or (kit / "solutions").exists():
        sys.exit("student kit: the instructor package or solutions/ got in; not published")


def archive(kit: Path, target: Path) -> None:
    """``kit`` as a .tar.gz whose entries are sorted and dated 0, so a rebuild is identical."""
    with open(target, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(kit.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=f"{NAME}/{path.relative_to(kit).as_posix()}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if path.is_file():
                tar.addfile(info, io.BytesIO(path.read_bytes()))
            else:
                tar.addfile(info)


def build(output: Path) -> Path:
    kit = output / NAME
    shutil.rmtree(output, ignore_errors=True)
    kit.mkdir(parents=True)
    for name in kit_files():
        (kit / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, kit / name)
    for source, name in OWN_FILES.items():
        shutil.copy2(HERE / source, kit / name)
    (kit / "pyproject.toml").write_text(pyproject())
    check(kit)
    archive(kit, output / f"{NAME}.tar.gz")
    return kit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "_build" / "student-kit")
    kit = build(parser.parse_args(argv).output)
    files = sum(1 for path in kit.rglob("*") if path.is_file())
    print(f"student kit: {kit} ({files} files) and {kit.parent / (NAME + '.tar.gz')}\n"
          "Publish it as a repository of its own (git init; git add .; git commit) or as the "
          "archive; students then run `make lab` in it.")


if __name__ == "__main__":
    main()
