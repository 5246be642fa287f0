"""Every page that shows a submission, sanitized, with a Content-Security-Policy as a second wall.

Two views show a student's notebook in a browser that is logged in: Formgrader's submission page
(Manual Grading, in the instructor's server) and the feedback HTML file (opened by the student,
and by the instructor). Both are rendered by nbconvert from the autograded notebook, which the
course's pipeline has already sanitized (:mod:`~course_utils.instructor.untrusted.html`); here,
for notebooks graded before that or by another pipeline, and in case a sanitizer ever misses:

* **Formgrader** (a Jupyter server extension, enabled in the instructor's configuration): the
  exporter Formgrader renders submissions with is wrapped so that the notebook is sanitized first,
  and the page starts with a ``<meta http-equiv="Content-Security-Policy">`` that allows exactly
  the page's own scripts -- Formgrader's files from ``'self'`` and the inline scripts of its
  template, found by rendering the same page with no cells and hashing them -- so that a script
  that reaches the page from a notebook does not run.
* **Feedback** (``c.GenerateFeedback.post_convert_hook``): each feedback file gets a policy that
  lets no script run but MathJax's.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import re
from pathlib import Path

from course_utils.instructor.untrusted.html import sanitize_notebook

#: Where nbconvert's templates load MathJax from (maths in markdown renders where it is reachable).
MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/"
COMMON_POLICY = ("default-src 'none'; img-src 'self' data:; font-src 'self' data: {mathjax}; "
                 "style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-src 'none'; "
                 "object-src 'none'; frame-ancestors 'self'")
#: The feedback file: MathJax, nothing else ('unsafe-eval': MathJax reads its configuration so).
FEEDBACK_POLICY = (COMMON_POLICY + "; script-src {mathjax} 'unsafe-eval'; connect-src 'none'").format(mathjax=MATHJAX)

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_EXECUTABLE = re.compile(r"""\btype\s*=\s*["']?(?:text/javascript|application/javascript|module)\b""", re.IGNORECASE)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def inline_script_hashes(html: str) -> tuple[list[str], list[str]]:
    """``(hashes of inline scripts, hashes of inline event handlers)`` in ``html``, as a policy's
    source expressions."""
    scripts = []
    for attributes, body in _SCRIPT.findall(html):
        if "src=" in attributes.lower():
            continue
        if "type=" in attributes.lower() and not _EXECUTABLE.search(attributes):
            continue  # a data block (MathJax's configuration, a widget's state): never run
        scripts.append(_hash(body))
    handlers = [_hash(a or b) for a, b in _HANDLER.findall(html)]
    return sorted(set(scripts)), sorted(set(handlers))


def policy_for_template(template_html: str) -> str:
    """The policy of a page whose own scripts are those of ``template_html`` (the page rendered
    with no cells): its files from 'self', its inline scripts and handlers by hash."""
    scripts, handlers = inline_script_hashes(template_html)
    sources = ["'self'", MATHJAX, "'unsafe-eval'", *scripts]  # Formgrader's underscore templates need eval
    if handlers:
        sources += ["'unsafe-hashes'", *handlers]
    return COMMON_POLICY.format(mathjax=MATHJAX) + f"; script-src {' '.join(sources)}; connect-src 'self'"


META = '<meta http-equiv="Content-Security-Policy" content="{policy}">'


def with_policy(html: str, policy: str) -> str:
    """``html`` with ``policy`` as the first element of its ``<head>`` (before anything that
    could run); unchanged if it already starts so."""
    match = re.search(r"<head[^>]*>", html, re.IGNORECASE)
    at = match.end() if match else 0
    if html[at:].lstrip().startswith('<meta http-equiv="Content-Security-Policy"'):
        return html
    return html[:at] + "\n" + META.format(policy=policy) + html[at:]


class SanitizedExporter:
    """Formgrader's exporter, rendering every submission sanitized and under a policy."""

    def __init__(self, exporter):
        self.exporter = exporter

    def __getattr__(self, name):
        return getattr(self.exporter, name)

    def from_filename(self, filename, resources=None, **kwargs):
        import nbformat

        notebook = nbformat.read(filename, as_version=4)
        safe, _ = sanitize_notebook(notebook)
        html, out = self.exporter.from_notebook_node(safe, resources=copy.deepcopy(resources), **kwargs)
        template = nbformat.v4.new_notebook(metadata=copy.deepcopy(safe.metadata))
        template_html, _ = self.exporter.from_notebook_node(template, resources=copy.deepcopy(resources), **kwargs)
        return with_policy(html, policy_for_template(template_html)), out


def _install(serverapp) -> None:
    settings = serverapp.web_app.settings
    exporter = settings.get("nbgrader_exporter")
    if exporter is not None and not isinstance(exporter, SanitizedExporter):
        settings["nbgrader_exporter"] = SanitizedExporter(exporter)
        serverapp.log.info("course_utils: Formgrader shows submissions sanitized, under a Content-Security-Policy")


def _jupyter_server_extension_points():
    return [{"module": "course_utils.instructor.untrusted.pages"}]


def _load_jupyter_server_extension(serverapp):
    """Wrap Formgrader's exporter once every extension has loaded (Formgrader sets it when it loads)."""
    from tornado.ioloop import IOLoop

    _install(serverapp)
    IOLoop.current().add_callback(_install, serverapp)


def protect_feedback_files(assignment=None, student=None, notebooks=(), log=None) -> list[Path]:
    """nbgrader's ``post_convert_hook`` for ``GenerateFeedback``: give each feedback file of this
    student and assignment the feedback policy. The feedback files sit where the course's
    configuration puts them, ``feedback/<student>/<assignment>/`` beside ``autograded/``."""
    done = []
    for notebook in notebooks:
        path = Path(os.path.abspath(notebook))  # <course>/autograded/<student>/<assignment>/<name>.ipynb
        course, student_id, assignment_id = path.parents[3], path.parents[1].name, path.parents[0].name
        page = course / "feedback" / student_id / assignment_id / (path.stem + ".html")
        if page.is_file() and not page.is_symlink():
            page.write_text(with_policy(page.read_text(encoding="utf-8"), FEEDBACK_POLICY), encoding="utf-8")
            done.append(page)
    return done
