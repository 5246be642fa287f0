"""The report as one HTML page: readable offline (pictures inline, no script, no outside file),
accessible (alt texts, captions, table headers with scopes, one ``h1``, landmarks), and every
text that came from a submission escaped.

:func:`render` is a pure function: statistics, similarity and labels in, the page's text out.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from course_utils.instructor.report import figures
from course_utils.instructor.report.similarity import MIN_SHARED, Match, SimilarityResult
from course_utils.instructor.report.statistics import ClassStatistics, without_people

#: Lines of each side shown in a side-by-side view of shared code.
SIDE_LINES = 120

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem;
       color: #111; background: #fff; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { border: 1px solid #888; padding: 0.25rem 0.5rem; vertical-align: top; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-size: 0.85rem; }
mark { background: #ffe066; color: #000; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.side figure { margin: 0; border: 1px solid #888; padding: 0.5rem; }
figure img { max-width: 100%; height: auto; }
.note { color: #333; }
"""


def pseudonyms(students: list[str], assignment: str) -> dict[str, str]:
    """student -> ``submission N``, numbered in an order that is not the ids' (a hash of the
    assignment and the id), so the page does not give away who is who."""
    order = sorted(students, key=lambda s: hashlib.sha256(f"{assignment}/{s}".encode()).hexdigest())
    return {student: f"submission {index + 1}" for index, student in enumerate(order)}


