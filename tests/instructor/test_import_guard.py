"""The import guard, outside any sandbox, in a Python that does have torch and scipy: what the
``import`` audit event catches, what it misses, and how the guard covers the misses."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import course_utils.instructor.sandbox

GUARD_FOLDER = str(Path(course_utils.instructor.sandbox.__file__).parent)


def python(code: str) -> dict:
    """Run ``code`` in a fresh ``python -I`` with the guard importable as ``import_guard``
    (not through course_utils, which the guard bans); return what it printed as JSON."""
    setup = f"import json, sys\nsys.path.insert(0, {GUARD_FOLDER!r})\nimport import_guard\n{ATTEMPTS}"
    outcome = subprocess.run([sys.executable, "-I", "-c", setup + textwrap.dedent(code)],
                             capture_output=True, text=True, timeout=120)
    assert outcome.returncode == 0, outcome.stderr
    return json.loads(outcome.stdout)


ATTEMPTS = textwrap.dedent("""
    def attempt(code):
        try:
            exec(code, {})
            return "allowed"
        except BaseException as error:
            return type(error).__name__
""")


def test_the_import_event_misses_import_module_and_modules_already_loaded():
    seen = python("""
        import importlib
        events = []
        sys.addaudithook(lambda event, args: events.append(args[0]) if event == "import" else None)
        import csv                           # first time: an event
        first = "csv" in events
        events.clear()
        import csv                           # already in sys.modules: no event
        again = "csv" in events
        importlib.import_module("fractions")  # imported by importlib itself: no event for it
        print(json.dumps({"first": first, "again": again, "import_module": "fractions" in events}))
    """)
    assert seen == {"first": True, "again": False, "import_module": False}


def test_the_guard_refuses_banned_packages_however_they_are_imported():
    seen = python("""
        import_guard.install()
        print(json.dumps({
            "import": attempt("import torch"),
            "submodule": attempt("import scipy.signal"),
            "__import__": attempt("__import__('course_utils')"),
            "import_module": attempt("import importlib; importlib.import_module('torch')"),
            "loader": attempt("import importlib.util as u; s = u.find_spec('torch'); "
                              "m = u.module_from_spec(s); s.loader.exec_module(m)"),
            "encoded exec": attempt("exec(bytes.fromhex('696d706f727420746f726368').decode())"),
            "numpy": attempt("import numpy; numpy.ones(3).sum()"),
            "torch loaded": "torch" in sys.modules,
        }))
    """)
    assert seen == {"import": "DelegationError", "submodule": "DelegationError",
                    "__import__": "DelegationError", "import_module": "DelegationError",
                    "loader": "DelegationError", "encoded exec": "DelegationError",
                    "numpy": "allowed", "torch loaded": False}


def test_the_guard_refuses_to_install_after_a_banned_module_was_imported():
    seen = python("""
        import ctypes                       # numpy does this too, on import
        print(json.dumps({"install": attempt("import import_guard; import_guard.install()")}))
    """)
    assert seen == {"install": "DelegationError"}


def test_ctypes_cannot_be_used_even_when_it_is_at_hand():
    seen = python("""
        import ctypes
        import_guard.install(import_guard.BANNED - {"ctypes", "_ctypes"})  # let it be loaded
        print(json.dumps({"dlopen": attempt("import ctypes; ctypes.CDLL(None)"),
                          "raw memory": attempt("import ctypes; ctypes.c_int.from_address(id(1)).value"),
                          "string_at": attempt("import ctypes; ctypes.string_at(id(1), 8)")}))
    """)
    assert set(seen.values()) == {"DelegationError"}, seen


def test_the_guard_cannot_be_switched_off_from_python():
    seen = python("""
        import_guard.install()
        import_guard.BANNED = frozenset()            # the hook does not read module globals
        import_guard.DelegationError = Warning
        import builtins
        builtins.len, saved = (lambda value: 0), builtins.len   # nor builtins
        process_memory_with_len_replaced = attempt("open('/proc/self/mem', 'r+b')")
        builtins.len = saved
        print(json.dumps({
            "after rebinding": attempt("import torch"),
            "len replaced": process_memory_with_len_replaced,
            "gc": attempt("import gc; gc.get_objects()"),
            "referrers": attempt("import gc; gc.get_referrers(frozenset)"),
            "process memory": attempt("open('/proc/self/mem', 'r+b')"),
            "child process": attempt("import subprocess, sys; subprocess.run([sys.executable, '-c', 'import torch'])"),
            "os.system": attempt("import os; os.system('true')"),
        }))
    """)
    assert set(seen.values()) == {"DelegationError"}, seen
