"""The instructor's solutions as plain functions, and a check's failure message, for the tests
of ``course_utils.grading`` (``test_grading.py``, ``test_grading_backprop.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_utils.grading import CheckFailed

ROOT = Path(__file__).resolve().parents[2]


def solution_functions(assignment: str) -> dict:
    """Run the solution notebook's setup and solution cells; return its namespace."""
    notebook = json.loads((ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    namespace = {"__name__": f"solution_{assignment}"}
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and (meta.get("solution") or meta.get("grade_id") == "setup"):
            exec(compile("".join(cell["source"]), f"<{assignment}:{meta['grade_id']}>", "exec"), namespace)
    return namespace


def failure_message(check, function, hidden=False) -> str:
    """The message of the CheckFailed that ``check(function)`` must raise."""
    with pytest.raises(CheckFailed) as caught:
        check(function, hidden=hidden)
    return str(caught.value)


def assert_bug_is_named(check, name: str, function, hidden: bool, words, bug: str) -> None:
    """``check`` fails the buggy ``function`` (the student's ``name``) with a message that names
    the failing case and the call and contains every one of ``words`` (lines may break anywhere
    between words; none is longer than 80 characters, which nbgrader's validate shows whole)."""
    message = failure_message(check, function, hidden=hidden)
    assert message.startswith(f"{name} failed the check '")
    assert all(len(line) <= 80 for line in message.splitlines()), f"{bug}: a line is longer than 80\n{message}"
    flowing = " ".join(message.split())  # the words, whatever the line breaks
    assert f"called: {name}(" in flowing
    for word in words:
        assert " ".join(word.split()) in flowing, f"{bug}: {word!r} missing from\n{message}"
