"""Where the course is, and the environment nbgrader's commands need; shared by every instructor tool.

The course root is the folder holding ``nbgrader_config.py``: the current folder or the nearest
one above it (``git``-style), never the folder this package happens to be installed in -- an
instructor may install ``course_utils`` from PyPI or a shared environment and keep the course
anywhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CONFIG_NAME = "nbgrader_config.py"


class CourseNotFound(SystemExit):
    """No ``nbgrader_config.py`` here or above: not inside a course."""


def find_course_root(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the current folder) that holds
    ``nbgrader_config.py``; raises :class:`CourseNotFound` saying where it looked."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise CourseNotFound(
        f"no {CONFIG_NAME} in {here} or any folder above it: run this from the course folder "
        "(the one with nbgrader_config.py, solutions/ and assignments/), or pass --root"
    )


def with_venv_on_path(env=None) -> dict[str, str]:
    """``env`` (default ``os.environ``) with this Python's bin folder first on PATH.

    nbgrader runs the ``alembic`` command when it creates a gradebook; it must be found even
    when this runs as ``.venv/bin/python`` without an activated environment.
    """
    env = dict(os.environ if env is None else env)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env
