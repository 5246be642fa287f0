"""The course website (`make site`) as a reader meets it: every page walked in Chromium.

The site is built once per session from the lessons the notebook tests executed (the
``built_site`` fixture of tests/conftest.py) and served on 127.0.0.1. Each page is loaded once
(the ``walk`` fixture); every request that would leave this machine is stopped and recorded, so
a page that needs the web (a CDN script, a font) fails here as it would offline. Then:
console errors, broken internal links, anchors and images, the lessons' figures and explorer
stills, axe-core on every whole page (the site's theme included), and no line of a solution or
hidden test anywhere in the built files.
"""

from __future__ import annotations

import html.parser
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from notebook_drawings import drawing_calls, imported_names
from solution_lines import MARKERS, normalise, page_text, secret_lines

from jupyterlab_page import run_axe

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FAILING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="module")
def site_url(built_site):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(built_site)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, "http.server did not start"
            time.sleep(0.2)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def site_pages(site: Path) -> list[str]:
    """Every page (index.html only redirects to the front page, README.html)."""
    return sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html")
                  if not path.relative_to(site).as_posix().startswith("_static/")
                  and path.relative_to(site).as_posix() != "index.html")


@dataclass
class PageVisit:
    errors: list[str] = field(default_factory=list)      # console errors, failed loads
    offsite: list[str] = field(default_factory=list)     # requests that would leave 127.0.0.1
    images: list[dict] = field(default_factory=list)     # every <img>: alt, loaded, in an output
    stills: int = 0                                      # explorers shown as stills
    axe: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def walk(browser, site_url, built_site, axe_script, screenshot_dir) -> dict[str, PageVisit]:
    """Every page of the site loaded once in Chromium, with what it did and what axe found."""
    visits: dict[str, PageVisit] = {}
    for name in site_pages(built_site):
        visit = visits[name] = PageVisit()
        page = browser.new_page()

        def route(request_route, visit=visit):
            url = request_route.request.url
            if url.startswith(site_url) or url.startswith("data:"):
                request_route.continue_()
            else:
                visit.offsite.append(url)
                request_route.abort()

        page.route("**/*", route)
        page.on("console", lambda message, visit=visit: visit.errors.append(message.text)
                if message.type == "error" else None)
        page.on("pageerror", lambda error, visit=visit: visit.errors.append(str(error)))
        page.on("response", lambda response, visit=visit: visit.errors.append(
            f"{response.status} {response.url}") if response.status >= 400 else None)
        page.goto(site_url + name, wait_until="load")
        page.evaluate("""async () => {  // the page as a reader sees it: maths typeset, fonts in
            if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
            await document.fonts.ready;
        }""")
        visit.images = page.evaluate("""() => [...document.images].map(image => ({
            alt: image.getAttribute('alt'), loaded: image.complete && image.naturalWidth > 0,
            src: image.getAttribute('src').slice(0, 60),
            output: !!image.closest('.cell_output') && !image.closest('.explorer-still')}))""")
        visit.stills = page.locator(".explorer-still").count()
        visit.axe = run_axe(page, axe_script, include=[["body"]])
        if name in ("README.html", "notebooks/01_convolution_by_hand.html",
                    "notebooks/05_cnn_on_cifar10.html"):
            page.screenshot(path=str(screenshot_dir / f"site-{Path(name).stem}.png"))
        page.close()
    return visits


def test_the_site_has_every_lesson_assignment_and_guide(built_site):
    pages = set(site_pages(built_site))
    assert {f"notebooks/{lesson.stem}.html" for lesson in LESSONS} <= pages
    for released in (ROOT / "assignments").glob("*/*.ipynb"):
        assert f"assignments/{released.parent.name}/{released.stem}.html" in pages
    for guide in (ROOT / "docs").rglob("*.md"):
        assert guide.relative_to(ROOT).with_suffix(".html").as_posix() in pages
    assert "README.html" in pages
    assert 'url=README.html' in (built_site / "index.html").read_text()  # the front page


def test_every_page_loads_with_no_console_error_and_nothing_from_the_web(walk):
    failing = {name: (visit.errors, visit.offsite) for name, visit in walk.items()
               if visit.errors or visit.offsite}
    assert not failing, "\n".join(f"{name}: errors {errors}, off this machine {offsite}"
                                  for name, (errors, offsite) in failing.items())


class Links(html.parser.HTMLParser):
    """The ids of a page and every internal link and image source in it."""

    def __init__(self):
        super().__init__()
        self.ids, self.targets = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            value = attrs.get(name)
            if value and not urllib.parse.urlsplit(value).scheme and not value.startswith("//"):
                self.targets.append(value)


