"""The instructor's tools: release the assignments, grade what students hand in, return grades.

Where a score is decided: :func:`course_utils.instructor.trusted.verdict.score_cell`.

====================  =============================================================================
module or room        what it holds
====================  =============================================================================
``release``           ``make assignments``: solutions/ -> assignments/, byte-stable
``autograde``         ``make grade``: parallel autograde, progress, each student alone, resumable
``autograde_worker``  one grading process of ``autograde``: nbgrader's API, loaded once
``course``            where the course is (its root) and the environment nbgrader's commands need
``trusted/``          nbgrader's autograde pipeline with every score decided out of the student's
                      reach: the steps, the checking process's job, the verdict
``sandbox/``          bubblewrap: the kernel's and the checking process's sandboxes (no grading)
``lms/``              learning platforms: collecting downloads, the roster, the grade exports
``exchange/``         nbgrader's exchange on a shared machine: a submission is its owner's
``untrusted/``        what a student hands in, handled as data: ids, files, HTML, spreadsheet cells
``report/``           the class report: what the class got wrong, similar work (``make report``)
====================  =============================================================================

Arrows go one way: the commands use every room; ``trusted`` uses ``sandbox``; ``trusted``,
``lms``, ``exchange`` and ``report`` use ``untrusted``, which uses none; ``lms`` and ``exchange``
use neither the sandbox nor the pipeline; ``report`` reads what grading recorded and uses
``lms``. Run the commands from the course root (the folder holding
``nbgrader_config.py``) or any folder below it.
"""
