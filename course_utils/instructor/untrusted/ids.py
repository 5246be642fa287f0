"""A student id is a name, never a path.

nbgrader builds folders from student ids (``submitted/<id>/<assignment>/``), and ids come from
places a student controls: a learning platform's file name (``.._a1_convolution.ipynb``), an
exchange folder's name, a roster cell. An id is accepted only if it is a plain name: letters and
digits (any script), ``.``, ``_``, ``-`` and ``@`` inside it (not ``+``: nbgrader's exchange
separates fields with it), starting with a letter or a
digit, at most :data:`MAX_LENGTH` characters -- so never ``.`` or ``..``, never with ``/``, a NUL
or a control character, never an option (``-x``).
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 100
_INNER = "._-@"


class UnsafeStudentId(ValueError):
    """An id that could be read as a path or an option."""


def is_safe_student_id(text) -> bool:
    """Is ``text`` a plain name that may be a folder name and a command-line argument?"""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_LENGTH:
        return False
    if not (text[0].isalnum() and text[-1] not in "."):
        return False
    return all(ch.isalnum() or ch in _INNER for ch in text) and not any(
        unicodedata.category(ch).startswith("C") for ch in text)


def check_student_id(text, where: str = "student id") -> str:
    """``text`` if it is a safe id; otherwise :class:`UnsafeStudentId` naming ``where`` and why."""
    if is_safe_student_id(text):
        return text
    shown = repr(text)[:60]
    raise UnsafeStudentId(
        f"{where}: got {shown}; a student id must be a plain name (letters, digits and . _ - @ "
        f"inside, starting with a letter or digit, at most {MAX_LENGTH} characters), never a path")


def safe_student_id(text: str) -> str:
    """``text`` turned into a safe id (``Ada Lovelace`` -> ``Ada_Lovelace``, ``..`` -> ``""``):
    every run of other characters becomes ``_``, and leading and trailing ``.``, ``_``, ``-``
    go; ``""`` when nothing is left. The caller says when that happens."""
    text = unicodedata.normalize("NFC", str(text)).strip()
    cleaned = re.sub(r"[^\w.@-]+", "_", text)
    cleaned = "".join(ch for ch in cleaned if not unicodedata.category(ch).startswith("C"))
    cleaned = cleaned.strip("._-@")[:MAX_LENGTH].rstrip("._-@")
    return cleaned if is_safe_student_id(cleaned) else ""


def safe_display_name(text: str, limit: int = 80) -> str:
    """A person's name as it may be stored and shown: no markup or control characters (``<``,
    ``>``, ``"``, ``&``, backquotes, NUL), at most ``limit`` characters."""
    text = "".join(ch for ch in str(text) if not unicodedata.category(ch).startswith("C"))
    return re.sub(r"[<>\"'`&\\]", "", text).strip()[:limit]


_PLAIN_NAME = re.compile(r"^(?!\.\.?$)[^/\\\x00]{1,255}$")


def is_plain_name(name) -> bool:
    """Can ``name`` (a folder or a file name found on disk) be one name and nothing more: not
    ``.`` or ``..``, no ``/``, ``\\`` or NUL? (Looser than a student id: any file name.)"""
    return isinstance(name, str) and bool(_PLAIN_NAME.match(name))
