"""A CSV cell that a spreadsheet never reads as a formula.

Grades go from the course to a spreadsheet (Excel, LibreOffice, Google Sheets) or a learning
platform's import, and names and ids in them come from rosters and file names a student can
shape. A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
a spreadsheet (``=HYPERLINK("http://x","click")``); as OWASP advises ("CSV Injection"), such a
cell gets a leading ``'``, which spreadsheets show as text. Numbers stay numbers: ``-0.5`` is left
as it is.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def spreadsheet_cell(value) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text or a number, never runs."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.match(text):
        return "'" + text
    return text


def spreadsheet_row(values) -> list[str]:
    return [spreadsheet_cell(value) for value in values]
