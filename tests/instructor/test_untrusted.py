"""What a student hands in, handled as data (course_utils.instructor.untrusted): ids that are never
paths, copies that follow no link, notebooks with nothing active left, cells that are never
formulas, pages under a Content-Security-Policy."""

from __future__ import annotations

import base64
import os
import re

import nbformat
import pytest

from course_utils.instructor.untrusted import files, html, ids, pages, spreadsheet, terminal

# --- ids -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["..", ".", "", "a/b", "../x", "x\x00y", "x\ny", "-rf", ".hidden", "a" * 101,
                                  "ada+bob", " ada", "ada.", "/etc"])
def test_a_path_an_option_or_a_control_character_is_never_a_student_id(text):
    assert not ids.is_safe_student_id(text)
    with pytest.raises(ids.UnsafeStudentId, match="never a path"):
        ids.check_student_id(text, "the file name's student")


@pytest.mark.parametrize("text", ["ada", "ada.lovelace", "s1234", "José", "ada_lovelace-2", "a@uni.edu"])
def test_plain_names_are_student_ids(text):
    assert ids.check_student_id(text) == text


@pytest.mark.parametrize("text, safe", [("Ada Lovelace", "Ada_Lovelace"), ("..", ""), ("../../etc", "etc"),
                                        ("_a_", "a"), ("x\x00y", "x_y"), ("+1234", "1234")])
def test_a_name_is_mapped_to_a_safe_id_or_to_nothing(text, safe):
    assert ids.safe_student_id(text) == safe


def test_a_display_name_keeps_no_markup():
    assert ids.safe_display_name('<img src=x onerror="alert(1)">Ada') == "img src=x onerror=alert(1)Ada"


# --- only regular files travel ---------------------------------------------------------------------

@pytest.fixture
def submission(tmp_path):
    """A submission folder with a notebook, a subfolder, and every kind of entry that is not a file."""
    folder = tmp_path / "submitted" / "mallory" / "a2_pooling"
    (folder / "data").mkdir(parents=True)
    (folder / "a2_pooling.ipynb").write_text("{}")
    (folder / "data" / "numbers.txt").write_text("1 2 3")
    secret = tmp_path / "solutions.ipynb"
    secret.write_text("THE SOLUTIONS")
    (folder / "leak.txt").symlink_to(os.path.relpath(secret, folder))
    (folder / "notes").symlink_to("/etc/passwd")
    (folder / "etc").symlink_to("/etc")
    os.mkfifo(folder / "pipe")
    return folder


def test_copying_a_submission_takes_its_regular_files_and_names_the_rest(submission, tmp_path):
    copy = tmp_path / "autograded"
    skipped = files.copy_submission(submission, copy)
    assert sorted(str(p.relative_to(copy)) for p in copy.rglob("*")) == ["a2_pooling.ipynb", "data", "data/numbers.txt"]
    assert {entry.path: entry.why for entry in skipped} == {
        "etc": "a symbolic link to /etc", "leak.txt": f"a symbolic link to {os.readlink(submission / 'leak.txt')}",
        "notes": "a symbolic link to /etc/passwd", "pipe": "a FIFO"}
    assert "THE SOLUTIONS" not in "".join(p.read_text() for p in copy.rglob("*") if p.is_file())


def test_a_linked_submission_folder_or_a_file_of_another_owner_is_not_copied(submission, tmp_path):
    link = tmp_path / "linked"
    link.symlink_to(submission)
    with pytest.raises(NotADirectoryError, match="not copied"):
        files.copy_submission(link, tmp_path / "out")
    with pytest.raises(PermissionError, match="not owned"):
        files.copy_submission(submission, tmp_path / "out2", owner=os.getuid() + 12345)
    if os.geteuid() == 0:  # a hard link to a file of another user: its content is not the student's
        theirs = tmp_path / "theirs.txt"
        theirs.write_text("someone else's")
        os.chown(theirs, 65534, 65534)
        os.link(theirs, submission / "hard.txt")
        skipped = files.copy_submission(submission, tmp_path / "out3", owner=os.getuid())
        assert "hard.txt: a file of another user (uid 65534), not the student's" in [str(s) for s in skipped]
        assert not (tmp_path / "out3" / "hard.txt").exists()


