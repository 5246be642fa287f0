"""nbgrader's autograde pipeline, made safe to publish: four preprocessors ``nbgrader_config.py`` names.

=====================  ============================================================================
preprocessor           replaces / adds                  what it changes
=====================  ============================================================================
``OverwriteCells``     nbgrader's ``OverwriteCells``    restores edited test cells as before, but
                                                        warns only about real edits: restoring the
                                                        hidden tests the release removed is normal;
                                                        a pasted copy of a test cell, or a graded
                                                        cell the release never had, becomes an
                                                        ordinary cell instead of failing the
                                                        submission
``SandboxedExecute``   nbgrader's ``Execute``           the kernel runs in the sandbox
                                                        (:mod:`~course_utils.instructor.sandboxed_kernel`);
                                                        a kernel that dies fails the cells from
                                                        there on, not the whole submission
``StartTrustedCheck``  new, first                     starts the trusted check
                                                        (:mod:`~course_utils.instructor.trusted_checks`):
                                                        its checking process runs beside the kernel
``TrustedGrading``     new, before ``SaveAutoGrades``   each test cell's score and message come
                                                        from the trusted check
=====================  ============================================================================

The subclasses keep nbgrader's class names, so every ``c.Execute.*`` and ``c.OverwriteCells.*``
setting still applies. ``c.CourseSandbox.enabled = False`` (or the environment variable
``COURSE_SANDBOX=off``, which ``python -m course_utils.instructor.autograde --no-sandbox`` sets)
runs without the sandbox: the trusted check still decides every score, but the kernel can then
read what the grader's account can (tampering protection is partial, and every log line says
so). Where the sandbox is needed but missing, grading stops with the message that says how to
install it.
"""

from __future__ import annotations

import functools
import os

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute as NbgraderExecute
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.preprocessors import OverwriteCells as NbgraderOverwriteCells
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Float, default
from traitlets.config import Configurable

from course_utils.grading.checks import TRUSTED_FLAG
from course_utils.instructor.trusted_checks import FUNCTION_SECONDS, TrustedCheck, check_notebook

PARTIAL_PROTECTION = "no sandbox: tampering protection is partial"
METADATA_KEY = "course_grading"


class CourseSandbox(Configurable):
    """Whether students' code runs in the sandbox when it is graded."""

    enabled = Bool(True, help="Run the kernel and the trusted check in the bubblewrap sandbox. "
                   "False (or COURSE_SANDBOX=off): without it; the trusted check still decides "
                   "every score, but the kernel can read what the grader can.").tag(config=True)

    def is_enabled(self) -> bool:
        return self.enabled and os.environ.get("COURSE_SANDBOX", "on").lower() not in ("off", "0", "no")

    def require(self) -> None:
        """Raise ``RuntimeError`` with what to install when the sandbox is on but cannot run."""
        if not self.is_enabled():
            return
        from course_utils.instructor.sandbox import sandbox_available

        available, message = sandbox_available()
        if not available:
            raise RuntimeError(
                f"{message}\nTo grade without the sandbox (tampering protection partial): "
                "python -m course_utils.instructor.autograde ... --no-sandbox, or "
                "COURSE_SANDBOX=off nbgrader autograde ..."
            )


# --- OverwriteCells ---------------------------------------------------------------------------

def released_source(source: str, begin: str = "### BEGIN HIDDEN TESTS", end: str = "### END HIDDEN TESTS") -> str:
    """A test cell's source as the student got it: the hidden-tests block removed (what nbgrader's
    ``ClearHiddenTests`` does on release)."""
    lines, keep = [], True
    for line in source.splitlines(keepends=True):
        if line.strip() == begin:
            keep = False
        elif line.strip() == end:
            keep = True
        elif keep:
            lines.append(line)
    return "".join(lines).rstrip("\n")


class OverwriteCells(NbgraderOverwriteCells):
    """nbgrader's ``OverwriteCells``; a locked cell whose source is exactly what the release gave
    the student is restored without a warning (its checksum differs only because the gradebook's
    copy holds the hidden tests), so a warning means a student really edited a test cell."""

    def report_change(self, name, attr, old, new):
        if attr == "checksum" and getattr(self, "_released_unchanged", False):
            self.log.debug("Restored the hidden tests of cell %s", name)
            return
        super().report_change(name, attr, old, new)

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        self._released_unchanged = False
        if grade_id is not None and utils.is_locked(cell):
            try:
                source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id).source
                self._released_unchanged = (released_source(cell.source).strip()
                                            == released_source(source).strip())
            except Exception:  # the base class reports a missing cell
                pass
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        nbgrader_metadata = cell.metadata.get("nbgrader")
        if nbgrader_metadata is not None and "grade_id" not in nbgrader_metadata:
            # A copy of a graded cell (DeduplicateIds emptied it: a student who pasted a test cell
            # to run it again) or a graded cell the release never had (the base class removed its
            # grade_id and logged it). nbgrader's next step, adding back missing cells, stops the
            # whole submission with KeyError: 'grade_id' on such a cell; an ordinary cell instead
            # still runs, earns nothing and is graded by nothing.
            if nbgrader_metadata:
                self.log.warning("Cell %d is marked as an nbgrader cell the release does not have: "
                                 "kept as an ordinary cell, worth no points", cell_index)
            del cell.metadata["nbgrader"]
        return cell, resources


