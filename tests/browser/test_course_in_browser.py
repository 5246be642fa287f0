"""The course the way a student sees it: JupyterLab in Chromium, explorers, nbgrader's Validate.

Needs Debian's Chromium (`.ci/run` installs it). Screenshots of every checked view go to
artifacts/browser-screenshots/ (printed at the end of the run; not committed).
"""

from __future__ import annotations

import statistics

import pytest

from jupyterlab_page import (
    nudge_slider,
    open_notebook,
    output_errors,
    run_all_cells,
    save,
    slider,
    slider_value,
    time_view_change,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def check_explorer_responds(page, explorer_class, control_name, screenshot_dir, name, report):
    explorer = page.locator(f".widget-vbox:has(> * .{explorer_class}), .widget-vbox:has(.{explorer_class})").first
    view = page.locator(f".{explorer_class}").first
    view.scroll_into_view_if_needed()
    assert view.is_visible(), f"{explorer_class} is not shown"
    save(view, screenshot_dir, f"{name}-before")
    control = slider(explorer, control_name)
    assert control.count() == 1, f"no '{control_name}' slider in the {name} explorer"
    times = []
    for step in range(5):
        old_value = slider_value(control)
        old_text = view.inner_text()
        new_text, ms = time_view_change(page, view, lambda: nudge_slider(
            control, "ArrowRight" if step % 2 == 0 else "ArrowLeft"))
        assert slider_value(control) != old_value, "the slider did not move"
        assert new_text != old_text
        times.append(ms)
    save(view, screenshot_dir, f"{name}-after")
    report[name] = times
    return times


def test_lesson_01_runs_and_the_convolution_explorer_responds(jupyter_lab, browser, screenshot_dir,
                                                              record_property):
    base_url, token = jupyter_lab
    page = browser.new_page()
    open_notebook(page, base_url, token, "notebooks/01_convolution_by_hand.ipynb")
    seconds = run_all_cells(page)
    save(page, screenshot_dir, "lesson01-after-run-all")
    assert output_errors(page) == []
    assert page.locator(".conv-explorer-view").count() >= 1
    view = page.locator(".conv-explorer-view").first
    assert "=" in view.locator(".arithmetic").inner_text()  # the window's arithmetic is shown
    report = {}
    times = check_explorer_responds(page, "conv-explorer-view", "position", screenshot_dir,
                                    "conv-explorer-position", report)
    stride_times = check_explorer_responds(page, "conv-explorer-view", "stride", screenshot_dir,
                                           "conv-explorer-stride", report)
    record_property("lesson01_run_all_s", round(seconds, 1))
    record_property("conv_redraw_ms", [round(t) for t in times + stride_times])
    print(f"\nlesson 01: Run All {seconds:.1f} s; conv explorer redraw in the page: median "
          f"{statistics.median(times + stride_times):.0f} ms, max {max(times + stride_times):.0f} ms")
    page.close()


def test_lesson_04_runs_and_the_pooling_explorer_responds(jupyter_lab, browser, screenshot_dir,
                                                          record_property):
    base_url, token = jupyter_lab
    page = browser.new_page()
    open_notebook(page, base_url, token, "notebooks/04_pooling.ipynb")
    seconds = run_all_cells(page)
    save(page, screenshot_dir, "lesson04-after-run-all")
    assert output_errors(page) == []
    report = {}
    times = check_explorer_responds(page, "pooling-explorer-view", "position", screenshot_dir,
                                    "pooling-explorer-position", report)
    record_property("pooling_redraw_ms", [round(t) for t in times])
    print(f"\nlesson 04: Run All {seconds:.1f} s; pooling explorer redraw in the page: median "
          f"{statistics.median(times):.0f} ms, max {max(times):.0f} ms")
    page.close()


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
