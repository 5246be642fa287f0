"""nbgrader's autograde pipeline, made safe to publish: the steps ``nbgrader_config.py`` names.

=====================  ============================================================================
step                   what it changes in nbgrader's pipeline
=====================  ============================================================================
``DeduplicateIds``     nbgrader's, after making a graded cell without a ``grade_id`` (or with
                       one that is not a string) an ordinary cell: it costs that cell, not the
                       submission (nbgrader stops the whole submission with ``KeyError``)
``OverwriteCells``     nbgrader's, warning only about real edits of test cells (restoring the
                       hidden tests the release removed is normal); a pasted copy of a test
                       cell, or a graded cell the release never had, becomes an ordinary cell
                       instead of failing the submission
``StartTrustedCheck``  new, first: starts the checking process
                       (:mod:`~course_utils.instructor.trusted.answers`), which runs beside the
                       kernel
``Execute``            nbgrader's, with the kernel in the sandbox
                       (:mod:`~course_utils.instructor.sandbox.kernel`); a kernel that dies
                       fails the cells from there on, not the whole submission
``LimitOutput``        nbgrader's, recording which cells it cut
``TrustedGrading``     new, before ``SaveAutoGrades``: every test cell's score and message from
                       the trusted verdict (:mod:`~course_utils.instructor.trusted.verdict`)
``SanitizeViews``      new, last: nothing active left in the notebook Formgrader and the feedback
                       show (:mod:`~course_utils.instructor.untrusted.html`); also in
                       ``GenerateFeedback``'s steps
=====================  ============================================================================

The subclasses keep nbgrader's class names, so every ``c.Execute.*``, ``c.LimitOutput.*`` and
``c.OverwriteCells.*`` setting still applies. What a run noticed on the way (a cell stopped by
the timeout, output cut, a dead kernel, tampering suspected) is recorded as data in the
autograded notebook's metadata (:data:`~course_utils.grading.flags.METADATA_KEY`), where the
parallel autograde and the class report read it.
"""

from __future__ import annotations

import functools
import os

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.preprocessors import DeduplicateIds as NbgraderDeduplicateIds
from nbgrader.preprocessors import Execute as NbgraderExecute
from nbgrader.preprocessors import LimitOutput as NbgraderLimitOutput
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.preprocessors import OverwriteCells as NbgraderOverwriteCells
from traitlets import Bool, default

from course_utils.grading import flags
from course_utils.instructor.trusted.answers import AnswerRun, graded_functions
from course_utils.instructor.trusted.pipeline import CourseSandbox, TrustedCheck, autograde_steps
from course_utils.instructor.trusted.verdict import feedback_outputs, judge_answers, score_cell, skipped_cells_note
from course_utils.instructor.untrusted.files import removed_from
from course_utils.instructor.untrusted.html import sanitize_notebook

#: resources keys: the run StartTrustedCheck started, and the notes the steps record on the way.
RUNNING = "course_answer_run"
RUN_NOTES = "course_run_notes"


def _note(resources, text: str) -> None:
    resources.setdefault(RUN_NOTES, []).append(text)


def _cell_name(cell, index: int) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id") or f"#{index + 1}"


# --- DeduplicateIds, OverwriteCells -----------------------------------------------------------

class DeduplicateIds(NbgraderDeduplicateIds):
    """nbgrader's ``DeduplicateIds`` (same name: its configuration applies), which first turns a
    cell marked as an nbgrader cell without a usable ``grade_id`` into an ordinary cell."""

    def preprocess(self, nb, resources):
        for index, cell in enumerate(nb.cells):
            metadata = cell.metadata.get("nbgrader")
            if metadata is None:
                continue
            grade_id = metadata.get("grade_id") if isinstance(metadata, dict) else None
            if not isinstance(grade_id, str) or not grade_id:
                if metadata:
                    self.log.warning("Cell %d is marked as an nbgrader cell but has no grade_id: kept as an "
                                     "ordinary cell, worth no points", index + 1)
                del cell.metadata["nbgrader"]
        return super().preprocess(nb, resources)




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


