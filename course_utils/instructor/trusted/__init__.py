"""The trusted grading: nbgrader's autograde pipeline, every score decided out of the student's reach.

A score is decided in :func:`course_utils.instructor.trusted.verdict.score_cell`. The way there:

1. :mod:`~course_utils.instructor.trusted.preprocessors` (the steps ``nbgrader_config.py`` names)
   restores the test cells, starts the checking process and runs the kernel, both sandboxed;
2. :mod:`~course_utils.instructor.trusted.answers` writes the job the checking process runs
   (the code above each test cell, each function's cases) and collects its answers as data;
3. :mod:`~course_utils.instructor.trusted.verdict` judges every answer against the reference in
   this process, where no student code ran, scores each function by named groups of checks,
   and decides each test cell's score and feedback;
4. :mod:`~course_utils.instructor.trusted.pipeline` reads the pipeline from the configuration,
   once, and holds the sandbox switch.
"""
