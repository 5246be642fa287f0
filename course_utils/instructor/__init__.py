"""The instructor's tools: release the assignments, autograde submissions, and what they share.

================  ==============================================================================
module            what it holds
================  ==============================================================================
course            where the course is (its root) and the environment nbgrader's commands need
release           ``make assignments``: solutions/ -> assignments/, byte-stable
autograde         ``make grade``: parallel autograde with progress, per-student isolation, resume
autograde_worker  one grading process of ``autograde``: nbgrader's API, kernels reaped in the background
preprocessors     the course's nbgrader autograde pipeline: sandboxed kernel, trusted scores
trusted_checks    the trusted check: the student's code run sandboxed, judged here
check_runner      the checking process (runs in the sandbox; standard library and numpy only)
sandbox           bubblewrap: what a sandboxed command sees, its limits, running it
sandboxed_kernel  a Jupyter kernel in the sandbox (nbgrader's Execute uses it)
numpy_checker     the checking process's sandbox: standard library and numpy, nothing else
import_guard      the audit hook that refuses banned libraries in the checking process
pids_cgroup       a process limit that also holds for root (a pids cgroup)
roster            the course roster (CSV of LMS ids and names), shared by collection and export
lms_names         what a learning platform's file name says: student, attempt, lateness
collection_plan   which file of a student's is collected, and the table of every file
lms_collect       ``nbgrader zip_collect`` plugins: extract LMS downloads, place every file
canvas_grades     ``nbgrader export`` plugin: grades in Canvas's gradebook-import layout
================  ==============================================================================

Run them from the course root (the folder holding ``nbgrader_config.py``) or any folder below it.
"""