# --- Execute ------------------------------------------------------------------------------------

@functools.cache
def course_kernel_manager() -> type:
    """The sandboxed kernel manager with the course package readable: the kernel's test cells
    import ``course_utils.grading`` (its folder is bound, not the course around it), and learn
    whether the trusted check decides (:data:`~course_utils.grading.flags.TRUSTED_GRADING`)."""
    import course_utils
    from course_utils.instructor.sandbox.kernel import SandboxedKernelManager

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
                    flags.TRUSTED_GRADING: os.environ.get(flags.TRUSTED_GRADING, "0")}

    return CourseKernelManager


def trusted_grading_decides(config) -> bool:
    """Does ``config``'s pipeline hold :class:`TrustedGrading`?"""
    return any(isinstance(step, type) and issubclass(step, TrustedGrading) for step in autograde_steps(config))


class Execute(NbgraderExecute):
    """nbgrader's ``Execute`` (same name: its configuration applies) with the kernel in the
    sandbox, and a dead kernel costing only the cells from where it died."""

    @classmethod
    def kernel_manager(cls, config=None, parent=None) -> type:
        """The kernel manager this step runs kernels with: sandboxed unless the sandbox is
        switched off (then jupyter_client's)."""
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
        self._cell = None
        self._hide_in: set[int] = set()  # test cells run without their hidden-tests block

    def preprocess(self, nb, resources=None, km=None):
        """Run the notebook; where the trusted check follows in this pipeline, the kernel skips
        the hidden checks (``grading.check_<name>(f, hidden=True)``): that check runs them. The
        test cells it decides also run without their hidden-tests block, restored after the
        cell ran: the kernel never holds the hidden tests' source (a later cell could print
        IPython's ``In`` into the feedback)."""
        self._died_in = None
        decides = trusted_grading_decides(self.config)
        self._hide_in = {function.test_cell_index for function in graded_functions(nb)} if decides else set()
        saved = os.environ.get(flags.TRUSTED_GRADING)
        os.environ[flags.TRUSTED_GRADING] = "1" if decides else "0"
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if saved is None:
                os.environ.pop(flags.TRUSTED_GRADING, None)
            else:
                os.environ[flags.TRUSTED_GRADING] = saved

    async def _async_handle_timeout(self, timeout, cell=None):
        if self._cell is not None:
            _note(self.resources, f"cell {self._cell}: stopped by the cell timeout")
        return await super()._async_handle_timeout(timeout, cell)

    def preprocess_cell(self, cell, resources, index):
        if self._died_in is not None:
            if cell.cell_type == "code":
                cell.outputs = [_error_output("DeadKernelError", f"not run: the kernel died in cell {self._died_in}")]
            return cell, self.resources
        self._cell = _cell_name(cell, index)
        source = cell.source
        if index in self._hide_in:
            try:
                ClearHiddenTests(parent=self)._remove_hidden_test_region(cell)
            except RuntimeError:  # an unbalanced block: nbgrader leaves the source as it was
                pass
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError as error:
            self._died_in = index + 1
            cell.outputs.append(_error_output(
                "DeadKernelError",
                f"the kernel died while running this cell ({error}): the code exits Python, "
                "crashes it, or ran out of memory or processes"))
            _note(self.resources, f"cell {self._cell}: the kernel died there; the cells after it were not run")
            self.log.warning("The kernel died in cell %d; the cells after it are not run", index + 1)
            return cell, self.resources
        finally:
            self._cell = None
            cell.source = source


def _error_output(name: str, text: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=text, traceback=[f"{name}: {text}"])