# --- SandboxedExecute -------------------------------------------------------------------------

@functools.cache
def course_kernel_manager() -> type:
    """The sandboxed kernel manager with the course package readable: the kernel's test cells
    import ``course_utils.grading`` (its folder is bound, not the course around it), and know
    they run in an autograde (``NBGRADER_EXECUTION``)."""
    import course_utils
    from course_utils.instructor.sandboxed_kernel import SandboxedKernelManager

    package = os.path.dirname(os.path.abspath(course_utils.__file__))

    class CourseKernelManager(SandboxedKernelManager):
        @default("read_only_paths")
        def _course_package(self):
            return [package]

        @default("sandbox_env")
        def _execution(self):
            # PYTHONPATH: the bound copy of the package, also where it is not installed (a
            # course that puts it on PYTHONPATH); inside, that folder holds only the package.
            return {"NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION", "autograde"),
                    "PYTHONPATH": os.path.dirname(package),
                    TRUSTED_FLAG: os.environ.get(TRUSTED_FLAG, "0")}

    return CourseKernelManager


class Execute(NbgraderExecute):
    """nbgrader's ``Execute`` (same name: its configuration applies) with the kernel in the
    sandbox, and a dead kernel costing only the cells from where it died."""

    @classmethod
    def kernel_manager(cls, config=None, parent=None) -> type:
        """The kernel manager this preprocessor runs kernels with: sandboxed unless the sandbox
        is switched off (then jupyter_client's)."""
        sandbox = CourseSandbox(config=config, parent=parent)
        if not sandbox.is_enabled():
            return AsyncKernelManager
        sandbox.require()
        return course_kernel_manager()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class",
                          self.kernel_manager(config=kwargs.get("config"), parent=kwargs.get("parent")))
        super().__init__(*args, **kwargs)
        self._died_in = None

    def preprocess(self, nb, resources=None, km=None):
        """Run the notebook; where the trusted check follows in this pipeline, the kernel skips
        the hidden checks (``grading.check_<name>(f, hidden=True)``): that check runs them."""
        self._died_in = None
        saved = os.environ.get(TRUSTED_FLAG)
        os.environ[TRUSTED_FLAG] = "1" if trusted_grading_follows(self.config) else "0"
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if saved is None:
                os.environ.pop(TRUSTED_FLAG, None)
            else:
                os.environ[TRUSTED_FLAG] = saved

    def preprocess_cell(self, cell, resources, index):
        if self._died_in is not None:
            if cell.cell_type == "code":
                cell.outputs = [_error_output("DeadKernelError", f"not run: the kernel died in cell {self._died_in}")]
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError as error:
            self._died_in = index + 1
            cell.outputs.append(_error_output(
                "DeadKernelError",
                f"the kernel died while running this cell ({error}): the code exits Python, "
                "crashes it, or ran out of memory or processes"))
            self.log.warning("The kernel died in cell %d; the cells after it are not run", index + 1)
            return cell, self.resources


SandboxedExecute = Execute


def trusted_grading_follows(config) -> bool:
    """Does this configuration's autograde pipeline hold :class:`TrustedGrading`?"""
    from nbgrader.converters import Autograde
    from traitlets.config.loader import LazyConfigValue

    default = Autograde.autograde_preprocessors.default()
    entries = config.Autograde.get("autograde_preprocessors", default) if config is not None else default
    if isinstance(entries, LazyConfigValue):
        entries = entries.get_value(default)
    names = [entry if isinstance(entry, str) else f"{entry.__module__}.{entry.__qualname__}" for entry in entries]
    return any(name.endswith(".TrustedGrading") for name in names)


def _error_output(name: str, text: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=text, traceback=[f"{name}: {text}"])


# --- TrustedGrading ---------------------------------------------------------------------------

RUNNING = "course_trusted_check"  # the resources key StartTrustedCheck leaves for TrustedGrading


class StartTrustedCheck(NbGraderPreprocessor):
    """Start the trusted check of this notebook (its test cells as the gradebook restored them)
    before the kernel runs it: the checking process and the kernel then run side by side, and
    :class:`TrustedGrading` collects the verdicts."""

    function_seconds = Float(FUNCTION_SECONDS, help="Seconds one function may take in the checking "
                             "process (its cells and all its cases).").tag(config=True)

    def preprocess(self, nb, resources):
        sandbox = CourseSandbox(parent=self)
        sandbox.require()
        resources[RUNNING] = TrustedCheck.start(nb, sandboxed=sandbox.is_enabled(), seconds=self.function_seconds)
        return nb, resources


