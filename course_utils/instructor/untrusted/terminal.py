"""Text from a submission shown in the instructor's terminal or log: on one line, inert.

A file name, an error message or a note can hold whatever a student wrote, including a newline
that splits a table's row or forges a line of its own, and terminal escape sequences (``ESC[2K``
erases a line, ``ESC]0;`` sets the window title, ``ESC]52;`` writes the clipboard on terminals
that allow it). :func:`one_line` shows every control character escaped instead.
"""

from __future__ import annotations


def one_line(text: object) -> str:
    """``text`` on one line, printable: a newline, a tab, ESC or any other control or format
    character is shown escaped (``\\n``, ``\\x1b``); letters of every script stay as they are."""
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                   for ch in str(text))
