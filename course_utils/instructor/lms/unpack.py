"""Unpack what a learning platform's "download all" gives, so that one student's file never costs the class.

Every archive in ``downloaded/<id>/archive/`` (zip or tar, archives inside them too, each into a
folder named after it) is unpacked on its own: an archive that cannot be unpacked, or that
expands past a limit, is removed from what was extracted and named with the reason; everyone
else is unpacked. Only regular files and folders come out -- a symbolic or hard link, a device or
a FIFO in an archive is left in it, and so is a path that would land outside its folder -- each
skipped entry named. What an archive may expand to is capped *while* extracting (the sizes
an archive claims are not believed): :class:`Limits` (bytes and files for an archive with
everything nested in it, and how deep archives may nest). File times come from the archive
(nbgrader's own extractor sets them to the extraction time, which would make "the newest file"
meaningless), and file names a zip stored in UTF-8 without saying so are mended.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from course_utils.instructor.lms.names import archive_stem, is_archive

MiB = 2**20


@dataclass(frozen=True)
class Limits:
    """What one archive, with every archive nested in it, may expand to."""

    max_bytes: int = 512 * MiB
    max_files: int = 5000
    max_depth: int = 5


@dataclass
class Unpacked:
    """What unpacking did: the folders archives went into, the archives that could not be
    unpacked (relative path -> why) and the entries left inside archives (path -> why)."""

    folders: set[PurePosixPath] = field(default_factory=set)
    refused: dict[PurePosixPath, str] = field(default_factory=dict)
    skipped: dict[PurePosixPath, str] = field(default_factory=dict)


class CannotUnpack(Exception):
    """This archive (and what is nested in it) is not unpacked: the message says why."""


class TooLarge(CannotUnpack):
    """The archive, with everything nested in it, goes past a limit: the outermost one is refused."""


class _Budget:
    def __init__(self, limits: Limits):
        self.limits, self.bytes, self.files = limits, 0, 0

    def add_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise TooLarge(f"it holds more than {self.limits.max_files} files (the limit for one archive)")

    def add_bytes(self, count: int) -> None:
        self.bytes += count
        if self.bytes > self.limits.max_bytes:
            raise TooLarge(f"it expands past {self.limits.max_bytes // MiB} MiB (the limit for one archive)")


def unpack_download(archive_root: Path, extracted_root: Path, limits: Limits = Limits(), log=None) -> Unpacked:
    """Unpack or copy every file under ``archive_root`` into ``extracted_root`` (see the module
    docstring); returns what happened, paths relative to ``extracted_root``."""
    result = Unpacked()
    for source in sorted(archive_root.rglob("*")):
        if source.is_symlink() or not source.is_file():
            continue
        relative = PurePosixPath(source.relative_to(archive_root).as_posix())
        folder = extracted_root / source.parent.relative_to(archive_root)
        folder.mkdir(parents=True, exist_ok=True)
        if not is_archive(source.name):
            shutil.copy2(source, folder / source.name)
            continue
        target = folder / archive_stem(source.name)
        if log:
            log.info("Unpacking %s", source)
        try:
            _unpack(source, target, relative.parent / archive_stem(source.name), _Budget(limits), 1, result)
        except CannotUnpack as reason:
            shutil.rmtree(target, ignore_errors=True)  # nothing of it is placed, not half of it
            result.folders = {path for path in result.folders if not _is_within(path, relative.parent / target.name)}
            result.skipped = {path: why for path, why in result.skipped.items()
                              if not _is_within(path, relative.parent / target.name)}
            result.refused[relative] = f"cannot unpack it: {reason}"
            if log:
                log.error("Not unpacked: %s: %s", relative, reason)
    return result


def _is_within(path: PurePosixPath, folder: PurePosixPath) -> bool:
    return path == folder or folder in path.parents


def _unpack(archive: Path, folder: Path, relative: PurePosixPath, budget: _Budget, depth: int,
            result: Unpacked) -> None:
    """Unpack ``archive`` into ``folder`` (``relative``: the same, relative to the extracted
    root), then the archives in it, one level deeper each."""
    if depth > budget.limits.max_depth:
        raise CannotUnpack(f"archives nest deeper than {budget.limits.max_depth} levels")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if archive.name.lower().endswith(".zip"):
            _unzip(archive, folder, relative, budget, result)
        else:
            _untar(archive, folder, relative, budget, result)
    except CannotUnpack:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, RuntimeError, ValueError) as error:
        raise CannotUnpack(f"{archive.name} is damaged or not what its name says ({error}); download it again")
    result.folders.add(relative)
    for nested in sorted(path for path in folder.rglob("*") if path.is_file() and is_archive(path.name)):
        inside = relative / PurePosixPath(nested.relative_to(folder).as_posix()).parent / archive_stem(nested.name)
        try:
            _unpack(nested, nested.parent / archive_stem(nested.name), inside, budget, depth + 1, result)
        except TooLarge:
            raise  # the outermost archive is what is too big
        except CannotUnpack as reason:
            shutil.rmtree(nested.parent / archive_stem(nested.name), ignore_errors=True)
            result.refused[relative / PurePosixPath(nested.relative_to(folder).as_posix())] = f"cannot unpack it: {reason}"


def _member_path(name: str) -> tuple[str, ...] | None:
    """A member's path as parts inside its folder, or None if it would land outside it."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts or parts[0] == "/" or ".." in parts or any("\x00" in part for part in parts):
        return None
    return tuple(part for part in parts if part not in (".", ""))


