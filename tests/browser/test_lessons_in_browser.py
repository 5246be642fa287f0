"""Every lesson the way a student meets it: JupyterLab in Chromium, Run All, then the page checked
with axe-core and every explorer driven from the keyboard alone.

Each lesson is opened and run once (the ``lesson`` fixture, one per notebook in notebooks/,
lesson 05 in smoke mode); the tests below share that page. Needs Debian's Chromium and axe-core
from npm (`make test` installs it into .venv/node). Screenshots of every page and explorer view
go to artifacts/browser-screenshots/, axe's findings to axe-<lesson>.json beside them.

axe's scope: the notebook's content -- every output area (figures, explorers, printed text) and
every rendered Markdown cell. JupyterLab's own interface around it is left out: its cell editors
(a CodeMirror ``role="textbox"`` without a name), the ``role="feed"`` cell list and the
collapse-heading buttons without text are JupyterLab's (reported with its accessibility work),
not something a lesson can change. Within the content every rule axe has runs (its default set:
WCAG 2.0/2.1/2.2 A and AA and best practices), and any serious or critical violation fails.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import nbformat
import pytest
from notebook_drawings import drawing_calls, imported_names
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from jupyterlab_page import (
    EXPLORER_CLASSES,
    accessible_name,
    explorers,
    focused_is,
    open_notebook,
    output_errors,
    run_all_cells,
    run_axe,
    save,
    shutdown_kernels,
    tab_stops,
    time_view_change,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
FAILING_IMPACTS = ("serious", "critical")


def expected_explorers(lesson: str) -> dict[str, int]:
    """``{css class: how many}`` of the explorers the lesson's code builds (from its source)."""
    notebook = nbformat.read(ROOT / "notebooks" / lesson, as_version=4)
    names = imported_names(notebook)
    counts: dict[str, int] = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for call in drawing_calls(cell.source, names):
                function = call.rsplit(".", 1)[-1]
                if function in EXPLORER_CLASSES:
                    counts[EXPLORER_CLASSES[function]] = counts.get(EXPLORER_CLASSES[function], 0) + 1
    return counts


class LessonPage:
    def __init__(self, name: str, page, seconds: float):
        self.name, self.page, self.seconds = name, page, seconds
        self.short = name.split("_")[0]


@pytest.fixture(scope="module", params=LESSONS)
def lesson(request, jupyter_lab, browser, screenshot_dir):
    """A lesson opened in JupyterLab and run (Run > Run All Cells), with no error in the page."""
    base_url, token = jupyter_lab
    page = browser.new_page()
    open_notebook(page, base_url, token, f"notebooks/{request.param}")
    seconds = run_all_cells(page, timeout_s=600)
    current = LessonPage(request.param, page, seconds)
    save(page, screenshot_dir, f"lesson{current.short}-after-run-all")
    print(f"\n{request.param}: Run All in the page {seconds:.1f} s")
    try:
        yield current
    finally:
        page.close()
        shutdown_kernels(base_url, token)


def test_lesson_runs_in_the_page_and_shows_every_explorer(lesson, screenshot_dir):
    page = lesson.page
    assert output_errors(page) == []
    for css_class, count in expected_explorers(lesson.name).items():
        views = page.locator(f".jp-NotebookPanel:not(.lm-mod-hidden) .{css_class}-view")
        assert views.count() == count, f"{lesson.name}: {views.count()} {css_class} views, {count} built"
        for index in range(count):
            view = views.nth(index)
            view.scroll_into_view_if_needed()
            assert view.is_visible() and len(view.inner_text()) > 20, f"{css_class} {index} is empty"
            save(page.locator(f".jp-NotebookPanel:not(.lm-mod-hidden) .widget-vbox.{css_class}").nth(index),
                 screenshot_dir, f"lesson{lesson.short}-{css_class}-{index}")


def test_lesson_content_has_no_serious_accessibility_violation(lesson, axe_script, screenshot_dir):
    """axe-core on the lesson's outputs (figures and explorers showing) and its text."""
    result = run_axe(lesson.page, axe_script)
    (screenshot_dir / f"axe-{lesson.short}.json").write_text(json.dumps(result, indent=1))
    serious = [violation for violation in result["violations"]
               if violation["impact"] in FAILING_IMPACTS]
    print(f"\naxe on {lesson.name}: {len(result['rules'])} rules applied; violations: "
          + (", ".join(f"{v['id']} ({v['impact']}, {len(v['nodes'])})" for v in result["violations"])
             or "none"))
    assert result["rules"], "axe checked nothing: is the notebook content in the page?"
    assert not serious, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}; e.g. {v['nodes'][0]['html'][:200]}"
        for v in serious)


