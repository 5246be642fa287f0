"""``nbgrader validate`` as students run it: a path that names no notebook is an error.

nbgrader expands each path it is given with ``glob`` and validates what it finds; a path that
matches nothing is silently skipped, so ``nbgrader validate`` of a mistyped path prints nothing
and exits 0 -- a student reads that as "no problem". The configuration the course's JupyterLab
and hub load (``nbgrader_config.py`` in ``jupyter_config/course/``, the hub's common layer and the
course folder) calls :func:`refuse_missing_notebooks`, after which such a path is an error that
says where nbgrader looked.
"""

from __future__ import annotations

import glob
import os


def missing_paths(arguments) -> list[str]:
    """The arguments that match no file."""
    return [argument for argument in arguments if not glob.glob(argument)]


def refuse_missing_notebooks() -> None:
    """Make ``nbgrader validate PATH`` fail, naming PATH, when PATH matches no file (once per
    process; nbgrader's own behaviour otherwise)."""
    from nbgrader.apps.validateapp import ValidateApp

    if getattr(ValidateApp.start, "refuses_missing", False):
        return
    original = ValidateApp.start

    def start(self):
        missing = missing_paths(self.extra_args)
        if missing:
            names = ", ".join(repr(path) for path in missing)
            self.fail(f"nbgrader validate: no notebook at {names} (looked in {os.getcwd()}). Run it in the "
                      "notebook's folder with the notebook's name, e.g. `nbgrader validate a1_convolution.ipynb`, "
                      "or click Validate in the Assignments panel.")
        return original(self)

    start.refuses_missing = True
    ValidateApp.start = start
