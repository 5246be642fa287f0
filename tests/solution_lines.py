"""The lines of ``solutions/`` a student must never see: what the site and the student kit are
searched for.

A secret line is a line of a solution (between nbgrader's solution markers, or a whole solution
cell without them) or of a hidden-test block, in any notebook of ``solutions/``, that appears
nowhere a student is meant to read anyway, not even inside a longer line: not in
``assignments/`` (the released versions keep the signatures, docstrings and prose) and not in
the lessons. Lines are compared with their
whitespace collapsed; a line shorter than ``MIN_LENGTH`` characters (``else:``, ``return out``)
says nothing on its own and is left out. The markers themselves are searched for separately.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_LENGTH = 12
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
BLOCKS = {"### BEGIN SOLUTION": "### END SOLUTION", "### BEGIN HIDDEN TESTS": "### END HIDDEN TESTS"}


def normalise(line: str) -> str:
    return " ".join(line.split())


def cell_sources(path: Path) -> list[tuple[dict, str]]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [(cell.get("metadata", {}), "".join(cell["source"]) if isinstance(cell["source"], list)
             else cell["source"]) for cell in notebook["cells"]]


def hidden_lines(source: str, metadata: dict) -> list[str]:
    """The lines inside solution and hidden-test blocks (a solution cell without markers: all)."""
    lines, inside = [], None
    has_markers = any(marker in source for marker in BLOCKS)
    if metadata.get("nbgrader", {}).get("solution") and not has_markers:
        return source.splitlines()
    for line in source.splitlines():
        stripped = line.strip()
        if inside is None and stripped in BLOCKS:
            inside = BLOCKS[stripped]
        elif inside is not None and stripped == inside:
            inside = None
        elif inside is not None:
            lines.append(line)
    return lines


def public_text(paths=None) -> str:
    """Everything the released assignments and the lessons say (or the files ``paths``), each
    line with its whitespace collapsed, one line after another."""
    if paths is None:
        paths = [*(ROOT / "assignments").rglob("*.ipynb"), *(ROOT / "notebooks").glob("*.ipynb")]
    lines = []
    for path in paths:
        if path.suffix == ".ipynb":
            lines += [normalise(line) for _, source in cell_sources(path) for line in source.splitlines()]
        else:
            lines += [normalise(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return "\n".join(lines)


def secret_lines(public_paths=None) -> set[str]:
    """The solution and hidden-test lines of ``solutions/`` that the public files (default: the
    released assignments and the lessons) show nowhere, not even inside a longer line."""
    public = public_text(public_paths)
    secrets = set()
    for path in sorted((ROOT / "solutions").rglob("*.ipynb")):
        for metadata, source in cell_sources(path):
            for line in hidden_lines(source, metadata):
                line = normalise(line)
                if len(line) >= MIN_LENGTH and line not in public:
                    secrets.add(line)
    return secrets


def page_text(html_text: str) -> str:
    """What a page says, as a reader (or a search) sees it: tags removed, entities decoded,
    whitespace collapsed (a highlighted code line is split into many ``<span>``)."""
    import html

    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html_text, flags=re.S | re.I)
    return normalise(html.unescape(re.sub(r"<[^>]+>", "", text)))
