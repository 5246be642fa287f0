"""The sandbox: running students' code under bubblewrap, with nothing to steal or break.

Nothing here knows about grading (no ``course_utils.grading`` import): it runs commands and
hands back what they wrote. Open :mod:`~course_utils.instructor.sandbox.bubblewrap` first.

=====================  =========================================================================
module                 what it holds
=====================  =========================================================================
``bubblewrap``         what a sandboxed command sees, its limits, running it, whether it works here
``pids_cgroup``        a process limit that also holds for root
``kernel``             a Jupyter kernel in the sandbox (the autograde's ``Execute`` uses it)
``checking_sandbox``   the checking process's sandbox: the standard library and numpy, nothing else
``checking_process``   runs inside it: a submission's own code, one graded function at a time
``import_guard``       runs inside it: the audit hook that refuses banned libraries
=====================  =========================================================================
"""
