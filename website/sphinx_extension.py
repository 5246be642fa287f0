"""The website's Sphinx extension: the module tables of the Layout page.

``course-modules`` lists every module of a package and of its sub-packages (rooms), each with
the first paragraph of its own docstring, read when the site is built -- so the Layout page
always lists what the code holds::

    ```{course-modules} course_utils.instructor
    ```
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


def summary(module) -> str:
    """The first paragraph of ``module``'s docstring, on one line, as Markdown."""
    text = (module.__doc__ or "").strip().split("\n\n")[0]
    text = " ".join(text.split())
    text = ROLE.sub(lambda match: f"`{match.group(1).rsplit('.', 1)[-1]}`", text)
    text = text.replace("``", "`").replace("|", "\\|")
    return text[:-1] + "." if text.endswith(":") else text


def package_blocks(package_name: str) -> list[str]:
    """Markdown lines for ``package_name`` and each of its sub-packages (rooms): the folder with
    its ``__init__`` docstring's first paragraph, then a table of its modules, each with its own
    docstring's first paragraph; in the order of the folder tree."""
    package = importlib.import_module(package_name)
    modules = sorted(pkgutil.iter_modules(package.__path__), key=lambda info: (info.ispkg, info.name))
    lines = [f"**`{package_name.replace('.', '/')}/`** {summary(package)}", ""]
    files = [info for info in modules if not info.ispkg]
    if files:
        lines += ["| module | what it holds |", "|---|---|"]
        lines += [f"| `{info.name}.py` | {summary(importlib.import_module(f'{package_name}.{info.name}'))} |"
                  for info in files]
        lines.append("")
    for info in modules:
        if info.ispkg:
            lines += package_blocks(f"{package_name}.{info.name}")
    return lines


class CourseModules(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        lines = package_blocks(self.arguments[0])
        node = nodes.container(classes=["course-modules"])
        self.state.nested_parse(StringList(lines, source="course-modules"), self.content_offset, node)
        return [node]


def offline_scripts(app, pagename, templatename, context, doctree):
    """Each script once, and none of thebe's: Jupyter Book loads sphinx-thebe (live code from
    Binder, never used here), whose inline script sits in the page twice and declares a
    constant twice -- a console error -- and which would fetch thebe from a CDN."""
    kept, seen = [], set()
    for script in context.get("script_files", []):
        key = (script.filename, script.attributes.get("body", ""))
        if "thebe" in str(key).lower() or key in seen:
            continue
        seen.add(key)
        kept.append(script)
    context["script_files"] = kept


def drop_thebe_config(app, doctree, docname):
    """The thebe configuration sphinx-thebe writes into every page (a Binder repository)."""
    for node in list(doctree.findall(nodes.raw)):
        if "x-thebe-config" in node.astext() or "kernelName =" in node.astext():
            node.parent.remove(node)


def setup(app):
    app.add_directive("course-modules", CourseModules)
    app.connect("html-page-context", offline_scripts)
    app.connect("doctree-resolved", drop_thebe_config, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