def test_the_autograde_hook_removes_links_and_refuses_a_linked_notebook(submission, tmp_path, caplog):
    linked_notebook = submission.parent.parent / "eve" / "a2_pooling"
    linked_notebook.mkdir(parents=True)
    (linked_notebook / "a2_pooling.ipynb").symlink_to(tmp_path / "solutions.ipynb")

    class Log:
        def __init__(self):
            self.lines = []

        def warning(self, message, *args):
            self.lines.append(("warning", message % args))

        def error(self, message, *args):
            self.lines.append(("error", message % args))

    log = Log()
    removed = files.keep_only_regular_files(notebooks=[str(submission / "a2_pooling.ipynb")], log=log)
    assert sorted(entry.path for entry in removed) == ["etc", "leak.txt", "notes", "pipe"]
    assert sorted(path.name for path in submission.iterdir()) == ["a2_pooling.ipynb", "data"]
    assert all(level == "warning" for level, _ in log.lines) and len(log.lines) == 4
    files.keep_only_regular_files(notebooks=[str(linked_notebook / "a2_pooling.ipynb")], log=log)
    assert not (linked_notebook / "a2_pooling.ipynb").exists()
    assert any(level == "error" and "Refused the notebook" in line and "not graded" in line for level, line in log.lines)


# --- nothing active left -------------------------------------------------------------------------

SVG_WITH_SCRIPT = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert("XSS svg")</script><circle r="4"/></svg>'
PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                                     "0000000d4944415478da63f8cfc0f01f0005000201a2d1e1a40000000049454e44ae426082")).decode()


def payload_notebook() -> nbformat.NotebookNode:
    """A notebook carrying every kind of active content a submission can, each marked XSS."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"XSS": 1}}}
    markdown = nbformat.v4.new_markdown_cell(
        "Maths stays: $x^2 + y_1$\n\n<script>alert('XSS markdown script')</script>\n\n"
        "<img src=x onerror=\"alert('XSS markdown img')\">\n\n[click](javascript:alert('XSS link'))\n\n"
        "<iframe srcdoc=\"<script>alert('XSS srcdoc')</script>\"></iframe>\n\n"
        "<a href=\"data:text/html,<script>alert('XSS data link')</script>\">data</a>\n\n"
        "![plot](attachment:evil.svg) <object data=\"attachment:page.html\">XSS object</object>")
    markdown.attachments = {"evil.svg": {"image/svg+xml": base64.b64encode(SVG_WITH_SCRIPT.encode()).decode()},
                            "page.html": {"text/html": base64.b64encode(b"<script>alert('XSS attachment')</script>").decode()}}
    code = nbformat.v4.new_code_cell("plots()")
    code.outputs = [
        nbformat.v4.new_output("display_data", {"text/html": "<img src=x onerror=\"alert('XSS output')\"><b>bold</b>"}),
        nbformat.v4.new_output("display_data", {"application/javascript": "alert('XSS javascript')",
                                                "text/plain": "<IPython.core.display.Javascript object>"}),
        nbformat.v4.new_output("display_data", {"image/svg+xml": SVG_WITH_SCRIPT}),
        nbformat.v4.new_output("display_data", {"application/vnd.jupyter.widget-view+json": {"model_id": "XSS"},
                                                "text/plain": "IntSlider(value=3)"}),
        nbformat.v4.new_output("display_data", {"text/markdown": "<script>alert('XSS md output')</script>\n\n**md**"}),
        nbformat.v4.new_output("display_data", {"image/png": PNG, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("stream", name="stdout", text="<script>alert('XSS printed')</script>\n"),
    ]
    nb.cells = [markdown, code]
    return nb


def active_content(html_text: str) -> list[str]:
    """Everything in ``html_text`` a browser would run that carries a payload's XSS mark."""
    found = []
    for body in re.findall(r"<script\b[^>]*>(.*?)</script\s*>", html_text, re.I | re.S):
        if "XSS" in body:
            found.append(f"script: {body[:60]}")
    found += [m for m in re.findall(r"\son[a-z]+\s*=\s*[\"'][^\"']*XSS[^\"']*[\"']", html_text, re.I)]
    found += [m for m in re.findall(r"(?:href|src|data)\s*=\s*[\"']\s*(?:javascript:|data:text/html)[^\"']*", html_text, re.I)]
    found += [m for m in re.findall(r"<(?:iframe|object|embed|form|base|meta http-equiv=.refresh)[^>]*>", html_text, re.I)
              if "Content-Security-Policy" not in m]
    return found


