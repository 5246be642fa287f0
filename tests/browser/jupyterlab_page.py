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


# ------------------------------------------------------------------ accessibility (axe-core)

#: What axe checks on a lesson page: the notebook's own content -- every cell's outputs (figures,
#: explorers) and its rendered text. JupyterLab's chrome around it (menus, the cell editors' ARIA,
#: toolbar buttons) is JupyterLab's, not the course's, and is left out.
LESSON_CONTENT = [[f"{ACTIVE} .jp-Cell-outputArea"], [f"{ACTIVE} .jp-MarkdownOutput"]]


def run_axe(page: Page, axe_script: Path, include=None) -> dict:
    """Inject axe-core and run every rule it has (except experimental ones) on ``include``
    (default: the active notebook's content). Returns ``{"violations": [...], "rules": [...]}``:
    each violation with its rule id, impact, help text and failing nodes; ``rules`` the ids of
    every rule that applied (passed, failed or needs review)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_script))
    return page.evaluate(
        """async (include) => {
            const result = await axe.run({include}, {resultTypes: ['violations']});
            const rules = [...result.passes, ...result.violations, ...result.incomplete].map(r => r.id);
            return {
              rules: [...new Set(rules)].sort(),
              violations: result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 300),
                                          summary: n.failureSummary}))})),
            };
        }""", include or LESSON_CONTENT)


# ------------------------------------------------------------------ explorers and keyboard

#: The explorers' CSS classes (``Explorer(name, ...)``), by the function that builds each.
EXPLORER_CLASSES = {"conv_explorer": "conv-explorer", "shape_explorer": "shape-explorer",
                    "relu_explorer": "relu-explorer", "pooling_explorer": "pooling-explorer",
                    "feature_map_explorer": "feature-map-explorer",
                    "gradient_explorer": "gradient-explorer",
                    "receptive_field_explorer": "receptive-field-explorer"}

#: Every element of an explorer a student can Tab to, in DOM order.
FOCUSABLE = ("select, input, textarea, button, [contenteditable='true'], "
             "[tabindex]:not([tabindex='-1'])")


def explorers(page: Page, css_class: str) -> list[Locator]:
    return page.locator(f"{ACTIVE} .widget-vbox.{css_class}").all()


def tab_stops(explorer: Locator) -> list:
    """The explorer's focusable elements (element handles), in the order Tab visits them."""
    return explorer.evaluate_handle(
        f"(root) => [...root.querySelectorAll(\"{FOCUSABLE}\")]"
        ".filter(el => el.offsetParent !== null && !el.disabled)"
    ).get_properties().values()


def focused_is(page: Page, handle) -> bool:
    return page.evaluate("(el) => document.activeElement === el", handle)


def accessible_name(handle) -> str:
    """The control's name as a screen reader gets it (aria-label, aria-labelledby, its <label>,
    or a button's text)."""
    return handle.evaluate("""(el) => {
        if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
        const by = el.getAttribute('aria-labelledby');
        if (by) return by.split(' ').map(id => document.getElementById(id)?.textContent || '').join(' ');
        if (el.labels && el.labels.length) return [...el.labels].map(l => l.textContent).join(' ');
        if (el.closest('label')) return el.closest('label').textContent;
        return el.tagName === 'BUTTON' ? el.textContent : '';
    }""").strip()


def shutdown_kernels(base_url: str, token: str) -> None:
    """Stop every kernel of the server (the lesson pages' kernels; nothing else runs there)."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/api/sessions?token={token}", timeout=10) as reply:
        sessions = json.load(reply)
    for session in sessions:
        request = urllib.request.Request(f"{base_url}/api/sessions/{session['id']}?token={token}",
                                         method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


def open_terminal(page: Page) -> Locator:
    """File > New > Terminal; returns the terminal once it shows its prompt area."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^New$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Terminal$")).click()
    terminal = page.locator(".jp-Terminal:not(.lm-mod-hidden)").last
    terminal.locator(".xterm-screen").wait_for(timeout=60_000)
    return terminal
