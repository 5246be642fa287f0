"""The instructor's tools: release the assignments, autograde submissions, and what they share.

================  ==============================================================================
module            what it holds
================  ==============================================================================
course            where the course is (its root) and the environment nbgrader's commands need
release           ``make assignments``: solutions/ -> assignments/, byte-stable
autograde         ``make grade``: parallel autograde with progress, per-student isolation, resume
autograde_worker  one grading process of ``autograde``: nbgrader's API, kernels reaped in the background
================  ==============================================================================

Run them from the course root (the folder holding ``nbgrader_config.py``) or any folder below it.
"""
