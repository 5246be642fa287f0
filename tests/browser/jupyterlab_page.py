"""What a student does in JupyterLab, as Playwright steps: open, run all, read, move a slider."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ERROR_TEXT = re.compile(r"Traceback|\b[A-Z]\w*Error\b|Error displaying widget|Failed to load model class"
                        r"|Error rendering output")


ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook tab in front


def open_notebook(page: Page, base_url: str, token: str, path: str) -> None:
    """Open ``path`` in a workspace of its own (no tabs restored from an earlier page)."""
    workspace = re.sub(r"\W", "-", path)
    page.goto(f"{base_url}/lab/workspaces/{workspace}/tree/{path}?token={token}&reset")
    page.wait_for_selector(f"{ACTIVE} .jp-Cell", timeout=90_000)
    # The kernel is ready when the status bar says so. The first kernel of a fresh .venv can
    # take a while (Python compiles the bytecode of torch, numpy, ... on first import).
    page.locator(".jp-StatusBar-Item", has_text=re.compile(r"\|\s*Idle")).first.wait_for(timeout=180_000)
    wait_for_idle_kernel(page)


def wait_for_idle_kernel(page: Page, timeout_s: float = 120) -> None:
    """Wait until the kernel has started and no cell shows the running prompt ``[*]``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = page.locator(f"{ACTIVE} .jp-Notebook-ExecutionIndicator")
        busy = status.count() and status.first.get_attribute("data-status") not in ("idle", None)
        running = page.locator(f"{ACTIVE} .jp-InputPrompt", has_text="[*]").count()
        if not busy and not running:
            return
        page.wait_for_timeout(250)
    raise TimeoutError("the kernel did not become idle")


def run_all_cells(page: Page, timeout_s: float = 240) -> float:
    """Run > Run All Cells; wait until every code cell has an execution count. Returns seconds."""
    start = time.perf_counter()
    for attempt in range(3):  # a click that lands while the notebook is still settling is lost
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            page.wait_for_function(
                f"""() => [...document.querySelectorAll('{ACTIVE} .jp-CodeCell .jp-InputPrompt')]
                          .some(p => /\\[(\\*|\\d+)\\]/.test(p.innerText))""", timeout=60_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        raise TimeoutError("Run > Run All Cells did not start the notebook (3 tries)")
    deadline = time.monotonic() + timeout_s
    prompts: list[str] = []
    while time.monotonic() < deadline:
        prompts = page.locator(f"{ACTIVE} .jp-CodeCell .jp-InputPrompt").all_inner_texts()
        if prompts and all(re.search(r"\[\d+\]", prompt) for prompt in prompts):
            break
        errors = output_errors(page)
        if errors:  # Run All stops at the first error: say which
            raise AssertionError(f"a cell failed in the page: {errors[0]}")
        page.wait_for_timeout(500)
    else:
        raise TimeoutError(f"Run All Cells did not finish in {timeout_s} s; prompts: {prompts}")
    wait_for_idle_kernel(page)
    page.wait_for_timeout(1000)  # let widget views finish rendering
    return time.perf_counter() - start


def output_errors(page: Page) -> list[str]:
    """Texts of outputs that show an error (tracebacks, widget errors)."""
    texts = page.locator(f"{ACTIVE} .jp-OutputArea-output").all_inner_texts()
    return [text[:500] for text in texts if ERROR_TEXT.search(text)]


def slider(explorer: Locator, description: str) -> Locator:
    return explorer.locator(".widget-slider", has=explorer.page.locator(
        ".widget-label", has_text=re.compile(f"^{re.escape(description)}$")))


def slider_value(control: Locator) -> str:
    return control.locator(".widget-readout").inner_text().strip()


def nudge_slider(control: Locator, key: str = "ArrowRight") -> None:
    """Move an ipywidgets IntSlider one step with the keyboard, as a student can."""
    control.locator(".noUi-handle").first.press(key)


def time_view_change(page: Page, view: Locator, action) -> tuple[str, float]:
    """Run ``action`` and wait for ``view``'s text to change; returns (new text, ms)."""
    before = view.inner_text()
    handle = view.element_handle()
    start = time.perf_counter()
    action()
    page.wait_for_function("([el, old]) => el.innerText !== old", arg=[handle, before],
                           polling="raf", timeout=30_000)
    return view.inner_text(), 1e3 * (time.perf_counter() - start)


def save(locator_or_page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    locator_or_page.screenshot(path=str(path))
    return path
