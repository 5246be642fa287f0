"""One student's archive never costs the class: ``nbgrader zip_collect`` with the course's plugins
on a download where some archives cannot be unpacked, placed or trusted. Everyone placeable is
placed, every file is on one row of the table with what happened, and the exit status says that
something needs the instructor.

=====================  ===========================================================================
in the download        what it is
=====================  ===========================================================================
ada_a1_...ipynb        an honest notebook (the control)
links.zip              a symbolic link to a folder, then a file "through" it, then bob's notebook
absolute.tar.gz        an absolute symbolic link (``passwd_link -> /etc/passwd``), cy's notebook
bomb.zip               a few hundred kB that expand past the cap (dee's notebook inside)
level1.zip             archives nested 20 deep, eve's notebook in the deepest
newline                a notebook whose file name holds a newline (fay's)
=====================  ===========================================================================
"""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
import tarfile
import zipfile

import pytest
from nbgrader_course import copy_course, course_env, submission

pytestmark = pytest.mark.slow

A1 = "a1_convolution"
CAP = 4 * 2**20  # the test course's cap on what one archive may expand to


def symlink_entry(bundle: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    bundle.writestr(info, target)


def nested(depth: int, inner: bytes, name: str) -> bytes:
    """A zip holding a zip holding ... (``depth`` levels), the deepest holding ``name``."""
    data, member = inner, name
    for level in range(depth, 0, -1):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr(member, data)
        data, member = buffer.getvalue(), f"level{level}.zip"
    return data


@pytest.fixture(scope="module")
def collected(released_course, tmp_path_factory):
    course = copy_course(released_course, tmp_path_factory.mktemp("failures") / "course")
    notebook = json.dumps(submission(course, A1, solved=False)).encode()
    archive = course / "downloaded" / A1 / "archive"
    archive.mkdir(parents=True)
    (archive / f"ada_{A1}.ipynb").write_bytes(notebook)
    with zipfile.ZipFile(archive / "links.zip", "w") as bundle:
        symlink_entry(bundle, "links/folder", "/etc")
        bundle.writestr("links/folder/planted.txt", "written through the link")
        bundle.writestr(f"links/bob_{A1}.ipynb", notebook)
    with tarfile.open(archive / "absolute.tar.gz", "w:gz") as bundle:
        link = tarfile.TarInfo("absolute/passwd_link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        bundle.addfile(link)
        info = tarfile.TarInfo(f"absolute/cy_{A1}.ipynb")
        info.size = len(notebook)
        bundle.addfile(info, io.BytesIO(notebook))
    with zipfile.ZipFile(archive / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"dee_{A1}.ipynb", notebook)
        bundle.writestr("zeros.bin", b"\0" * (CAP + 2**20))
    (archive / "level1.zip").write_bytes(nested(20, notebook, f"eve_{A1}.ipynb"))
    (archive / f"fay\n_{A1}.ipynb").write_bytes(notebook)
    result = subprocess.run([sys.executable, "-m", "nbgrader", "zip_collect", A1, f"--LmsExtractor.max_bytes={CAP}"],
                            cwd=course, env=course_env(), capture_output=True, text=True, timeout=600)
    table = result.stdout[result.stdout.index("file "):]
    return {"course": course, "result": result, "table": table,
            "rows": [line for line in table.splitlines()[2:] if line.strip()]}


def row(collected, start: str) -> str:
    found = [line for line in collected["rows"] if line.startswith(start)]
    assert len(found) == 1, (start, collected["table"])
    return found[0]


def test_the_run_ends_with_the_table_and_everyone_placeable_is_collected(collected):
    result, course = collected["result"], collected["course"]
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]  # needs the instructor
    assert sorted(path.name for path in (course / "submitted").iterdir()) == ["ada", "bob", "cy", "fay"]
    for student in ("ada", "bob", "cy"):
        assert (course / "submitted" / student / A1 / f"{A1}.ipynb").read_bytes().startswith(b"{")


def test_no_link_is_followed_or_made(collected):
    extracted = collected["course"] / "downloaded" / A1 / "extracted"
    assert not [path for path in extracted.rglob("*") if path.is_symlink()]
    assert not any("root:x:0:0" in path.read_text(errors="replace") for path in extracted.rglob("*") if path.is_file())
    assert row(collected, "links/links/folder ").endswith("left in its archive: a symbolic link")
    assert row(collected, "absolute/absolute/passwd_link").endswith("left in its archive: a symbolic link to /etc/passwd")
    assert "collected" in row(collected, "links/links/bob_a1_convolution.ipynb")  # the file after the link


def test_an_archive_past_the_cap_is_not_placed_and_never_written_whole(collected):
    assert "NOT PLACED: cannot unpack it: it expands past 4 MiB (the limit for one archive)" in row(collected, "bomb.zip")
    extracted = collected["course"] / "downloaded" / A1 / "extracted"
    assert not (extracted / "bomb").exists()  # nothing of it half-placed
    written = sum(path.stat().st_size for path in extracted.rglob("*") if path.is_file())
    assert written < CAP


def test_archives_nested_too_deep_are_named_not_silently_dropped(collected):
    line = row(collected, "level1/level2/level3/level4/level5/level6.zip")
    assert "NOT PLACED: cannot unpack it: archives nest deeper than 5 levels" in line
    assert "unpacked into level6/" not in collected["table"]


def test_a_file_name_with_a_newline_stays_on_one_row(collected):
    line = row(collected, "fay\\n_a1_convolution.ipynb")
    assert "collected" in line and "id 'fay\\n' written as 'fay'" in line, line
    assert not any(line.startswith("_a1_convolution.ipynb") for line in collected["rows"])


def test_every_row_is_one_line_of_the_three_columns(collected):
    header, rule = collected["table"].splitlines()[:2]
    assert header.split() == ["file", "student", "result"] and set(rule.replace(" ", "")) == {"-"}
    assert all("\n" not in line and "\r" not in line for line in collected["rows"])