class LimitOutput(NbgraderLimitOutput):
    """nbgrader's ``LimitOutput`` (same name: its configuration applies), noting each cell it cut."""

    def preprocess_cell(self, cell, resources, cell_index):
        before = [dict(output) for output in cell.get("outputs", [])]
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code" and [dict(output) for output in cell.outputs] != before:
            _note(resources, f"cell {_cell_name(cell, cell_index)}: output cut to the first lines")
        return cell, resources


# --- the trusted check ----------------------------------------------------------------------------

class StartTrustedCheck(NbGraderPreprocessor):
    """Start the checking process on this notebook (its test cells as the gradebook restored
    them) before the kernel runs it: the two run side by side, and :class:`TrustedGrading`
    collects the verdicts."""

    def preprocess(self, nb, resources):
        sandbox = CourseSandbox(parent=self)
        sandbox.require()
        resources[RUNNING] = start_answer_run(self, nb, sandbox.is_enabled())
        return nb, resources


def start_answer_run(step, nb, sandboxed: bool) -> AnswerRun:
    times = TrustedCheck(parent=step)
    return AnswerRun.start(nb, sandboxed=sandboxed, case_seconds=times.case_seconds, cell_seconds=times.cell_seconds())


class TrustedGrading(NbGraderPreprocessor):
    """Set every test cell's score and message from the trusted verdict (:func:`score_cell`), and
    record what the run noticed. Collects the run :class:`StartTrustedCheck` started, or (without
    it in the pipeline) runs the checking process now."""

    partial_credit = Bool(True, help="Give each function the share of its points of the groups "
                          "of checks it passed; False: all or nothing.").tag(config=True)

    def preprocess(self, nb, resources):
        sandbox = CourseSandbox(parent=self)
        sandboxed = sandbox.is_enabled()
        sandbox.require()
        student = resources.get("nbgrader", {}).get("student", "?")
        run = resources.pop(RUNNING, None) or start_answer_run(self, nb, sandboxed)
        results = run.judged(judge_answers)
        by_cell: dict[str, list] = {}
        for result in results:
            by_cell.setdefault(result.function.test_cell, []).append(result)
        notes = []
        quiet = skipped_cells_note(results)
        for cell in nb.cells:
            cell.metadata.pop(flags.METADATA_KEY, None)  # only what this run decides is recorded
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id not in by_cell or not utils.is_grade(cell):
                continue
            kernel_score, _ = utils.determine_grade(cell, self.log)
            decided = score_cell(grade_id, float(cell.metadata["nbgrader"]["points"]), by_cell[grade_id],
                                 kernel_score, self.partial_credit)
            cell.outputs = feedback_outputs(by_cell[grade_id], decided, [quiet] if quiet else [])
            quiet = None  # once, on the first test cell
            cell.metadata[flags.METADATA_KEY] = decided.record()
            if decided.mismatch:
                self.log.warning("%s: %s", student, decided.mismatch)
                notes.append(decided.mismatch)
        if not sandboxed:
            self.log.warning("%s: %s", student, flags.PARTIAL_PROTECTION)
            notes.append(flags.PARTIAL_PROTECTION)
        notes += resources.pop(RUN_NOTES, [])
        assignment = resources.get("nbgrader", {}).get("assignment", "?")
        notes += [f"skipped {entry.path}: {entry.why}" for entry in removed_from(student, assignment)]
        nb.metadata[flags.METADATA_KEY] = {"sandboxed": sandboxed, "notes": notes}
        return nb, resources


class SanitizeViews(NbGraderPreprocessor):
    """Remove everything active from the notebook (scripts, event handlers, JavaScript and widget
    outputs, active SVG and links): every view of it -- Formgrader, the feedback file, JupyterLab
    -- then shows only text, images and inert HTML. Grades are untouched."""

    def preprocess(self, nb, resources):
        safe, removed = sanitize_notebook(nb)
        if removed:
            student = resources.get("nbgrader", {}).get("student", "?")
            self.log.warning("%s: removed from what the views show: %s", student, "; ".join(removed[:10]))
        return safe, resources
