"""The class report (``python -m course_utils.instructor.report``) on a synthetic class of 30
(:mod:`synthetic_class`: known mistakes at known rates), on bad input, and once on what
``nbgrader autograde`` really wrote (``graded_class``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import synthetic_class
from nbgrader_course import copy_course, course_env
from synthetic_class import ASSIGNMENT, LATE, MISSING_IN_GRADEBOOK, MISSING_IN_ROSTER, NAMED, PLAN

from course_utils.instructor.report.__main__ import build, main
from course_utils.instructor.report.similarity import THRESHOLD

GRADED = sum(PLAN.values())


def report(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_utils.instructor.report", *args], cwd=course,
                          env=course_env(), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def synthetic(released_course, tmp_path_factory):
    course = copy_course(released_course, tmp_path_factory.mktemp("synthetic") / "course")
    planted = synthetic_class.build(course)
    html, stats, similarity, labels = build(course, ASSIGNMENT, names=False, progress=False)
    return {"course": course, "planted": planted, "html": html, "stats": stats, "similarity": similarity,
            "labels": labels}


def kinds_of(planted: dict, *kinds: str) -> int:
    return sum(1 for kind in planted["students"].values() if kind in kinds)


def test_each_group_of_checks_is_failed_by_the_share_of_the_class_that_was_planted(synthetic):
    planted = synthetic["planted"]
    # which kinds fail which groups: a bug fails the groups whose cases it changes; a function
    # stopped, delegated or raising fails every group; the tamperer's conv_single_step (+1) is
    # wrong everywhere, and conv2d calls it; a property group counts only once values are right
    everything = {"worked example", "batch and channels", "stride and padding", "non-square inputs and kernels",
                  "dtype", "input left unchanged"}
    failing = {
        ("zero_pad", "batch and channels"): ("pad_one",), ("zero_pad", "non-square images"): ("pad_one",),
        **{("conv_single_step", group): ("raises", "tamper")
           for group in ("worked example", "channels and bias", "non-square windows")},
        **{("conv2d", group): ("hang", "delegate", "tamper") for group in everything},
        ("conv2d", "stride and padding"): ("no_stride", "hang", "delegate", "tamper"),
        ("conv2d", "non-square inputs and kernels"): ("no_stride", "hang", "delegate", "tamper"),
    }
    shares = {(g.function, g.label): (g.failed, g.graded) for g in synthetic["stats"].groups}
    assert len(shares) == 3 + 5 + 3 + 6  # every group of every function, each once
    for key, (failed, graded) in shares.items():
        assert graded == GRADED
        assert failed == kinds_of(planted, *failing.get(key, ())), key
    html = synthetic["html"]
    assert re.search(r"<th scope=\"row\">conv2d</th><td>stride and padding</td><td class=\"number\">13 of 30</td>"
                     r"<td class=\"number\">43%</td>", html)


def test_the_most_common_failure_messages_are_the_planted_mistakes_with_an_anonymised_example(synthetic):
    mistakes = synthetic["stats"].mistakes
    top = [(m.function, m.students) for m in mistakes[:5]]
    assert top == [("conv2d", PLAN["no_stride"]), ("zero_pad", PLAN["pad_one"]), ("conv_single_step", PLAN["raises"]),
                   ("conv2d", PLAN["hang"]), ("conv2d", PLAN["delegate"])]
    stride, pad, raised, hang, delegated = mistakes[:5]
    assert stride.kind.startswith("wrong values. Probably: you forgot the stride when placing the window")
    assert pad.kind == "wrong shape. Probably: the padding looks hard-coded to N; use the argument pad."
    assert raised.kind == "raised ValueError" and "was stopped" in hang.kind and "banned library" in delegated.kind
    # the example: the student's own exception text, without their name, id or folder, cut short
    assert "my kernel from <path>" in raised.example and "<student>" in raised.example
    for secret in (*NAMED, "ada.lovelace", "/home", "Ada"):
        assert secret not in raised.example
    assert all(len(m.example) <= 600 for m in mistakes)
    html = synthetic["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    for secret in ("Lovelace", "ada.lovelace"):  # nor in the code views (a string names the student)
        assert secret not in html


def test_late_missing_tampering_and_delegation_are_counted_and_names_appear_only_when_asked(synthetic):
    stats, html = synthetic["stats"], synthetic["html"]
    assert sorted(stats.late) == sorted(LATE)
    assert sorted(stats.missing) == sorted([*MISSING_IN_GRADEBOOK, MISSING_IN_ROSTER])
    assert stats.tampering == [s for s, kind in synthetic["planted"]["students"].items() if kind == "tamper"]
    assert sum(len(v) for v in stats.delegated.values()) == PLAN["delegate"]
    assert [t.stopped for t in stats.times if t.function == "conv2d"] == [PLAN["hang"]]
    assert all(t.students == GRADED and t.slowest >= t.median >= 0 for t in stats.times)
    assert stats.enrolled == GRADED + len(MISSING_IN_GRADEBOOK) + 1
    for student in synthetic["planted"]["students"]:  # no id anywhere without --names
        assert not re.search(rf"\b{re.escape(student)}\b", html), student
    assert "2 (run with --names to see who)" in html  # late
    named, *_ = build(synthetic["course"], ASSIGNMENT, names=True, progress=False)
    assert re.search(r"late</th><td>2: s01, s10</td>", named)
    assert "quiet1, quiet2, rostered" in named


class _Page(HTMLParser):
    """The tags a test needs: images with their alt, tables' headers, headings."""

    def __init__(self):
        super().__init__()
        self.images, self.headers, self.headings, self.captions, self._in = [], [], [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        elif tag == "th":
            self.headers.append(attrs.get("scope"))
        elif tag in ("h1", "h2", "caption"):
            self._in = tag

    def handle_data(self, data):
        if self._in in ("h1", "h2"):
            self.headings.append(data)
        elif self._in == "caption":
            self.captions.append(data)

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None


def test_the_page_has_the_histogram_and_tables_with_text_alternatives_and_headers(synthetic):
    page = _Page()
    page.feed(synthetic["html"])
    assert page.headings[:2] == [f"Class report: {ASSIGNMENT}", "Scores"]
    assert len(page.images) == 2 and all(image["src"].startswith("data:image/png;base64,") for image in page.images)
    histogram = page.images[0]["alt"]
    assert histogram.startswith(f"Histogram of {GRADED} scores out of 10: mean ")
    assert all(scope in ("col", "row") for scope in page.headers)
    assert any("score range" in caption for caption in page.captions)
    assert "http://" not in synthetic["html"] and "https://" not in synthetic["html"]  # readable offline
    bins = re.findall(r'<th scope="row">(\d+(?:\.\d+)? to \d+(?:\.\d+)?)</th><td class="number">(\d+)</td>',
                      synthetic["html"])
    assert len(bins) == 10 and sum(int(count) for _, count in bins) == GRADED


def test_the_command_writes_the_page_and_prints_a_summary(synthetic, tmp_path):
    output = tmp_path / "page.html"
    result = report(synthetic["course"], ASSIGNMENT, "--output", str(output), "--no-similarity")
    assert result.returncode == 0, result.stderr
    assert f"{ASSIGNMENT}: {GRADED} graded of 33 students" in result.stdout
    assert "late 2, missing 3, grading failed 0, tampering suspected 1, delegation 1" in result.stdout
    assert f"{PLAN['no_stride']} x conv2d: wrong values. Probably: you forgot the stride" in result.stdout
    assert f"wrote {output}" in result.stdout
    assert output.read_text().startswith("<!DOCTYPE html>") and not output.with_name("page.html.partial").exists()


# --- bad input -------------------------------------------------------------------------------

def test_an_assignment_the_gradebook_does_not_know_stops_with_a_message(synthetic, tmp_path, capsys):
    status = main(["a9_missing", "--root", str(synthetic["course"]), "--output", str(tmp_path / "x.html")])
    error = capsys.readouterr().err
    assert status == 2
    assert "assignment must be one the gradebook knows (a1_convolution, a2_pooling, a3_backprop), got 'a9_missing'" in error
    assert not list(tmp_path.iterdir())
    assert main(["../a1_convolution", "--root", str(synthetic["course"])]) == 2
    assert "assignment must be an assignment's name, got '../a1_convolution'" in capsys.readouterr().err


def test_a_gradebook_with_nothing_autograded_stops_with_a_message(released_course, tmp_path):
    course = copy_course(released_course, tmp_path / "course")
    result = report(course, "a2_pooling")
    assert result.returncode == 1
    assert ("no submission of a2_pooling has been autograded yet (the gradebook has none): run "
            "`make grade ASSIGNMENT=a2_pooling` first") in result.stderr
    assert not (course / "reports").exists()


def test_a_submission_that_is_not_valid_json_stops_the_report_and_leaves_the_last_page(synthetic, tmp_path):
    course = copy_course(synthetic["course"], tmp_path / "course")
    for folder in ("submitted", "autograded"):
        shutil.copytree(synthetic["course"] / folder, course / folder)
    (course / "roster.csv").write_text((synthetic["course"] / "roster.csv").read_text())
    output = tmp_path / "page.html"
    output.write_text("the last report")
    broken = course / "submitted" / "s05" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    broken.write_text('{"cells": [')
    result = report(course, ASSIGNMENT, "--output", str(output))
    assert result.returncode == 1
    assert f"{broken} is not a valid notebook (not valid JSON" in result.stderr
    assert output.read_text() == "the last report" and not list(tmp_path.glob("*.partial"))
    # a link in a submission is never followed, not even to a valid notebook
    broken.unlink()
    os.symlink(synthetic["course"] / "submitted" / "s06" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", broken)
    result = report(course, ASSIGNMENT, "--output", str(output))
    assert result.returncode == 1 and f"{broken} is a link" in result.stderr
    assert output.read_text() == "the last report"


def test_a_threshold_outside_0_and_1_is_refused_with_what_it_needs(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["a1_convolution", "--threshold", "65"])
    assert stopped.value.code == 2
    assert "argument --threshold: must be a share between 0 and 1 (0.65 is 65%), got '65'" in capsys.readouterr().err


# --- on nbgrader autograde's own output -------------------------------------------------------

@pytest.mark.slow
def test_the_report_reads_what_nbgrader_autograde_recorded_for_the_test_class(graded_class, tmp_path):
    """The test class (class_submissions.py) as serial ``nbgrader autograde`` graded it."""
    from class_submissions import EXPECTED

    course = graded_class["path"]
    expected = EXPECTED["a2_pooling"]
    html, stats, similarity, labels = build(course, "a2_pooling", names=True, progress=False)
    assert sorted(stats.scores) == sorted(sum(points.values()) for points in expected.values())
    assert stats.tampering == ["cheat"]  # its relu passed in the kernel, not in the trusted check
    assert stats.delegated == {"max_pool2d": ["tamper"]}
    assert [t.stopped for t in stats.times] == [0, 0, 0]
    relu = {g.label: g.failed for g in stats.groups if g.function == "relu"}
    # blank, hang (the release as is) and cheat fail relu's values; tamper writes into x
    assert relu["input left unchanged"] == 3 + 1
    assert any(m.function == "max_pool2d" and "forgot the stride" in m.kind for m in stats.mistakes)
    # most of the test class hands in the instructor's code: flagged against solutions/
    copied = {m.left for m in similarity.sources if m.right.startswith("solutions/")}
    assert {"solution", "warns", "bug"} <= copied and "blank" not in copied
    assert all(m.left_share >= THRESHOLD for m in similarity.sources)
    assert "solution" in html and json.dumps(stats.max_score)