def _write(target: Path, source, budget: _Budget, stamp: float | None) -> None:
    budget.add_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as copy:
        while chunk := source.read(1 << 20):
            budget.add_bytes(len(chunk))
            copy.write(chunk)
    if stamp is not None:
        os.utime(target, (stamp, stamp))


def _unzip(archive: Path, folder: Path, relative: PurePosixPath, budget: _Budget, result: Unpacked) -> None:
    with zipfile.ZipFile(archive) as bundle:
        for info in bundle.infolist():
            name = info.filename
            if not info.flag_bits & 0x800:  # not marked UTF-8: Python read it as cp437
                try:
                    name = name.encode("cp437").decode("utf-8")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    pass
            parts = _member_path(name)
            shown = relative / name.replace("\\", "/").lstrip("/")
            if parts is None:
                result.skipped[shown] = "a path outside the archive's folder"
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                result.skipped[shown] = "a symbolic link"
                continue
            target = folder.joinpath(*parts)
            if info.is_dir():
                _make_folder(target, shown, result)
                continue
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: no type recorded (most zips)
                result.skipped[shown] = "not a regular file"
                continue
            try:
                with bundle.open(info) as source:
                    _write(target, source, budget, time.mktime(info.date_time + (0, 0, -1)))
            except CannotUnpack:
                raise
            except (OSError, zipfile.BadZipFile, RuntimeError) as error:
                result.skipped[shown] = f"could not be written ({error})"


def _untar(archive: Path, folder: Path, relative: PurePosixPath, budget: _Budget, result: Unpacked) -> None:
    with tarfile.open(archive) as bundle:
        for member in bundle:
            parts = _member_path(member.name)
            shown = relative / member.name.lstrip("/")
            if parts is None:
                result.skipped[shown] = "a path outside the archive's folder"
                continue
            target = folder.joinpath(*parts)
            if member.isdir():
                _make_folder(target, shown, result)
                continue
            if not member.isreg():
                kind = ("a symbolic link" if member.issym() else "a hard link" if member.islnk()
                        else "a device" if member.isdev() else "a FIFO" if member.isfifo() else "not a regular file")
                result.skipped[shown] = f"{kind}" + (f" to {member.linkname}" if member.linkname else "")
                continue
            source = bundle.extractfile(member)
            try:
                _write(target, source, budget, float(member.mtime))
            except CannotUnpack:
                raise
            except OSError as error:
                result.skipped[shown] = f"could not be written ({error})"


def _make_folder(target: Path, shown: PurePosixPath, result: Unpacked) -> None:
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        result.skipped[shown] = f"could not be made a folder ({error})"
