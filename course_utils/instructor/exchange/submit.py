"""``nbgrader submit`` as the user who runs it: ``--student`` may only name that user.

The check is a courtesy (a student can write into the exchange without nbgrader);
:mod:`~course_utils.instructor.exchange.collect` is what enforces it.
"""

from __future__ import annotations

import os
import pwd

from nbgrader.exchange.default.submit import ExchangeSubmit as NbgraderExchangeSubmit
from nbgrader.utils import get_username


def unix_user() -> str:
    """The name of the Unix user running this process (not an environment variable)."""
    try:
        name = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return get_username()
    return get_username() if name == "jovyan" else name


class ExchangeSubmit(NbgraderExchangeSubmit):
    """nbgrader's submit (same name: ``c.ExchangeSubmit.*`` applies), refusing a submission in
    someone else's name."""

    def init_dest(self):
        claimed, user = self.coursedir.student_id, unix_user()
        if claimed not in ("", "*") and claimed != user:
            self.fail(f"nbgrader submit --student={claimed}: you are {user}, and a submission is always "
                      f"filed under the name of the user who submits it. Run it without --student.")
        super().init_dest()
