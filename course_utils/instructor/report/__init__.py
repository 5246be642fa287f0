"""The class report: what the class got wrong, and who handed in the same work.

``python -m course_utils.instructor.report ASSIGNMENT`` (``make report``) runs
:mod:`~course_utils.instructor.report.__main__`; open it first. It reads what grading recorded,
as data, and runs no student code. Uses ``lms`` (the roster) and nothing of ``trusted`` or
``sandbox``.

===============  ===============================================================================
module           what it holds
===============  ===============================================================================
``__main__``     the command: read, compute, compare, write the page whole, print a summary
``records``      what it reads: the gradebook, the verdicts recorded at autograde, make grade's
                 records, the submissions (never a link, a student id never a path)
``statistics``   the numbers: per group of checks the share failed, the common failure
                 messages with an anonymised example, time in the checks, late, missing, ...
``sources``      the code compared: a submission's own, the template, the course's
``similarity``   pairs of submissions (and a submission and the course's code) that share
                 their code: copydetect's winnowing, the threshold
``figures``      the histogram and the bar chart (matplotlib), with their text alternatives
``page``         the HTML page: offline, accessible, every submitted text escaped
===============  ===============================================================================
"""