class TrustedGrading(NbGraderPreprocessor):
    """Set every test cell's score and message from the trusted check, and say where the kernel's
    own test cell disagreed with it. Collects the check :class:`StartTrustedCheck` started, or
    (without it in the pipeline) runs it now."""

    partial_credit = Bool(True, help="Give each function the share of its points of the groups "
                          "of checks it passed; False: all or nothing.").tag(config=True)
    function_seconds = Float(FUNCTION_SECONDS, help="Seconds one function may take in the checking "
                             "process (its cells and all its cases).").tag(config=True)

    def preprocess(self, nb, resources):
        sandbox = CourseSandbox(parent=self)
        sandboxed = sandbox.is_enabled()
        sandbox.require()
        student = resources.get("nbgrader", {}).get("student", "?")
        running = resources.pop(RUNNING, None)
        if running is None:
            results = check_notebook(nb, sandboxed=sandboxed, seconds=self.function_seconds)
        else:
            results = running.results()
        by_cell: dict[str, list] = {}
        for result in results:
            by_cell.setdefault(result.function.test_cell, []).append(result)
        notes = []
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id not in by_cell or not utils.is_grade(cell):
                continue
            note = self._set_cell(cell, by_cell[grade_id], student)
            if note:
                notes.append(note)
        nb.metadata[METADATA_KEY] = {"sandboxed": sandboxed, "notes": notes}
        if not sandboxed:
            self.log.warning("%s: %s", student, PARTIAL_PROTECTION)
        return nb, resources

    def _set_cell(self, cell, results, student: str) -> str | None:
        points = float(cell.metadata["nbgrader"]["points"])
        kernel_score, _ = utils.determine_grade(cell, self.log)
        fraction = min(result.verdict.fraction for result in results) if len(results) == 1 else \
            sum(result.verdict.fraction for result in results) / len(results)
        if not self.partial_credit:
            fraction = 1.0 if fraction == 1.0 else 0.0
        score = round(points * fraction, 4)
        cell.outputs = verdict_outputs(results, points, score)
        # The kernel's test cell ran the visible checks (the hidden ones run in the trusted check
        # only): compare it with the trusted verdict on those same visible cases.
        kernel_passed = kernel_score is not None and kernel_score >= points
        trusted_passed = all(result.visible_passed for result in results)
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        note = None
        if kernel_passed and not trusted_passed:
            note = (f"tampering suspected: test cell {grade_id} passed in the kernel, trusted check failed "
                    f"({score:g}/{points:g})")
        elif not kernel_passed and trusted_passed:
            note = (f"test cell {grade_id} failed in the kernel, trusted check passed its visible cases "
                    f"({score:g}/{points:g}); the trusted verdict counts")
        if note:
            self.log.warning("%s: %s", student, note)
        cell.metadata[METADATA_KEY] = {
            "score": score, "max_score": points, "kernel_score": kernel_score,
            "groups": {result.verdict.function: result.verdict.failed_groups() for result in results},
            "notes": [n for result in results for n in result.notes], "mismatch": note,
        }
        return note


def verdict_outputs(results, points: float, score: float) -> list[NotebookNode]:
    """The test cell's outputs as the student sees them in the feedback: the groups passed and
    failed with the first failure of each, and the score (nbgrader reads a number as the
    cell's partial credit, an error as 0, nothing as full marks)."""
    lines = []
    for result in results:
        verdict = result.verdict
        cases = len(result.function.cases)
        mark = "\N{CHECK MARK}" if verdict.passed else "\N{BALLOT X}"
        lines.append(f"{mark} {verdict.function}: {verdict.summary()}, checked by the grader on {cases} cases")
        for output, groups in verdict.outputs:
            for group in groups:
                label = f"{output}: {group.name}" if output else group.name
                lines.append(f"    {'✓' if group.passed else '✗'} {label}")
                if not group.passed and group.failure:
                    lines.extend("        " + line for line in group.failure.split("\n"))
        lines.extend(f"    note: {note}" for note in result.notes)
    text = "\n".join(lines) + "\n"
    if score >= points:
        return [NotebookNode(output_type="stream", name="stdout", text=text)]
    if score <= 0:
        head, *rest = text.rstrip("\n").split("\n")
        return [NotebookNode(output_type="error", ename="CheckFailed", evalue=head,
                             traceback=[f"CheckFailed: {head}", *rest])]
    return [NotebookNode(output_type="stream", name="stdout", text=text + f"score: {score:g} of {points:g} points\n"),
            NotebookNode(output_type="execute_result", execution_count=None, metadata={},
                         data={"text/plain": repr(score)})]
