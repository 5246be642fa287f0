"""The autograde pipeline as a course configures it: read once, in one place.

``nbgrader_config.py`` names the steps (``c.Autograde.autograde_preprocessors``: classes or
dotted names, nbgrader's list ``.append``-ed to, or nbgrader's default). :func:`autograde_steps`
reads that list; the course's ``Execute`` looks in it for the trusted check, and the parallel
autograde's workers replace the ``Execute`` step in it
(:mod:`course_utils.instructor.autograde_worker`).

:class:`CourseSandbox` is the one switch between grading in the bubblewrap sandbox (the default)
and without it (``c.CourseSandbox.enabled = False``, or ``COURSE_SANDBOX=off``, which
``python -m course_utils.instructor.autograde --no-sandbox`` sets).
"""

from __future__ import annotations

from traitlets import Bool
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