def test_every_explorer_control_is_reached_by_tab_and_has_a_name(lesson):
    """Tab from the first control visits every control of the explorer, one after the other, and
    each has the name a screen reader reads (its description)."""
    page = lesson.page
    for css_class in expected_explorers(lesson.name):
        for explorer in explorers(page, css_class):
            stops = list(tab_stops(explorer))
            assert len(stops) >= 2, f"{css_class}: only {len(stops)} focusable controls"
            stops[0].as_element().focus()
            for index, stop in enumerate(stops):
                element = stop.as_element()
                assert focused_is(page, element), (
                    f"{css_class}: Tab did not reach control {index} "
                    f"({element.evaluate('el => el.outerHTML.slice(0, 120)')})")
                assert accessible_name(element), (
                    f"{css_class}: control {index} has no name: "
                    f"{element.evaluate('el => el.outerHTML.slice(0, 160)')}")
                page.keyboard.press("Tab")


def press_and_time(page, view, control, key: str, value) -> float:
    """Press ``key`` on the focused ``control``; the view must redraw, ``value()`` change and
    the focus stay on the control (JupyterLab's notebook shortcuts must not take the key)."""
    before = value()
    control.focus()
    try:
        _, ms = time_view_change(page, view, lambda: page.keyboard.press(key))
    except PlaywrightTimeout:
        raise AssertionError(f"{key} did not redraw the view (value {before!r} -> {value()!r}) on "
                             f"{control.evaluate('el => el.outerHTML.slice(0, 100)')}") from None
    html = control.evaluate("el => el.outerHTML.slice(0, 100)")
    assert value() != before, f"{key} changed nothing on {html}"
    assert control.evaluate("el => el.contains(document.activeElement)"), \
        f"{key} moved the focus away from the control"
    return ms


def test_every_slider_menu_and_checkbox_works_from_the_keyboard_and_redraws(lesson, screenshot_dir):
    """The arrow keys move every slider one step (and back; Left/Right and Down/Up), change every
    menu and list; Space ticks every checkbox. Each change redraws the view and leaves the focus
    where it was. Reports the redraw times seen in the page."""
    page = lesson.page
    times = []
    for css_class in expected_explorers(lesson.name):
        for number, explorer in enumerate(explorers(page, css_class)):
            view = explorer.locator(f".{css_class}-view")
            view.scroll_into_view_if_needed()
            save(explorer, screenshot_dir, f"lesson{lesson.short}-{css_class}-{number}-before-keys")
            sliders = explorer.locator(".widget-slider")
            for index in range(sliders.count()):
                handle = sliders.nth(index).locator(".noUi-handle").first
                readout = sliders.nth(index).locator(".widget-readout")
                at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
                keys = ("ArrowLeft", "ArrowUp") if at_max else ("ArrowRight", "ArrowDown")
                for key in keys:
                    times.append(press_and_time(page, view, handle, key, readout.inner_text))
            menus = explorer.locator("select")
            for index in range(menus.count()):
                menu = menus.nth(index)
                # Going down must give another drawing: not past the end, and not onto "typed in"
                # (the conv explorer's text box holds the kernel in use: the same drawing).
                at_end = menu.evaluate("""el => el.selectedIndex === el.options.length - 1
                                              || el.options[el.selectedIndex + 1].value === 'typed in'""")
                chosen = "el => [...el.selectedOptions].map(o => o.value).join()"  # one or several
                for key in (("ArrowUp", "ArrowDown") if at_end else ("ArrowDown", "ArrowUp")):
                    times.append(press_and_time(page, view, menu, key,
                                                lambda: menu.evaluate(chosen)))
            boxes = explorer.locator("input[type='checkbox']")
            for index in range(boxes.count()):
                box = boxes.nth(index)
                for _ in range(2):
                    times.append(press_and_time(page, view, box, "Space", box.is_checked))
            save(explorer, screenshot_dir, f"lesson{lesson.short}-{css_class}-{number}-after-keys")
    if times:
        print(f"\n{lesson.name}: {len(times)} keyboard changes, redraw in the page median "
              f"{statistics.median(times):.0f} ms, max {max(times):.0f} ms")


