"""How values cross between a student's code and the grader: JSON plus ``.npy`` arrays, never pickle.

Everything a student's function receives or returns travels in this form -- from the kernel to
the judge process, from the grader to the sandboxed checking process and back -- so nothing a
student returns can run code where it is read: arrays are written with numpy's ``.npy`` format
(``allow_pickle=False``), everything else becomes JSON, and an object that is neither (a class of
the student's) travels as its type name and ``repr`` only.

This module imports only the standard library and numpy: the checking process, which has
nothing of the course, loads it from its file. The names it uses are bound at import, so code
that later patches ``json``, ``builtins`` or numpy's ``.npy`` writer in the same process does not
change what is written.
"""

from __future__ import annotations

import builtins
import json

import numpy as np

_isinstance = builtins.isinstance
_type = builtins.type
_len = builtins.len
_repr = builtins.repr
_open = builtins.open
_dumps = json.dumps
_loads = json.loads
_ndarray = np.ndarray
_generic = np.generic
_asarray = np.asarray
_view = np.ndarray.view
_write_array = np.lib.format.write_array
_read_array = np.lib.format.read_array

MAX_ITEMS = 1000  # longer lists and tuples travel as their repr only
MAX_DEPTH = 3


def encode(value, arrays: list, depth: int = 0):
    """A JSON-ready form of ``value``; arrays are appended to ``arrays`` and named by index."""
    kind = _type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if _isinstance(value, (_ndarray, _generic)):
        array = _view(_asarray(value), _ndarray)  # a subclass travels as a plain array
        if array.dtype.hasobject:  # no pickle: an object array travels as its shape only
            return {"object_array": list(array.shape), "scalar": _isinstance(value, _generic)}
        arrays.append(array)
        return {"array": _len(arrays) - 1, "scalar": _isinstance(value, _generic)}
    if kind in (tuple, list) and depth < MAX_DEPTH and _len(value) <= MAX_ITEMS:
        return {kind.__name__: [encode(item, arrays, depth + 1) for item in value]}
    if kind is dict and depth < MAX_DEPTH and all(_type(key) is str for key in value):
        return {"dict": {key: encode(item, arrays, depth + 1) for key, item in value.items()}}
    if _isinstance(value, (bool, int, float)):  # a subclass of a number travels as the number
        return (bool if _isinstance(value, bool) else int if _isinstance(value, int) else float)(value)
    try:
        text = _repr(value)
    except Exception as error:  # the student's own __repr__ failed
        text = f"<{kind.__name__} whose repr raised {_type(error).__name__}>"
    return {"other": kind.__name__, "repr": text[:200]}


def decode(value, arrays: list):
    """The value :func:`encode` described; an unknown object comes back as a stand-in with the
    same type name and ``repr`` (judged "wrong type")."""
    if not isinstance(value, dict):
        return value
    if "array" in value:
        array = arrays[value["array"]]
        return array[()] if value["scalar"] else array
    if "object_array" in value:
        array = np.empty(value["object_array"], dtype=object)
        return array[()] if value["scalar"] else array
    if "tuple" in value:
        return tuple(decode(item, arrays) for item in value["tuple"])
    if "list" in value:
        return [decode(item, arrays) for item in value["list"]]
    if "dict" in value:
        return {key: decode(item, arrays) for key, item in value["dict"].items()}
    stand_in = type(value["other"], (), {"__repr__": lambda self, text=value["repr"]: text})
    return stand_in()


def write(folder: str, name: str, payload, arrays: list) -> None:
    """``folder/name.json`` (the payload) and ``folder/name.npy`` (the arrays, one after another)."""
    with _open(f"{folder}/{name}.npy", "wb") as handle:
        for array in arrays:
            _write_array(handle, array, allow_pickle=False)
    with _open(f"{folder}/{name}.json", "w", encoding="utf-8") as handle:
        handle.write(_dumps(payload))


def read(folder: str, name: str, max_bytes: int | None = None):
    """``(payload, arrays)`` written by :func:`write`. ``max_bytes`` refuses larger array files
    (``ValueError``): what untrusted code wrote is read with a size limit."""
    import os

    path = f"{folder}/{name}.npy"
    if max_bytes is not None and os.path.getsize(path) > max_bytes:
        raise ValueError(f"{path} holds {os.path.getsize(path):,} bytes, more than the {max_bytes:,} allowed")
    arrays = []
    with _open(path, "rb") as handle:
        while handle.peek(1):
            arrays.append(_read_array(handle, allow_pickle=False))
    with _open(f"{folder}/{name}.json", encoding="utf-8") as handle:
        text = handle.read(max_bytes if max_bytes is not None else -1)
    return _loads(text), arrays