def test_a_notebook_with_every_kind_of_payload_keeps_only_inert_content():
    safe, removed = html.sanitize_notebook(payload_notebook())
    text = nbformat.writes(safe)
    markdown, code = safe.cells
    assert "widgets" not in safe.metadata
    assert "$x^2 + y_1$" in markdown.source  # maths still renders
    assert not active_content(markdown.source) and not re.search(r"href=[\"']?javascript", markdown.source)
    assert list(markdown.attachments) == []  # an SVG attachment with a script, an HTML page: gone
    kinds = [sorted(output.get("data", {})) for output in code.outputs]
    assert kinds == [["text/html"], ["text/plain"], ["text/html"], ["text/plain"], ["text/html"],
                     ["image/png", "text/plain"], []]
    assert "<b>bold</b>" in code.outputs[0].data["text/html"] and "onerror" not in code.outputs[0].data["text/html"]
    assert "removed: the grader shows no script" in code.outputs[1].data["text/plain"]
    assert code.outputs[2].data["text/html"].startswith('<img src="data:image/svg+xml;base64,')
    assert "<strong>md</strong>" in code.outputs[4].data["text/html"] and "script" not in code.outputs[4].data["text/html"]
    assert code.outputs[5].data["image/png"] == PNG
    assert len(removed) >= 5 and any("application/javascript" in line for line in removed)
    assert "alert('XSS javascript')" not in text


def test_the_feedback_exporter_renders_the_sanitized_notebook_with_nothing_active():
    from nbconvert import HTMLExporter

    safe, _ = html.sanitize_notebook(payload_notebook())
    exporter = HTMLExporter(template_name="classic")
    exporter.sanitize_html = True
    rendered, _ = exporter.from_notebook_node(safe)
    assert not active_content(rendered), active_content(rendered)
    assert f"data:image/png;base64,{PNG}" in rendered  # the plot shows


def test_a_page_gets_a_policy_that_allows_only_its_own_scripts():
    template = ('<html><head><title>t</title><script>var id = "3";</script></head>'
                '<body><span onclick="toggle(true);">x</span></body></html>')
    policy = pages.policy_for_template(template)
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert pages._hash('var id = "3";') in policy and pages._hash("toggle(true);") in policy
    assert "'unsafe-hashes'" in policy and "default-src 'none'" in policy and "base-uri 'none'" in policy
    page = pages.with_policy(template, policy)
    assert page.index('http-equiv="Content-Security-Policy"') < page.index("<title>")
    assert pages.with_policy(page, policy) == page  # once


# --- never a formula ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, shown", [
    ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'), ("+cmd", "'+cmd"),
    ("-2+3", "'-2+3"), ("@SUM(A1:A9)", "'@SUM(A1:A9)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-0.5", "-0.5"), ("10", "10"), ("1e-3", "1e-3"), ("Lovelace, Ada", "Lovelace, Ada"), (None, ""), (7.5, "7.5")])
def test_a_cell_a_spreadsheet_would_run_is_shown_as_text_and_numbers_stay_numbers(cell, shown):
    assert spreadsheet.spreadsheet_cell(cell) == shown


ESCAPES = "\x1b[2K\x1b[1A\rerased\x1b]0;title\x07\x1b]52;c;ZWNobyBwd25lZAo=\x07\nforged line\u202e"


def test_text_from_a_submission_reaches_the_terminal_on_one_line_with_no_escape_sequence():
    shown = terminal.one_line(ESCAPES)
    assert shown.isprintable() and "\x1b" not in shown and "\n" not in shown
    assert "\\x1b[2K" in shown and "\\n" in shown and "\\u202e" in shown  # escaped, not dropped: visible
    assert terminal.one_line("Zoë 山田, a 2x2 window") == "Zoë 山田, a 2x2 window"


def test_an_autograde_line_shows_a_submissions_note_or_reason_escaped():
    from course_utils.instructor.autograde import StudentResult

    graded = StudentResult("a2_pooling", "eve", "graded", 1.0, 0.0, 10.0, notes=[f"relu was stopped: {ESCAPES}"])
    failed = StudentResult("a2_pooling", "eve", "failed", 1.0, reason=ESCAPES)
    for line in (graded.line(), failed.line(with_assignment=True)):
        assert line.isprintable() and "\x1b" not in line, repr(line)
