"""The instructor's tools: release the assignments, autograde submissions, and what they share.

================  ==============================================================================
module            what it holds
================  ==============================================================================
course            where the course is (its root) and the environment nbgrader's commands need
release           ``make assignments``: solutions/ -> assignments/, byte-stable
autograde         ``make grade``: parallel autograde with progress, per-student isolation, resume
autograde_worker  one grading process of ``autograde``: nbgrader's API, kernels reaped in the background
roster            the course roster (CSV of LMS ids and names), shared by collection and export
lms_names         what a learning platform's file name says: student, attempt, lateness
collection_plan   which file of a student's is collected, and the table of every file
lms_collect       ``nbgrader zip_collect`` plugins: extract LMS downloads, place every file
canvas_grades     ``nbgrader export`` plugin: grades in Canvas's gradebook-import layout
================  ==============================================================================

Run them from the course root (the folder holding ``nbgrader_config.py``) or any folder below it.
"""