def kernel_numbers(view) -> list[str]:
    return view.locator(".kernel-grid td[data-row]").all_inner_texts()


def type_into(box, text: str) -> None:
    box.focus()
    box.press("Control+a")
    box.type(text)


def test_the_convolution_explorer_applies_a_typed_kernel_on_enter_and_with_its_button(
        lesson, screenshot_dir):
    """Lessons with a convolution explorer: the text box shows the chosen kernel; typed numbers
    are applied by Enter (and the kernel becomes "typed in"), and by the apply button."""
    page = lesson.page
    found = explorers(page, "conv-explorer")
    assert len(found) == expected_explorers(lesson.name).get("conv-explorer", 0)
    for number, explorer in enumerate(found):
        view = explorer.locator(".conv-explorer-view")
        kernel = explorer.locator("select").nth(1)
        box = explorer.locator("input[type='text']")
        view.scroll_into_view_if_needed()
        # Choosing a kernel writes its numbers into the box.
        time_view_change(page, view, lambda: kernel.select_option("sobel_x"))
        page.wait_for_function("(el) => el.value === '-1 0 1; -2 0 2; -1 0 1'",
                               arg=box.element_handle(), timeout=30_000)
        assert kernel_numbers(view) == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]
        # Enter applies typed numbers, and the kernel menu says "typed in".
        type_into(box, "0 0 0; 0 5 0; 0 0 0")
        time_view_change(page, view, lambda: box.press("Enter"))
        assert kernel_numbers(view) == ["0", "0", "0", "0", "5", "0", "0", "0", "0"]
        assert kernel.input_value() == "typed in"
        assert box.input_value() == "0 0 0; 0 5 0; 0 0 0"  # one line: Enter added nothing
        assert "*5 " in view.locator(".arithmetic").inner_text()
        save(explorer, screenshot_dir, f"lesson{lesson.short}-conv-explorer-{number}-typed-enter")
        # The button applies them too: clicked, and from the keyboard (Enter on the button).
        type_into(box, "0 0 0; 0 7 0; 0 0 0")
        apply = explorer.locator("button", has_text="apply typed kernel")
        time_view_change(page, view, lambda: apply.click())
        assert kernel_numbers(view) == ["0", "0", "0", "0", "7", "0", "0", "0", "0"]
        save(explorer, screenshot_dir, f"lesson{lesson.short}-conv-explorer-{number}-typed-button")
        time_view_change(page, view, lambda: kernel.select_option("sobel_x"))
        apply.focus()
        apply.press("Enter")
        page.wait_for_function("(el) => el.value === 'typed in'", arg=kernel.element_handle(),
                               timeout=30_000)
        assert kernel_numbers(view) == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]
        # Back to a named kernel: the box follows.
        time_view_change(page, view, lambda: kernel.select_option("x_pattern"))
        page.wait_for_function("(el) => el.value === '1 0 1; 0 1 0; 1 0 1'",
                               arg=box.element_handle(), timeout=30_000)


def test_slider_handles_and_read_outs_are_named_by_their_description(lesson):
    """ipywidgets' slider handle (role="slider") gets its description as its name from the
    course's JupyterLab extension (jupyter_config/labextensions/cnn-course-accessibility), and
    the editable read-out beside it, a tab stop of its own, is a text box named
    "<description> value": a screen reader says which slider's value the student is typing."""
    sliders = lesson.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-slider")
    for index in range(sliders.count()):
        slider = sliders.nth(index)
        label = slider.locator(".widget-label").inner_text().strip()
        assert label, "a slider without a description"
        assert slider.locator(".noUi-handle").first.get_attribute("aria-label") == label
        readout = slider.locator(".widget-readout")
        if readout.is_visible():
            assert readout.get_attribute("contenteditable") == "true"
            assert readout.get_attribute("role") == "textbox", readout.evaluate("el => el.outerHTML")
            assert accessible_name(readout.element_handle()) == f"{label} value"
