"""Who handed in a file, and which notebook it is, read from the name a learning platform gave it.

The names each platform's "download all submissions" produces (one example each):

Canvas      ``lovelaceada_1001_5001_a1_convolution.ipynb``
            <sortable name run together>_[LATE_]<user id>_<submission id>_<the student's file name>;
            a file handed in again gets ``-1``, ``-2`` before the extension
            (``lovelaceada_LATE_1001_5003_a1_convolution-2.ipynb``)
Moodle      ``Ada Lovelace_20001_assignsubmission_file_a1_convolution.ipynb``, or the same prefix as
            a folder: ``Ada Lovelace_20001_assignsubmission_file_/a1_convolution.ipynb``
            <full name>_<participant id (per assignment)>_assignsubmission_file_<file name>
Blackboard  ``A1 Convolution_alovelace_attempt_2024-03-01-16-59-02_a1_convolution.ipynb``
            <assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file name>, and per attempt a
            receipt ``A1 Convolution_alovelace_attempt_2024-03-01-16-59-02.txt``
by hand     ``ada_lovelace_a1_convolution.ipynb`` (<student id>_<notebook>, underscores allowed in
            the id), or ``ada_lovelace_12345_submission/a1_convolution.ipynb`` (a folder
            <student id>_<number>[_<anything>]), or a folder named after a roster student

The student's own file name may differ from the released notebook's in case, spaces for
underscores, a resubmission suffix (``-2``, `` (2)``) and a prefix (``kim_A1_Convolution.ipynb``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

from course_utils.instructor.lms.roster import Roster

ATTEMPT_TIME = r"\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d"
BLACKBOARD = re.compile(rf"(?P<assignment>.+)_(?P<user>[^_]+)_attempt_(?P<time>{ATTEMPT_TIME})(?:_|$|(?=\.))")
MOODLE = re.compile(r"(?P<name>[^_]+)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_|$)")
CANVAS = re.compile(r"(?P<name>[^_]+)_(?:(?P<late>LATE)_)?(?P<user_id>\d+)_(?P<submission_id>\d+)(?:_|$)")
NUMBERED_FOLDER = re.compile(r"(?P<student>.+?)_\d+(?:_.*)?")  # ada_lovelace_12345_submission
RESUBMISSION = re.compile(r"(?:-(?P<dash>\d+)| \((?P<paren>\d+)\))$")


@dataclass(frozen=True)
class Owner:
    """Whose file it is, as far as its name says."""

    platform: str  # "Canvas", "Moodle", "Blackboard", or "name" (an id written by hand)
    key: str  # Canvas user id, Moodle participant id, Blackboard username, or the id as written
    name: str = ""  # Canvas's run-together sortable name, Moodle's full name
    late: bool = False  # Canvas's LATE marker
    attempt: datetime | None = None  # Blackboard's attempt time, in the platform's time zone
    other_keys: tuple[str, ...] = ()  # Blackboard: usernames with "_" the same name could hold
    where: str = "file name"  # or "folder <name>"

    @property
    def identity(self) -> tuple[str, str]:
        """What tells two people apart on this platform."""
        return self.platform, self.key.lower()


@dataclass(frozen=True)
class FileFacts:
    """What one extracted file is."""

    path: PurePosixPath  # relative to the extracted folder
    kind: str  # notebook, other notebook, not a notebook, receipt, checkpoint, macOS metadata, archive
    notebook: str | None = None  # the released notebook it is (relative path), for kind "notebook"
    resubmission: int = 0  # Canvas's -1, -2 (0: none)
    owner: Owner | None = None
    ambiguous: list[str] = field(default_factory=list)  # roster rows a folder name could mean


def read_prefix(text: str, where: str = "file name") -> tuple[Owner, str] | None:
    """The platform's prefix at the start of ``text`` and what follows it (the student's own
    file name), or None."""
    if match := BLACKBOARD.match(text):
        segments = match["assignment"].split("_")
        longer = tuple("_".join(segments[i:] + [match["user"]]) for i in range(len(segments) - 1, 0, -1))
        owner = Owner("Blackboard", match["user"], attempt=datetime.strptime(match["time"], "%Y-%m-%d-%H-%M-%S"),
                      other_keys=longer, where=where)
    elif match := MOODLE.match(text):
        owner = Owner("Moodle", match["participant"], name=match["name"], where=where)
    elif match := CANVAS.match(text):
        owner = Owner("Canvas", match["user_id"], name=match["name"], late=bool(match["late"]), where=where)
    else:
        return None
    return owner, text[match.end():]


def _fold(text: str) -> str:
    """Lower case, spaces and hyphens as underscores, one character for one (so indices match)."""
    return "".join("_" if ch in " -" else (ch.lower() if len(ch.lower()) == 1 else ch) for ch in text)


def match_notebook(file_name: str, notebooks: list[str]) -> tuple[str, str, int] | None:
    """(released notebook, what comes before its name, resubmission number) if ``file_name`` is
    one of ``notebooks`` (``kim_A1_Convolution-2.ipynb`` -> ("a1_convolution.ipynb", "kim", 2))."""
    stem, dot, extension = file_name.rpartition(".")
    if not dot or extension != "ipynb":
        return None
    resubmission = 0
    if match := RESUBMISSION.search(stem):
        resubmission = int(match["dash"] or match["paren"])
        stem = stem[:match.start()]
    folded = _fold(stem)
    for notebook in sorted(notebooks, key=len, reverse=True):
        name = _fold(PurePosixPath(notebook).stem)
        if folded == name:
            return notebook, "", resubmission
        if folded.endswith("_" + name):
            return notebook, stem[:len(stem) - len(name) - 1], resubmission
    return None


def _kind(path: PurePosixPath, archive_folders: set[PurePosixPath]) -> str | None:
    if "__MACOSX" in path.parts or path.name.startswith("._") or path.name == ".DS_Store":
        return "macOS metadata"
    if ".ipynb_checkpoints" in path.parts:
        return "checkpoint"
    if is_archive(path.name) and path.parent / archive_stem(path.name) in archive_folders:
        return "archive"
    return None


ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")


def is_archive(file_name: str) -> bool:
    return file_name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_stem(file_name: str) -> str:
    """The folder an archive is unpacked into: ``subs.zip`` -> ``subs``, ``subs.tar.gz`` -> ``subs``."""
    for suffix in ARCHIVE_SUFFIXES:
        if file_name.lower().endswith(suffix):
            return file_name[:-len(suffix)]
    return file_name


def describe(path: PurePosixPath, notebooks: list[str], archive_folders: set[PurePosixPath],
             roster: Roster | None = None) -> FileFacts:
    """What the file at ``path`` (relative to the extracted folder) is and whose.

    ``archive_folders``: the folders archives were unpacked into. The owner is looked for,
    first to last: a platform's prefix on a folder above the file (the outermost one: the name
    the platform gave, which a student cannot choose -- an archive a student handed in is
    unpacked into a folder named as the platform named the archive, and everything in it is that
    student's, whatever names the student wrote inside, with the platform's LATE mark and attempt
    time), a platform's prefix on the file name, an id before the notebook's name, the notebook's
    own folder named ``<id>_<number>...`` or after a roster student (not an archive's folder).
    """
    kind = _kind(path, archive_folders)
    if kind:
        return FileFacts(path, kind)
    above = [PurePosixPath(*path.parts[:i]) for i in range(1, len(path.parts))]  # outermost first

    owner, own_name = None, path.name
    for folder in above:
        where = f"archive {folder.name}" if folder in archive_folders else f"folder {folder.name}"
        if found := read_prefix(folder.name, where=where):
            owner = found[0]
            break
    if found := read_prefix(path.name):
        if owner is None:
            owner = found[0]
        own_name = found[1]  # inside a platform-named folder: the student's own name for the file
    folders = [folder for folder in reversed(above) if folder not in archive_folders]

    matched = match_notebook(own_name, notebooks)
    if matched is None:
        if owner and owner.platform == "Blackboard" and own_name == ".txt":
            return FileFacts(path, "receipt", owner=owner)
        return FileFacts(path, "other notebook" if path.suffix == ".ipynb" else "not a notebook", owner=owner)
    notebook, prefix, resubmission = matched

    ambiguous: list[str] = []
    if owner is None and prefix:
        owner = Owner("name", prefix)
    for folder in folders[:1] if owner is None else ():  # only the folder the notebook is in
        if roster is not None:
            entries = roster.with_key(folder.name) or roster.with_name(folder.name)
            if len(entries) == 1:
                owner = Owner("name", entries[0].student_id, where=f"folder {folder.name}")
                break
            if entries:
                ambiguous = [entry.described() for entry in entries]
                break
        if match := NUMBERED_FOLDER.fullmatch(folder.name):
            owner = Owner("name", match["student"], where=f"folder {folder.name}")
            break
    return FileFacts(path, "notebook", notebook, resubmission, owner, ambiguous)
