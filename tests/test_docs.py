"""The README is a front page, every guide is on the website, and every command they show runs.

A command is a ``make ...`` or ``python -m ...`` line of a shell block, or such an inline code
span, in README.md or a page of docs/. A ``make`` command must be one the Makefile can run
(``make -n`` with the same arguments succeeds: the target exists and its prerequisites can be
made); the student's commands (``make lab``, ``make start``, ``make validate``) must run in the
student kit too. A ``python -m`` command must name a module that exists.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GUIDES = sorted((ROOT / "docs").rglob("*.md"))
STUDENT_TARGETS = {"lab", "start", "validate", "venv", "clean-venv"}


def linked_pages(page: Path) -> set[Path]:
    """The Markdown pages ``page`` links to (relative links, anchors dropped)."""
    targets = re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text())
    return {(page.parent / target).resolve() for target in targets}


def test_the_readme_is_a_front_page():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; the long story belongs in docs/"
    text = "\n".join(lines)
    reached = linked_pages(ROOT / "README.md")
    reached |= {target for page in set(reached) if page.exists() for target in linked_pages(page)}
    unreached = [guide.relative_to(ROOT).as_posix() for guide in GUIDES if guide.resolve() not in reached]
    assert not unreached, f"guides neither README.md nor a page it links links to: {unreached}"
    for lesson in (ROOT / "notebooks").glob("*.ipynb"):
        assert f"](notebooks/{lesson.name})" in text, f"the lessons table misses {lesson.name}"


def toc_files(entries) -> set[str]:
    found = set()
    for entry in entries or []:
        if "file" in entry:
            found.add(entry["file"])
        for key in ("chapters", "sections", "parts"):
            found |= toc_files(entry.get(key))
    return found


def test_every_guide_is_in_the_websites_table_of_contents():
    toc = yaml.safe_load((ROOT / "website" / "_toc.yml").read_text())
    listed = toc_files(toc.get("parts")) | toc_files(toc.get("chapters"))
    missing = [guide.relative_to(ROOT).with_suffix("").as_posix() for guide in GUIDES
               if guide.relative_to(ROOT).with_suffix("").as_posix() not in listed]
    assert not missing, f"docs pages missing from website/_toc.yml (the site leaves them out): {missing}"
    assert all((ROOT / f"{name}.md").exists() for name in listed), "a TOC entry names no file"


def shown_commands(path: Path) -> list[str]:
    """The ``make`` and ``python -m`` commands a page shows (shell blocks and inline code)."""
    text = path.read_text()
    commands = []
    for block in re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            if re.match(r"(sudo )?(make|python -m) ", line):
                commands.append(line.removeprefix("sudo ").rstrip(" \\"))
    for span in re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S)):
        if re.match(r"(sudo )?(make|python -m) [a-z]", span):
            commands.append(span.removeprefix("sudo "))
    return commands


PAGES = [ROOT / "README.md", *GUIDES]
COMMANDS = sorted({(path.relative_to(ROOT).as_posix(), command) for path in PAGES
                   for command in shown_commands(path)})


def test_the_pages_show_commands():
    shown = {command for _, command in COMMANDS}
    assert {"make lab", "make test", "make site", "make student-kit"} <= shown


@pytest.mark.parametrize("page, command", COMMANDS, ids=[f"{p}: {c}" for p, c in COMMANDS])
def test_every_command_shown_exists(page, command):
    words = shlex.split(command)
    if words[0] == "python":
        module = words[2]
        assert importlib.util.find_spec(module) is not None, f"{page}: no module {module}"
        return
    dry = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, f"{page}: `{command}` does not run: {dry.stderr}"
    target = next((word for word in words[1:] if "=" not in word and not word.startswith("-")), None)
    if target in STUDENT_TARGETS:
        kit = subprocess.run(["make", "-n", "-I", "student_kit", "-f", "student_kit/Makefile", *words[1:]],
                             cwd=ROOT, capture_output=True, text=True)
        assert kit.returncode == 0, f"{page}: `{command}` does not run in the student kit: {kit.stderr}"
