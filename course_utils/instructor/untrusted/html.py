"""A student's notebook made safe to show: no script from a submission runs in any view of it.

A submission can carry active content in many places: an output that is HTML with ``<script>``
or ``<img onerror>``, JavaScript (``display(Javascript(...))``), SVG with a script, a widget's
saved state, an ``<iframe srcdoc>``, a ``javascript:`` or ``data:text/html`` link, a markdown
cell's raw HTML, an attachment. Formgrader, the feedback files and JupyterLab show these to
the instructor and the student, in their browser, logged in. :func:`sanitize_notebook` rewrites
a notebook so that every view of it is inert, whatever renders it:

* markdown cells: rendered to HTML, cleaned by :func:`clean_html`, kept as that HTML (markdown
  shows HTML as is); maths (``$...$``) is text and still renders;
* outputs: ``text/html`` and ``text/markdown`` cleaned the same way; ``image/svg+xml`` shown as
  an ``<img>`` of it (an SVG loaded as an image runs no script); ``application/javascript``,
  widget views and any type not known to be inert removed (a line says what was removed);
  ``image/png``/``jpeg``/``gif`` and plain text kept as they are;
* attachments: a markdown cell's images embedded in its HTML as ``data:image/...`` URLs (an SVG
  shown as an image), anything else removed; the notebook's widget state removed.

:func:`clean_html` is `nh3 <https://nh3.readthedocs.io>`_ (the maintained Rust sanitizer, ammonia)
with an allow-list: no ``<script>``, ``<style>``, ``<iframe>``, ``<object>``, ``<embed>``,
``<form>``, ``<base>``, ``<meta>``, no event-handler attribute, no ``javascript:`` URL, images
only from ``data:image/...``, and inline styles reduced to layout and colour properties.
"""

from __future__ import annotations

import base64
import copy
import re

import nh3

#: Output types that are inert as they are (shown as text or as an image).
INERT_OUTPUTS = frozenset({"text/plain", "image/png", "image/jpeg", "image/gif", "text/latex"})
#: Output types this module cleans.
CLEANED_OUTPUTS = frozenset({"text/html", "text/markdown", "image/svg+xml"})
IMAGE_ATTACHMENTS = frozenset({"image/png", "image/jpeg", "image/gif"})

TAGS = (nh3.ALLOWED_TAGS | {"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "img",
                            "pre", "code", "span", "div", "figure", "figcaption", "details", "summary"}
        ) - {"map", "area"}
ATTRIBUTES = {
    "*": {"class", "title", "lang", "dir", "style", "align", "aria-label", "aria-hidden", "role"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
    "code": {"class"},
}
STYLE_PROPERTIES = {
    "color", "background-color", "text-align", "vertical-align", "font-weight", "font-style",
    "font-family", "font-size", "width", "height", "max-width", "max-height", "margin", "padding",
    "border", "border-collapse", "white-space", "display",
}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*$", re.IGNORECASE)
_SAFE_LINK = re.compile(r"^(https?:|mailto:|#|/|\./|[^:]*$)", re.IGNORECASE)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    value_stripped = value.strip()
    if tag == "img" and attribute == "src":
        return value_stripped if _DATA_IMAGE.match(value_stripped) else None
    if attribute == "href":
        return value_stripped if _SAFE_LINK.match(value_stripped) else None
    if attribute == "style" and ("url(" in value.lower() or "expression(" in value.lower()):
        return None
    return value


def clean_html(text: str) -> str:
    """``text`` (an HTML fragment from a submission) with everything active removed."""
    return nh3.clean(
        text, tags=TAGS, clean_content_tags={"script", "style", "iframe", "object", "embed", "template",
                                             "noscript", "svg", "math", "form", "textarea", "select"},
        attributes=ATTRIBUTES, attribute_filter=_attribute_filter, url_schemes={"http", "https", "mailto", "data"},
        filter_style_properties=STYLE_PROPERTIES, link_rel="noopener noreferrer nofollow", strip_comments=True)


def markdown_to_html(source: str, attachments: dict | None = None) -> str:
    """Markdown as nbconvert renders a notebook's markdown cell, its attachments embedded as
    ``data:`` URLs (an image's is kept by :func:`clean_html`, anything else's is not)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, InvalidNotebook, MarkdownWithMath

    def render(text):
        return MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=attachments or {})).render(text)

    try:
        return render(source)
    except InvalidNotebook:  # an attachment the cell names but does not carry
        return render(source.replace("attachment:", "missing-attachment:"))


def svg_as_image(svg: str) -> str:
    """An SVG shown as an ``<img>`` of it: a browser runs no script in an image."""
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{encoded}" alt="a vector figure from the notebook">'


def _normalised(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def removed_note(kinds: list[str]) -> str:
    return f"[{', '.join(sorted(set(kinds)))} removed: the grader shows no script from a submission]"


def sanitize_notebook(notebook) -> tuple[object, list[str]]:
    """A copy of ``notebook`` (an nbformat ``NotebookNode`` or its dict) that no view can run
    anything of, and what was removed, in words (``["cell 4: an output of type
    application/javascript"]``)."""
    notebook = copy.deepcopy(notebook)
    removed: list[str] = []
    metadata = notebook.get("metadata", {})
    if "widgets" in metadata:
        metadata.pop("widgets")
        removed.append("the notebook's saved widget state")
    for index, cell in enumerate(notebook.get("cells", [])):
        where = f"cell {index + 1}"
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            rendered = markdown_to_html(source, cell.get("attachments"))
            cleaned = clean_html(rendered)
            if _normalised(cleaned) != _normalised(rendered):
                removed.append(f"{where}: active HTML in a markdown cell")
            cell["source"] = cleaned  # what was checked is what every renderer gets
        if cell.get("cell_type") == "raw":
            source = cell.get("source", "")
            cell["source"] = clean_html("".join(source) if isinstance(source, list) else source)
        attachments = cell.get("attachments") or {}
        for name in list(attachments):  # a markdown cell's images are embedded in its HTML now
            kinds = set(attachments.pop(name))
            if not kinds <= IMAGE_ATTACHMENTS:
                removed.append(f"{where}: the attachment {name!r} ({', '.join(sorted(kinds))})")
        outputs = []
        for output in cell.get("outputs", []) or []:
            kept = _sanitize_output(output, where, removed)
            if kept is not None:
                outputs.append(kept)
        if cell.get("cell_type") == "code":
            cell["outputs"] = outputs
    return notebook, removed


def _sanitize_output(output, where: str, removed: list[str]):
    kind = output.get("output_type")
    if kind in ("stream", "error"):
        return output  # text, shown escaped
    data = output.get("data")
    if not isinstance(data, dict):
        return output
    dropped = []
    for mime in list(data):
        value = data[mime]
        text = "".join(value) if isinstance(value, list) else value
        if mime in INERT_OUTPUTS:
            continue
        if mime == "text/html":
            data[mime] = clean_html(text)
        elif mime == "text/markdown":
            data.pop(mime)
            data["text/html"] = clean_html(markdown_to_html(text))
        elif mime == "image/svg+xml":
            data.pop(mime)
            data["text/html"] = svg_as_image(text)
        else:
            data.pop(mime)
            dropped.append(mime)
    if dropped:
        removed.append(f"{where}: an output of type {', '.join(dropped)}")
        note = removed_note(dropped)
        data["text/plain"] = (data.get("text/plain", "") and "".join(data["text/plain"]) + "\n") + note
    return output
