"""The grading side of :mod:`course_utils.instructor.autograde`: one long-lived process that loads nbgrader
once and then answers requests, one JSON line per request on stdin and one per reply on stdout.

    python -m course_utils.instructor.autograde_worker --root COURSE_ROOT   (started by autograde)

Requests:

* ``{"survey": ASSIGNMENT}``: what the course holds for it -- ``{"students": {student:
  submission time}, "in_gradebook": [student, ...]}`` or ``{"error": why}`` (assignment unknown
  to the gradebook). The first survey also creates the gradebook's tables, once, before any
  grading (two workers creating them would race).
* ``{"grade": ASSIGNMENT, "student": ID}``: nbgrader's own ``autograde`` for that student --
  what ``nbgrader autograde ASSIGNMENT --student ID --force`` runs, with the configuration
  the ``nbgrader`` command loads -- answered with ``{"success", "score", "max_score",
  "reason", "notes"}``.

The parent process never imports nbgrader (about 2.4 s of CPU: its package imports its Jupyter
server extensions), and the workers outlive assignments, so grading several assignments in one
run pays for that import once per worker.

One difference from nbgrader's own execution, in how a finished kernel is stopped and never in
what it computes: nbgrader asks the kernel to shut down and then polls every 0.1 s until the
process has exited (about 0.3 s idle per submission). Here the kernel gets the same shutdown
request and the same grace period (``KernelManager.shutdown_wait_time``, then SIGTERM, then
SIGKILL), but a thread waits for it while the next submission starts. A kernel that is slow to
exit (``atexit`` work, a non-daemon thread) therefore overlaps the next submission by up to that
grace period; its notebook's outputs were all collected before the shutdown request.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from course_utils.grading.flags import METADATA_KEY
from course_utils.instructor.trusted.pipeline import autograde_steps


def worker_db_url(db_url: str) -> str:
    """SQLite waits up to 60 s for another worker's write instead of failing after 5 s."""
    if db_url.startswith("sqlite") and "timeout=" not in db_url:
        return db_url + ("&" if "?" in db_url else "?") + "timeout=60"
    return db_url


#: Exceptions in nbgrader's log, in words an instructor can act on.
KNOWN_ERRORS = {
    "DeadKernelError": "the kernel died (the submission exits Python, crashes it or runs out of memory)",
    "CellTimeoutError": "a cell ran past the cell timeout and could not be interrupted",
    "OperationalError": "the gradebook database refused a write",
}


def failure_reason(log: str) -> str:
    """Why nbgrader failed for one student, from its log: the last exception line, explained."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    exceptions = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Interrupt): ", line)]
    for line in reversed(exceptions):
        for name, words in KNOWN_ERRORS.items():
            if name in line:
                return f"{words} [{line[:160]}]"
    causes = [line for line in exceptions if not line.startswith(("nbgrader.converters.base.NbGraderException",
                                                                     "NbGraderException"))]
    errors = causes or exceptions or [line for line in lines if "[ERROR]" in line]
    return (errors or lines or ["nbgrader failed without a message"])[-1][:200]


def notebook_notes(path: Path) -> list[str]:
    """What the grading of one autograded notebook noticed without failing the submission, as the
    course's pipeline recorded it (:mod:`course_utils.instructor.trusted.preprocessors`): cells
    stopped by the cell timeout, outputs cut, a kernel that died, test cells whose kernel result
    and trusted verdict differ ("tampering suspected: ..."), grading without the sandbox."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    recorded = notebook.get("metadata", {}).get(METADATA_KEY, {})
    notes = recorded.get("notes", []) if isinstance(recorded, dict) else []
    return [str(note) for note in notes] if isinstance(notes, list) else []


# --- stopping kernels without waiting for them -------------------------------------------------

