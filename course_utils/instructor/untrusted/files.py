"""Only regular files travel: what a student hands in is copied without following a single link.

A submission folder can hold a symbolic link to the instructor's solutions (``leak.txt ->
~instructor/course/solutions/...``), to ``/etc/passwd``, a FIFO that blocks a reader, a device,
or a hard link to a file of someone else. Copied the usual way (``shutil.copytree``), each link
is followed as the *instructor*, and the target's content lands in ``submitted/``,
``autograded/`` and the student's feedback. Here every entry is opened without following links
(``O_NOFOLLOW``, folders by descriptor), checked once it is open (``fstat``: a regular file, of the
expected owner), and only then copied; everything else is listed as skipped, with why.

* :func:`copy_submission`: a submission folder -> a new folder, regular files and folders only;
* :func:`non_regular_entries`: what in a folder is not a regular file or folder;
* :func:`read_regular_file`: one file under a folder, each step a plain name, no link followed,
  size-capped (what the class report reads);
* :func:`keep_only_regular_files`: nbgrader's ``pre_convert_hook`` for ``Autograde`` and
  ``GenerateFeedback`` (``nbgrader_config.py``): before nbgrader copies a submission's other files,
  every link, FIFO or device in it is removed and said, and a notebook that is a link is
  refused for that student.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from course_utils.instructor.untrusted.ids import is_plain_name
from course_utils.instructor.untrusted.terminal import one_line

CHUNK = 1 << 20
#: What :func:`keep_only_regular_files` removed in this process, per (student, assignment) folder
#: name: the grading steps that follow (``TrustedGrading``, the parallel autograde's worker) read
#: it with :func:`removed_from` and say it where the instructor reads the student's result.
REMOVED: dict[tuple[str, str], list] = {}


@dataclass(frozen=True)
class Skipped:
    """An entry that was not copied, and why (``"a symbolic link to /etc/passwd"``)."""

    path: str  # relative to the submission folder
    why: str

    def __str__(self) -> str:
        return f"{self.path}: {self.why}"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISREG, "a file")):
        if test(mode):
            return name
    return "not a regular file"


def _link_target(name: str, dir_fd: int) -> str:
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return "?"


def copy_submission(source: str | os.PathLike, destination: str | os.PathLike, *, owner: int | None = None,
                    max_bytes: int | None = None, ignore=lambda relative: False) -> list[Skipped]:
    """Copy the folder ``source`` to ``destination`` (created; must not exist): regular files and
    real folders only, never following a link, and, when ``owner`` (a uid) is given, only files
    owned by that user (a hard link to another user's file is skipped). ``max_bytes`` caps the
    total copied; ``ignore(relative path)`` leaves out what nbgrader's ignore patterns name.
    Returns what was skipped. ``source`` itself must be a real folder (``NotADirectoryError``
    if it is a link)."""
    skipped: list[Skipped] = []
    copied = [0]
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        top = os.open(os.fspath(source), flags)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise NotADirectoryError(f"{source} is not a folder but a link or a file: not copied") from error
        raise
    try:
        if owner is not None and os.fstat(top).st_uid != owner:
            raise PermissionError(f"{source} is not owned by uid {owner}: not copied")
        os.makedirs(destination, exist_ok=False)
        _copy_folder(top, Path(destination), "", owner, max_bytes, ignore, skipped, copied)
    finally:
        os.close(top)
    return skipped


def _copy_folder(folder_fd, destination: Path, prefix: str, owner, max_bytes, ignore, skipped, copied) -> None:
    for entry in sorted(os.scandir(folder_fd), key=lambda item: item.name):
        name, relative = entry.name, prefix + entry.name
        if ignore(relative):
            continue
        mode = os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            skipped.append(Skipped(relative, f"a symbolic link to {_link_target(name, folder_fd)}"))
            continue
        if stat.S_ISDIR(mode):
            try:
                child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder_fd)
            except OSError as error:  # swapped for a link since the look: skip it
                skipped.append(Skipped(relative, f"could not be opened as a folder ({error.strerror})"))
                continue
            try:
                (destination / name).mkdir()
                _copy_folder(child, destination / name, relative + "/", owner, max_bytes, ignore, skipped, copied)
            finally:
                os.close(child)
            continue
        if not stat.S_ISREG(mode):
            skipped.append(Skipped(relative, _kind(mode)))
            continue
        try:  # O_NONBLOCK: a FIFO swapped in after the look does not block the copy
            handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
        except OSError as error:
            skipped.append(Skipped(relative, f"could not be opened ({error.strerror})"))
            continue
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode):
                skipped.append(Skipped(relative, _kind(info.st_mode)))
                continue
            if owner is not None and info.st_uid != owner:
                skipped.append(Skipped(relative, f"a file of another user (uid {info.st_uid}), not the student's"))
                continue
            if max_bytes is not None and copied[0] + info.st_size > max_bytes:
                skipped.append(Skipped(relative, f"over the size limit of {max_bytes} bytes for a submission"))
                continue
            with open(destination / name, "wb") as out:
                while chunk := os.read(handle, CHUNK):
                    out.write(chunk)
                    copied[0] += len(chunk)
            os.utime(destination / name, ns=(info.st_atime_ns, info.st_mtime_ns))
        finally:
            os.close(handle)


class UnsafeFile(ValueError):
    """A file that is not read: a link on the way, not a regular file, or too large."""


def read_regular_file(base: str | os.PathLike, *parts: str, limit: int) -> bytes | None:
    """The bytes of ``base/part/part/...``, each part a plain name (never ``..`` or with ``/``),
    reached without following a link at any step below ``base``; ``None`` if it is not there.
    Raises :class:`UnsafeFile` naming the file if a step is a link, it is not a regular file, or
    it holds more than ``limit`` bytes."""
    where = os.path.join(os.fspath(base), *parts)
    if not all(is_plain_name(part) for part in parts):
        raise UnsafeFile(f"{where} is not a plain path under {base} (a name with '/' or '..')")
    try:
        folder = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    try:
        for depth, part in enumerate(parts[:-1]):
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
            except FileNotFoundError:
                return None
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeFile(f"{where} is not read: {os.path.join(os.fspath(base), *parts[:depth + 1])} "
                                     "is a link or not a folder (a submission's links are never followed)") from None
                raise
            os.close(folder)
            folder = inner
        try:
            handle = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        except FileNotFoundError:
            return None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise UnsafeFile(f"{where} is a link: a submission's links are never followed; remove it "
                                 "or hand in the file itself") from None
            raise
    finally:
        os.close(folder)
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{where} is not a regular file")
        if info.st_size > limit:
            raise UnsafeFile(f"{where} has {info.st_size:,} bytes, more than the {limit:,} read")
        return file.read(limit + 1)


def removed_from(student: str, assignment: str) -> list[Skipped]:
    """What :func:`keep_only_regular_files` removed from that student's submission (once)."""
    return REMOVED.pop((student, assignment), [])


def non_regular_entries(folder: str | os.PathLike) -> list[Skipped]:
    """Every entry under ``folder`` that is neither a regular file nor a real folder (links are
    not followed; a linked folder is listed, not entered)."""
    found = []
    root = os.fspath(folder)
    for current, folders, files in os.walk(root, followlinks=False):
        for name in [*folders, *files]:
            path = os.path.join(current, name)
            mode = os.lstat(path).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                why = _kind(mode) + (f" to {os.readlink(path)}" if stat.S_ISLNK(mode) else "")
                found.append(Skipped(os.path.relpath(path, root), why))
    return sorted(found, key=lambda entry: entry.path)


def keep_only_regular_files(assignment=None, student=None, notebooks=(), log=None) -> list[Skipped]:
    """nbgrader's ``pre_convert_hook`` (``c.Autograde.pre_convert_hook``,
    ``c.GenerateFeedback.pre_convert_hook``): in the folder of ``notebooks`` (one student's
    submission, before nbgrader copies its other files on), remove every symbolic link, FIFO,
    socket or device, saying which. A notebook that is itself a link is removed too: nbgrader
    then fails that one student with a missing notebook, and the log says why."""
    if log is None:
        from traitlets.log import get_logger

        log = get_logger()  # the running nbgrader application's log, as nbgrader's own steps use
    folders = {os.path.dirname(os.path.abspath(path)) for path in notebooks}
    removed: list[Skipped] = []
    for folder in sorted(folders):
        REMOVED[(os.path.basename(os.path.dirname(folder)), os.path.basename(folder))] = mine = []
        if os.path.islink(folder):
            log.error("Refused %s: the submission folder is a symbolic link", one_line(folder))
            continue
        for entry in non_regular_entries(folder):
            path = os.path.join(folder, entry.path)
            try:
                os.unlink(path)
            except OSError as error:
                log.error("Could not remove %s (%s): %s", one_line(path), one_line(entry.why), one_line(error))
                continue
            removed.append(entry)
            mine.append(entry)
            if entry.path.endswith(".ipynb"):
                log.error("Refused the notebook %s: it is %s, not a notebook the student wrote; "
                          "that student is not graded", one_line(path), one_line(entry.why))
            else:
                log.warning("Skipped %s: it is %s, not a file the student wrote", one_line(path), one_line(entry.why))
    return removed