def _table(caption: str, headers: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            if index == 0:
                cells.append(f'<th scope="row">{value}</th>')
            else:
                cells.append(f'<td class="number">{value}</td>' if index in numeric else f"<td>{value}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}">none</td></tr>')
    return (f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _image(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _who(students: list[str], labels: dict[str, str], names: bool) -> str:
    if not students:
        return "none"
    if not names:
        return f"{len(students)} (run with --names to see who)"
    return f"{len(students)}: " + ", ".join(escape(labels.get(s, s)) for s in sorted(students))


def marked(code: str, spans, people: list[str] = ()) -> str:
    """``code`` escaped, the ``spans`` (start, end) in ``<mark>``, every id or name of ``people``
    replaced by ``<student>`` (a comment can sign the work), cut to :data:`SIDE_LINES` lines."""
    parts, at = [], 0

    def shown(text: str) -> str:
        return escape(without_people(text, people) if people else text)

    for start, end in sorted(spans):
        start, end = max(start, at), max(end, at)
        parts.append(shown(code[at:start]))
        if end > start:
            parts.append(f"<mark>{shown(code[start:end])}</mark>")
        at = end
    parts.append(shown(code[at:]))
    text = "".join(parts)
    lines = text.split("\n")
    if len(lines) > SIDE_LINES:
        # a cut inside a <mark> would leave it open: close and reopen around the cut
        kept = "\n".join(lines[:SIDE_LINES])
        if kept.count("<mark>") > kept.count("</mark>"):
            kept += "</mark>"
        text = kept + f"\n\N{HORIZONTAL ELLIPSIS} ({len(lines) - SIDE_LINES} more lines)"
    return text


def _side_by_side(match: Match, left_title: str, right_title: str, code: dict[str, str], people) -> str:
    return ('<div class="side">'
            f'<figure><figcaption>{escape(left_title)}: {_percent(match.left_share)} of its own code shared'
            f'</figcaption><pre>{marked(code.get(match.left, ""), match.left_spans, people)}</pre></figure>'
            f'<figure><figcaption>{escape(right_title)}: {_percent(match.right_share)} of its own code shared'
            f'</figcaption><pre>{marked(code.get(match.right, ""), match.right_spans, people)}</pre></figure></div>')


def similarity_section(result: SimilarityResult | None, labels: dict[str, str], code: dict[str, str],
                       people: list[str] = ()) -> str:
    if result is None:
        return ('<section aria-labelledby="similar"><h2 id="similar">Similar work</h2>'
                '<p>Not checked (--no-similarity).</p></section>')
    parts = ['<section aria-labelledby="similar"><h2 id="similar">Similar work</h2>',
             f"<p>{result.compared} submissions with code of their own were compared pair by pair, and each "
             "with the course's code a student can read (course_utils/reference, the lessons) and with "
             "solutions/. Names, comments and the order of functions do not count, nor does the released "
             "template; between two students, code that more than a quarter of the class shares or that "
             "is also in the course's code does not count either. A pair is listed when "
             f"at least {_percent(result.threshold)} of one side's own code (and at least {MIN_SHARED} "
             "characters of filtered code) is found in the other. Shared code is marked.</p>"]
    rows = [[escape(f"{labels[m.left]} and {labels[m.right]}"), _percent(m.share),
             f"{_percent(m.left_share)} / {_percent(m.right_share)}", str(m.shared)] for m in result.pairs]
    parts.append(_table("Pairs of submissions that share their code", ["pair", "share of shared code",
                        "each side's share", "shared characters (filtered)"], rows, {1, 2, 3}))
    rows = [[escape(labels[m.left]), escape(m.right), _percent(m.left_share), str(m.shared)] for m in result.sources]
    parts.append(_table("Submissions that share their code with the course's own code",
                        ["submission", "course file", "share of its code", "shared characters (filtered)"],
                        rows, {2, 3}))
    for match in result.pairs:
        title = f"{labels[match.left]} and {labels[match.right]}: {_percent(match.share)}"
        parts.append(f"<details><summary>{escape(title)}</summary>"
                     f"{_side_by_side(match, labels[match.left], labels[match.right], code, people)}</details>")
    for match in result.sources:
        title = f"{labels[match.left]} and {match.right}: {_percent(match.left_share)}"
        parts.append(f"<details><summary>{escape(title)}</summary>"
                     f"{_side_by_side(match, labels[match.left], match.right, code, people)}</details>")
    parts.append("</section>")
    return "".join(parts)


def render(stats: ClassStatistics, similarity: SimilarityResult | None, code: dict[str, str],
           labels: dict[str, str], names: bool, generated: str) -> str:
    """The page. ``code``: each submission's (and source's) code by key, for the side-by-side
    views; ``labels``: how each student is shown (an id with ``names``, else a pseudonym)."""
    title = f"Class report: {stats.assignment}"
    graded = len(stats.scores)
    mean = sum(stats.scores) / graded if graded else 0.0
    out = [f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">'
           f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>",
           f"<h1>{escape(title)}</h1>",
           f'<p>{graded} graded submissions of {stats.enrolled} students; mean score {mean:.2f} of '
           f"{stats.max_score:g}. Made {escape(generated)}"
           f"{'; due ' + escape(stats.duedate) if stats.duedate else ''}.</p>"]
    if not stats.verdicts_recorded:
        out.append('<p class="note">No trusted verdicts are recorded in the autograded notebooks (graded '
                   "without the course's pipeline): only the scores are reported.</p>")

    png, alt = figures.score_histogram(stats.scores, stats.max_score)
    rows = [[f"{low:g} to {high:g}", str(count)] for low, high, count in figures.score_bins(stats.scores, stats.max_score)]
    out += ['<section aria-labelledby="scores"><h2 id="scores">Scores</h2>',
            _image(png, alt, f"Scores of the {graded} graded submissions, out of {stats.max_score:g}."),
            _table("Students per score range (the last range includes full marks)", ["score", "students"],
                   rows, {1}), "</section>"]

    out.append('<section aria-labelledby="wrong"><h2 id="wrong">What the class got wrong</h2>')
    if stats.groups:
        png, alt = figures.group_failure_chart(stats.groups)
        out.append(_image(png, alt, "The groups of checks most students failed."))
    rows = [[escape(g.function), escape(g.label), f"{g.failed} of {g.graded}", _percent(g.share)]
            for g in stats.groups]
    out.append(_table("Each function's named groups of checks: the students who failed it",
                      ["function", "group of checks", "students who failed it", "share"], rows, {2, 3}))
    rows = [[escape(m.function), escape(m.kind), str(m.students), f"<pre>{escape(m.example)}</pre>"]
            for m in stats.mistakes]
    out.append(_table("The most common failure messages (each student counted once per function), "
                      "with one anonymised example", ["function", "what the message says", "students",
                                                      "example"], rows, {2}))
    out.append("</section>")

    rows = [[escape(t.function), f"{t.median:.3f}", f"{t.slowest:.3f}", f"{t.total:.1f}", str(t.stopped)]
            for t in stats.times]
    out += ['<section aria-labelledby="time"><h2 id="time">Time in the checks</h2>',
            _table("Seconds each function took in the trusted check (all its cases)",
                   ["function", "median s", "slowest s", "total s", "stopped (hangs)"], rows, {1, 2, 3, 4}),
            "</section>"]

    delegated = sorted({s for students in stats.delegated.values() for s in students})
    rows = [["late", _who(stats.late, labels, names)],
            ["missing (enrolled, nothing handed in)", _who(stats.missing, labels, names)],
            ["grading failed (make grade)", _who(sorted(stats.failed), labels, names)],
            ["tampering suspected (a test cell passed in the kernel, failed in the trusted check)",
             _who(stats.tampering, labels, names)],
            ["delegation (a function reached a banned library)", _who(delegated, labels, names)],
            ["graded without the sandbox", str(stats.without_sandbox)]]
    rows += [[f"{escape(kind)}", str(count)] for kind, count in sorted(stats.notes.items())]
    out += ['<section aria-labelledby="handed"><h2 id="handed">Handing in, and what grading noticed</h2>',
            _table("Students, by what happened", ["what", "students"], rows)]
    if stats.delegated:
        rows = [[escape(function), str(len(students))] for function, students in sorted(stats.delegated.items())]
        out.append(_table("Delegation by function", ["function", "students"], rows, {1}))
    out.append("</section>")

    out.append(similarity_section(similarity, labels, code, () if names else stats.people))
    out.append("</main></body></html>\n")
    return "".join(out)
