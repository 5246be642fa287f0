"""nbgrader's Validate button the way a student uses it: JupyterLab in Chromium.

(The lessons and their explorers: test_lessons_in_browser.py; the terminal and which nbgrader
tools a student and an instructor see: test_jupyterlab_setup.py.)
Needs Debian's Chromium (`.ci/run` installs it). Screenshots of every checked view go to
artifacts/browser-screenshots/ (printed at the end of the run; not committed).
"""

from __future__ import annotations

import pytest

from jupyterlab_page import open_notebook, save

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("assignment, test_cells", [("a1_convolution", 4), ("a2_pooling", 3)])
def test_nbgrader_validate_in_the_page_reports_every_test_failing_on_the_blank_release(
        jupyter_lab, browser, screenshot_dir, assignment, test_cells):
    base_url, token = jupyter_lab
    page = browser.new_page()
    open_notebook(page, base_url, token, f"assignments/{assignment}/{assignment}.ipynb")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => /Validation failed|cell failed|passes all the tests|Success/.test("
        "document.querySelector('.jp-Dialog')?.innerText || '')", timeout=180_000)
    text = dialog.inner_text()
    save(dialog, screenshot_dir, f"validate-{assignment}")
    assert "Success" not in text
    assert text.count("The following cell failed") == test_cells, text[:2000]
    assert "NotImplementedError" in text  # the blank solution cells, not a broken set-up
    print(f"\nvalidate {assignment}: {text.count('The following cell failed')} failing test cells reported")
    page.close()
