"""The autograde pipeline as a course configures it: read once, in one place.

``nbgrader_config.py`` names the steps (``c.Autograde.autograde_preprocessors``: classes or
dotted names, nbgrader's list ``.append``-ed to, or nbgrader's default). :func:`autograde_steps`
reads that list; the course's ``Execute`` looks in it for the trusted check, and the parallel
autograde's workers replace the ``Execute`` step in it
(:mod:`course_utils.instructor.autograde_worker`).

:class:`CourseSandbox` is the one switch between grading in the bubblewrap sandbox (the default)
and without it (``c.CourseSandbox.enabled = False``, or ``COURSE_SANDBOX=off``, which
``python -m course_utils.instructor.autograde --no-sandbox`` sets); :class:`TrustedCheck` holds the
trusted check's time budgets.
"""

from __future__ import annotations

from traitlets import Bool, Float
from traitlets.config import Configurable

from course_utils.grading import flags


def autograde_steps(config) -> list:
    """The autograde preprocessors ``config`` names, as classes, in order."""
    from nbgrader.converters import Autograde
    from traitlets.config.loader import LazyConfigValue
    from traitlets.utils.importstring import import_item

    default = Autograde.autograde_preprocessors.default()
    entries = config.Autograde.get("autograde_preprocessors", default) if config is not None else default
    if isinstance(entries, LazyConfigValue):  # c.Autograde.autograde_preprocessors.append(X)
        entries = entries.get_value(default)
    return [import_item(entry) if isinstance(entry, str) else entry for entry in entries]


class TrustedCheck(Configurable):
    """The trusted check's time, judged as the kernel judges it: each cell above a test cell gets
    the kernel's own cell limit (``c.Execute.timeout``), and a function's cases a budget of their
    own (``c.TrustedCheck.case_seconds``)."""

    case_seconds = Float(6.0, help="Seconds all of one graded function's cases may take in the "
                         "checking process (a right answer needs well under one).").tag(config=True)

    def cell_seconds(self) -> float:
        """The kernel's limit for one cell: ``c.Execute.timeout`` (nbgrader's default, 30, if unset)."""
        from course_utils.instructor.trusted.answers import CELL_SECONDS

        timeout = self.config.Execute.get("timeout", None) if self.config is not None else None
        return float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else CELL_SECONDS


class CourseSandbox(Configurable):
    """Whether students' code runs in the sandbox when it is graded."""

    enabled = Bool(True, help="Run the kernel and the trusted check in the bubblewrap sandbox. "
                   "False (or COURSE_SANDBOX=off): without it; the trusted check still decides "
                   "every score, but the kernel can read what the grader can.").tag(config=True)

    def is_enabled(self) -> bool:
        return self.enabled and not flags.sandbox_switched_off()

    def require(self) -> None:
        """Raise ``RuntimeError`` with what to install when the sandbox is on but cannot run."""
        if not self.is_enabled():
            return
        from course_utils.instructor.sandbox.bubblewrap import sandbox_available

        available, message = sandbox_available()
        if not available:
            raise RuntimeError(
                f"{message}\nTo grade without the sandbox (tampering protection partial): "
                "python -m course_utils.instructor.autograde ... --no-sandbox, or "
                "COURSE_SANDBOX=off nbgrader autograde ..."
            )