def _reap(process: subprocess.Popen, group: int | None, wait: float) -> None:
    """Wait for a kernel asked to shut down; after ``wait / 2`` s SIGTERM, after ``wait`` s SIGKILL
    (to its process group, as jupyter_client does): the escalation ``finish_shutdown`` does."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            process.wait(timeout=wait / 2)
            return
        except subprocess.TimeoutExpired:
            try:
                os.killpg(group, signum) if group else process.send_signal(signum)
            except (ProcessLookupError, PermissionError):
                pass
    process.wait()


class BackgroundShutdownMixin:
    """A kernel manager's shutdown, except that after the shutdown request the kernel's process
    goes to a thread (:func:`_reap`) instead of being polled every 0.1 s. Mixed into whichever
    manager runs the kernels (jupyter_client's, or the sandboxed one)."""

    async def _async_finish_shutdown(self, waittime=None, pollinterval=0.1, restart=False):
        provisioner = self.provisioner
        process = getattr(provisioner, "process", None)
        if restart or not isinstance(process, subprocess.Popen):  # not a local process: as usual
            return await super()._async_finish_shutdown(waittime, pollinterval, restart)
        if waittime is None:
            waittime = provisioner.get_shutdown_wait_time(recommended=max(self.shutdown_wait_time, 0))
        provisioner.process = None  # the kernel is the thread's now: has_kernel is False
        group = getattr(provisioner, "pgid", None)
        threading.Thread(target=_reap, args=(process, group, waittime), daemon=True,
                         name=f"reap-kernel-{process.pid}").start()

    finish_shutdown = _async_finish_shutdown


class BackgroundShutdownKernelManager(BackgroundShutdownMixin, AsyncKernelManager):
    """jupyter_client's kernel manager with the kernel stopped in the background."""


def with_background_shutdown(manager: type) -> type:
    """``manager`` (a kernel manager class) with :class:`BackgroundShutdownMixin`."""
    if manager is AsyncKernelManager:
        return BackgroundShutdownKernelManager
    return type(f"BackgroundShutdown{manager.__name__}", (BackgroundShutdownMixin, manager), {})


def execute_with_background_shutdown(base=None):
    """``base`` (nbgrader's ``Execute`` or a subclass, e.g. the course's sandboxed one; same
    configuration section) whose kernels are stopped in the background. The kernel manager is
    the one ``base`` would use (``base.kernel_manager(config)`` when it says), with the mixin."""
    from nbgrader.preprocessors import Execute as NbgraderExecute

    base = base or NbgraderExecute

    class Execute(base):  # the same name: an `Execute` config section applies unchanged
        def __init__(self, *args, **kwargs):
            choose = getattr(base, "kernel_manager", None)
            manager = choose(config=kwargs.get("config"), parent=kwargs.get("parent")) if choose else AsyncKernelManager
            kwargs.setdefault("kernel_manager_class", with_background_shutdown(manager))
            super().__init__(*args, **kwargs)

    return Execute


def use_background_shutdown(config) -> None:
    """In ``config``, replace nbgrader's ``Execute`` (or the subclass the course names) in the
    autograde pipeline (:func:`~course_utils.instructor.trusted.pipeline.autograde_steps`) by
    :func:`execute_with_background_shutdown` of it; the other steps are kept as they are."""
    from nbgrader.preprocessors import Execute

    config.Autograde.autograde_preprocessors = [
        execute_with_background_shutdown(step) if isinstance(step, type) and issubclass(step, Execute) else step
        for step in autograde_steps(config)]


# --- the requests ------------------------------------------------------------------------------

def shown_url(db_url: str) -> str:
    """``db_url`` with any password replaced by ``***``, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(db_url).render_as_string(hide_password=True)


def survey(coursedir, db_url: str, assignment: str) -> dict:
    """Submitted students with their submission times, and those already in the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id=coursedir.course_id) as gradebook:
        try:
            in_gradebook = sorted(s.student_id for s in gradebook.find_assignment(assignment).submissions)
        except MissingEntry:
            return {"error": f"the gradebook ({shown_url(coursedir.db_url)}) does not know assignment {assignment!r}; "
                             f"run `make assignments` (nbgrader generate_assignment) first"}
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    students = {}
    for folder in sorted(glob.glob(pattern)):
        if Path(folder).is_dir():
            files = [p for p in Path(folder).rglob("*") if p.is_file()]
            students[Path(folder).parent.name] = max((p.stat().st_mtime for p in files), default=0.0)
    return {"students": students, "in_gradebook": in_gradebook}


def grade(api, db_url: str, assignment: str, student: str) -> dict:
    """``nbgrader autograde assignment --student student --force``, through nbgrader's API."""
    from nbgrader.api import Gradebook

    from course_utils.instructor.untrusted.files import removed_from

    result = api.autograde(assignment, student, force=True, create=True)
    removed = removed_from(student, assignment)
    if not result["success"]:
        refused = [entry for entry in removed if entry.path.endswith(".ipynb")]
        if refused:
            return {"success": False, "reason": "; ".join(
                f"refused: {entry.path} is {entry.why}, not a notebook the student wrote" for entry in refused)}
        return {"success": False, "reason": failure_reason(result.get("log", "") + "\n" + result.get("error", ""))}
    with Gradebook(db_url, course_id=api.coursedir.course_id) as gradebook:
        submission = gradebook.find_submission(assignment, student)
        score, max_score = submission.score, submission.max_score
    folder = Path(api.coursedir.format_path(api.coursedir.autograded_directory, student, assignment))
    notes = [note for path in sorted(folder.glob("*.ipynb")) for note in notebook_notes(path)]
    return {"success": True, "score": score, "max_score": max_score, "notes": notes}


def serve(root: str) -> int:
    """Answer requests (see the module doc) until stdin closes."""
    replies = os.fdopen(os.dup(1), "w")  # a private channel: anything printed goes to the log
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.chdir(root)
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.nbgraderapp import NbGraderApp
    from nbgrader.coursedir import CourseDirectory

    app = NbGraderApp()  # loads the configuration exactly as the `nbgrader` command does
    app.initialize([])
    db_url = worker_db_url(CourseDirectory(config=app.config).db_url)
    app.config.CourseDirectory.db_url = db_url
    use_background_shutdown(app.config)
    api = NbGraderAPI(config=app.config)
    for line in sys.stdin:
        try:
            request = json.loads(line)
            if "survey" in request:
                reply = survey(api.coursedir, db_url, request["survey"])
            else:
                reply = grade(api, db_url, request["grade"], request["student"])
        except Exception as error:  # e.g. the gradebook could not be read: this request fails alone
            reply = {"success": False, "error": f"{type(error).__name__}: {error}"[:300],
                     "reason": f"{type(error).__name__}: {error}"[:300]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.instructor.autograde_worker",
                                     description="One grading worker of course_utils.autograde.")
    parser.add_argument("--root", required=True, help="the course root (where nbgrader_config.py is)")
    return serve(parser.parse_args(argv).root)


if __name__ == "__main__":
    sys.exit(main())
