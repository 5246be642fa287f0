"""What a student hands in, handled as untrusted data: names, files, HTML, spreadsheet cells.

Everything here assumes the worst of its input -- a file name chosen to be a path, a symbolic
link to the instructor's solutions, an output that is a script, a roster name that is a formula
-- and gives back something the other rooms can use safely. Nothing here imports the sandbox,
the grading pipeline or the learning-platform code; they import this.

===============  ================================================================================
module           what it holds
===============  ================================================================================
``ids``          a student id is a name, never a path: checked, or mapped to a safe name
``files``        only regular files travel: copying without following links, the autograde hook
``html``         a notebook made safe to show: scripts, handlers and active content removed
``pages``        the Formgrader's submission page and the feedback files, sanitized, with a CSP
``spreadsheet``  a CSV cell that a spreadsheet never reads as a formula
``terminal``     text shown in the instructor's terminal or log: one line, no escape sequences
===============  ================================================================================
"""