def parsed(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def test_no_internal_link_anchor_or_image_is_broken(built_site, walk):
    pages = {name: parsed(built_site / name) for name in site_pages(built_site)}
    broken = []
    for name, links in pages.items():
        for target in links.targets:
            parts = urllib.parse.urlsplit(target)
            path = (built_site / name).parent / urllib.parse.unquote(parts.path) if parts.path \
                else built_site / name
            path = path.resolve()
            if not path.exists() or built_site.resolve() not in (path, *path.parents):
                broken.append(f"{name}: {target} (no such file)")
            elif parts.fragment and path.suffix == ".html":
                ids = pages.get(path.relative_to(built_site.resolve()).as_posix(), parsed(path)).ids
                if parts.fragment not in ids:
                    broken.append(f"{name}: {target} (no #{parts.fragment} there)")
        broken += [f"{name}: image {image['src']} did not load" for image in walk[name].images
                   if not image["loaded"]]
    assert not broken, "\n".join(broken)


def expected_pictures(lesson: Path) -> tuple[int, int]:
    """``(figures, explorers)`` the lesson's code draws: its drawing calls, read from the source."""
    notebook = nbformat.read(lesson, as_version=4)
    names = imported_names(notebook)
    calls = [call for cell in notebook.cells if cell.cell_type == "code"
             for call in drawing_calls(cell.source, names)]
    explorers = sum(call.endswith("_explorer") for call in calls)
    return len(calls) - explorers, explorers


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.stem)
def test_every_lesson_page_shows_its_figures_and_explorers_each_with_alt_text(lesson, walk):
    visit = walk[f"notebooks/{lesson.stem}.html"]
    figures, explorers = expected_pictures(lesson)
    shown = [image for image in visit.images if image["output"]]
    assert len(shown) >= figures, f"{lesson.name} draws {figures} figures, its page shows {len(shown)}"
    assert visit.stills == explorers, f"{lesson.name} builds {explorers} explorers, {visit.stills} stills"
    no_alt = [image["src"] for image in visit.images if not (image["alt"] or "").strip()]
    assert not no_alt, f"{lesson.name}: images without alt text: {no_alt}"


def test_lesson_05_says_at_the_top_that_its_outputs_come_from_fake_data(built_site):
    page = (built_site / "notebooks" / "05_cnn_on_cifar10.html").read_text()
    text = page_text(re.search(r"<article\b.*</article>", page, re.S).group(0))
    title = text.index("Lesson 05")
    note = text.index("The outputs on this page come from FAKE data on a CPU.")
    first_section = text.index("1. The data")
    assert title < note < first_section, "the FAKE note is not between the title and section 1"
    assert text.count("FAKE") > 10


def test_no_page_names_a_folder_of_the_machine_that_built_it(built_site, executed_lessons):
    """Lesson 05's data folder is written ``{tmp}`` (the notebook's own notation), not the path
    of the build's scratch folder."""
    folders = (str(ROOT), str(executed_lessons.scratch))
    named = [f"{name}: {folder}" for name in site_pages(built_site)
             for folder in folders if folder in (built_site / name).read_text()]
    assert not named, "\n".join(named)


def test_no_page_has_a_serious_or_critical_accessibility_violation(walk):
    serious = [f"{name}: {violation['id']} ({violation['impact']}): {violation['help']}; e.g. "
               f"{violation['nodes'][0]['html'][:160]}"
               for name, visit in walk.items() for violation in visit.axe["violations"]
               if violation["impact"] in FAILING_IMPACTS]
    assert all(visit.axe["rules"] for visit in walk.values()), "axe checked nothing on a page"
    assert not serious, "\n".join(serious)


def test_the_built_site_holds_no_solution_line_or_hidden_test(built_site):
    secrets = secret_lines()
    assert len(secrets) > 20, "found too few solution lines: is solution_lines.py reading solutions/?"
    leaks = []
    for path in built_site.rglob("*"):
        if not path.is_file() or path.suffix not in (".html", ".js", ".json", ".txt", ".ipynb", ".css"):
            continue
        raw = path.read_bytes().decode("utf-8", errors="ignore")
        text = page_text(raw) if path.suffix == ".html" else normalise(raw)
        leaks += [f"{path.relative_to(built_site)}: {marker}" for marker in MARKERS if marker in raw]
        leaks += [f"{path.relative_to(built_site)}: {line}" for line in secrets if line in text]
    assert not leaks, "\n".join(leaks)
