"""The JupyterLab `make lab` gives a student and the one `make lab-instructor` gives an instructor.

* A terminal opened in the student's JupyterLab runs the course's `nbgrader` (the environment's
  bin folder first on PATH, even in a shell that resets PATH at login).
* The student sees none of nbgrader's instructor tools (Formgrader, Create Assignment, the
  course list; switched off in jupyter_config/student/ the way nbgrader's documentation says)
  and keeps the student tools (Validate, Assignment List); the instructor sees all of them.

Both servers serve the same temporary copy of the course (see conftest.py).
"""

from __future__ import annotations

import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from jupyterlab_page import open_notebook, open_terminal, save

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INSTRUCTOR_TOOLS = ("Formgrader", "Create assignment", "Course List")


def test_a_terminal_in_the_students_jupyterlab_runs_nbgrader(jupyter_lab, browser, course_copy,
                                                            screenshot_dir):
    base_url, token = jupyter_lab
    page = browser.new_page()
    page.goto(f"{base_url}/lab/workspaces/terminal?token={token}&reset")
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).wait_for(timeout=90_000)
    terminal = open_terminal(page)
    terminal.click()
    report = course_copy / "terminal-nbgrader.txt"
    page.keyboard.type(f"nbgrader --version > {report.name} 2>&1; command -v nbgrader python jupyter "
                       f">> {report.name}; echo done >> {report.name}")
    page.keyboard.press("Enter")
    deadline = time.monotonic() + 120
    while not (report.exists() and "done" in report.read_text()):
        assert time.monotonic() < deadline, "the terminal did not run the command"
        time.sleep(0.5)
    page.keyboard.type("nbgrader --version")  # once more, to see it on the screenshot
    page.keyboard.press("Enter")
    # JupyterLab's terminal draws on a canvas (no text in the page to wait for): the command
    # above already proved the shell runs; give it a moment to draw before the screenshot.
    page.wait_for_timeout(1500)
    save(page, screenshot_dir, "terminal-nbgrader-version")
    output = report.read_text()
    assert re.search(r"^nbgrader version \d+\.\d+\.\d+$", output, re.M), output
    environment_bin = Path(sys.executable).parent
    found = [line for line in output.splitlines() if line.startswith("/")]
    assert found == [str(environment_bin / name) for name in ("nbgrader", "python", "jupyter")], output
    page.close()


def nbgrader_menu_items(page) -> list[str]:
    """The items of the menu bar's "Nbgrader" menu ([] when there is no such menu)."""
    menu = page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$"))
    if not menu.count():
        return []
    menu.click()
    items = page.locator(".lm-Menu-content .lm-Menu-item:not(.lm-mod-hidden) .lm-Menu-itemLabel")
    items.first.wait_for(timeout=10_000)
    labels = [label.strip() for label in items.all_inner_texts() if label.strip()]
    page.keyboard.press("Escape")
    return labels


def sidebar_tabs(page) -> list[str]:
    tabs = page.locator(".jp-SideBar .lm-TabBar-tab")
    return [(tab.get_attribute("title") or "") + " " + (tab.get_attribute("data-id") or "")
            for tab in tabs.all()]


def formgrader_status(base_url: str, token: str) -> int:
    try:
        with urllib.request.urlopen(f"{base_url}/formgrader?token={token}", timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def open_lesson(page, lab) -> None:
    base_url, token = lab
    open_notebook(page, base_url, token, "notebooks/02_padding_and_stride.ipynb")


def test_the_students_jupyterlab_has_no_instructor_tools(jupyter_lab, browser, screenshot_dir):
    page = browser.new_page()
    open_lesson(page, jupyter_lab)
    menu = nbgrader_menu_items(page)
    tabs = sidebar_tabs(page)
    save(page, screenshot_dir, "student-jupyterlab")
    for tool in INSTRUCTOR_TOOLS:
        assert not any(tool.lower() in item.lower() for item in menu), (tool, menu)
    assert not any("create_assignemnt" in tab or "Create Assignment" in tab for tab in tabs), tabs
    assert formgrader_status(*jupyter_lab) == 404
    # The student tools stay: Validate (on an assignment) and the assignment list.
    assert menu == ["Assignment List"], menu
    open_notebook(page, *jupyter_lab, "assignments/a1_convolution/a1_convolution.ipynb")
    assert page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button").count() == 1
    page.close()


def test_the_instructors_jupyterlab_has_every_nbgrader_tool(instructor_lab, browser,
                                                            screenshot_dir):
    page = browser.new_page()
    open_lesson(page, instructor_lab)
    menu = nbgrader_menu_items(page)
    tabs = sidebar_tabs(page)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
    save(page, screenshot_dir, "instructor-jupyterlab-nbgrader-menu")
    page.keyboard.press("Escape")
    for tool in INSTRUCTOR_TOOLS:
        assert any(tool.lower() in item.lower() for item in menu), (tool, menu)
    assert any("create_assignemnt" in tab for tab in tabs), tabs  # (nbgrader's own spelling)
    assert formgrader_status(*instructor_lab) == 200
    page.close()
