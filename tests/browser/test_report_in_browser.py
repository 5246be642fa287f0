"""The class report in Debian's Chromium: the page of the synthetic class of 30, every section and
every side-by-side view open, checked with axe-core (no critical or serious violation)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "instructor"))

import synthetic_class  # noqa: E402
from honest_solutions import honest_solutions, planted_copy  # noqa: E402

pytestmark = pytest.mark.browser
FAILING_IMPACTS = ("critical", "serious")


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    """The report's page for the synthetic class, with its honest students' code swapped for
    honest solutions and a planted copy, so that the page has pairs to show side by side."""
    from test_report_similarity import handed_in

    from course_utils.instructor.report import page, similarity, sources, statistics

    records, submitted = synthetic_class.class_records(ROOT)
    answers = honest_solutions()
    for k, student in enumerate(sorted(s for s, kind in synthetic_class.students().items() if kind == "right")):
        submitted[student] = handed_in(planted_copy(answers[3]) if k == 0 else answers[2 + k])
    released = [json.loads((ROOT / "assignments" / synthetic_class.ASSIGNMENT / f"{synthetic_class.ASSIGNMENT}.ipynb").read_text())]
    solved = [json.loads((ROOT / "solutions" / synthetic_class.ASSIGNMENT / f"{synthetic_class.ASSIGNMENT}.ipynb").read_text())]
    locked = sources.locked_ids(released)
    code = {student: sources.own_code([notebook], locked) for student, notebook in submitted.items()}
    course = sources.course_sources(ROOT, solved)
    found = similarity.similar_work([similarity.Document(s, c) for s, c in code.items()],
                                    [similarity.Document(k, c) for k, c in course.items()],
                                    sources.template_code(released))
    assert found.pairs and found.sources  # the page shows both kinds of match
    stats = statistics.class_statistics(records)
    labels = page.pseudonyms(sorted(set(records.enrolled)), records.assignment)
    path = tmp_path_factory.mktemp("report") / "a1_convolution.html"
    path.write_text(page.render(stats, found, {**code, **course}, labels, False, "2030-03-02 09:00"))
    return path


def test_the_report_page_has_no_serious_accessibility_violation(report_page, browser, axe_script, screenshot_dir):
    page = browser.new_page()
    try:
        page.goto(report_page.as_uri())
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        assert page.locator("h1").inner_text() == "Class report: a1_convolution"
        assert page.locator("img").count() == 2 and page.locator("details[open]").count() >= 2
        assert page.evaluate("() => [...document.images].every(i => i.complete && i.naturalWidth > 0 && i.alt)")
        page.add_script_tag(path=str(axe_script))
        violations = page.evaluate("""async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                               html: v.nodes[0].html.slice(0, 200)}));
        }""")
        page.screenshot(path=str(screenshot_dir / "class-report.png"), full_page=True)
        (screenshot_dir / "axe-class-report.json").write_text(json.dumps(violations, indent=1))
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        assert not failing, "; ".join(f"{v['id']} ({v['impact']}): {v['help']}; e.g. {v['html']}" for v in failing)
    finally:
        page.close()
