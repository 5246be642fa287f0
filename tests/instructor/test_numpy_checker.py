"""The checking process: Python with the standard library and numpy only, in the sandbox. Its
input and output go through one folder; torch, scipy, IPython and course_utils are not on disk
there, so no trick imports them, with or without the import guard."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import textwrap

import numpy as np
import pytest
from course_utils.instructor.sandbox.checking_sandbox import (
    LIBRARY,
    base_python,
    checking_command,
    checking_sandbox,
    stdlib_folder,
)
from course_utils.instructor.sandbox.bubblewrap import run
from sandbox_checks import MARKER

BANNED = ["torch", "scipy", "IPython", "course_utils", "sklearn", "cv2", "jax", "tensorflow"]


def check(io_folder, code: str, guard_imports: bool = True):
    """Run ``code`` as ``check.py`` in the checking process whose folder is ``io_folder``."""
    (io_folder / "check.py").write_text(f"# {MARKER}\n{textwrap.dedent(code)}")
    return run(checking_command(str(io_folder / "check.py"), install_guard=guard_imports),
               checking_sandbox(str(io_folder)), timeout=120)


def printed(result) -> dict:
    assert result.ok, result.stderr.decode()
    return json.loads(result.stdout)


def test_the_checker_computes_with_numpy_from_its_input_to_its_output(tmp_path, host):
    np.save(tmp_path / "input.npy", np.arange(12.0).reshape(3, 4))
    result = check(tmp_path, """
        import numpy as np
        x = np.load("input.npy")
        np.save("output.npy", np.pad(x, 1).sum(axis=0))
    """)
    assert result.ok, result.stderr.decode()
    assert np.array_equal(np.load(tmp_path / "output.npy"), np.pad(np.arange(12.0).reshape(3, 4), 1).sum(axis=0))


@pytest.mark.slow
def test_the_checker_sees_only_the_standard_library_numpy_and_shared_libraries(tmp_path, host):
    allowed = [stdlib_folder(), LIBRARY, str(tmp_path), "/tmp", "/etc/ld.so.cache", base_python(),
               "/usr/bin/prlimit"]
    seen = printed(check(tmp_path, f"""
        import json, os, sys
        unexpected, banned = [], []
        for root, folders, files in os.walk("/"):
            if root in ("/proc", "/dev"):
                folders[:] = []
                continue
            for name in folders + files:
                path = os.path.join(root, name)
                if name.split(".")[0] in {BANNED!r}:
                    banned.append(path)
                if name in files and ".so" not in name and not path.startswith(tuple({allowed!r})):
                    unexpected.append(path)
        print(json.dumps({{"unexpected": unexpected, "banned": banned, "path": sys.path,
                           "site": os.listdir({os.path.join(stdlib_folder(), 'site-packages')!r}),
                           "flags": [sys.flags.isolated, sys.flags.no_site]}}))
    """, guard_imports=False))
    assert seen["unexpected"] == [] and seen["banned"] == []
    assert seen["site"] == [] and seen["flags"] == [1, 1]
    assert seen["path"][-1] == LIBRARY and not any("site-packages" in path for path in seen["path"])


def test_banned_packages_cannot_be_loaded_by_any_trick_without_the_guard(tmp_path, host):
    host_folders = [p for p in sys.path if p] + ["/usr/lib/python3/dist-packages", os.getcwd()]
    torch_package = os.path.dirname(importlib.util.find_spec("torch").origin)  # the host's, not imported
    seen = printed(check(tmp_path, f"""
        import ctypes, importlib, importlib.util, json, os, sys
        sys.path.extend({host_folders!r})
        outcomes = {{}}
        for name in {BANNED!r}:
            try:
                importlib.import_module(name)
                outcomes[name] = "imported"
            except ImportError as error:
                outcomes[name] = type(error).__name__
        outcomes["torch's folder"] = os.path.exists({torch_package!r})
        try:
            ctypes.CDLL({os.path.join(torch_package, "lib", "libtorch_cpu.so")!r})
            outcomes["ctypes"] = "loaded"
        except OSError:
            outcomes["ctypes"] = "OSError"
        print(json.dumps(outcomes))
    """, guard_imports=False))
    assert seen == {**{name: "ModuleNotFoundError" for name in BANNED}, "torch's folder": False,
                    "ctypes": "OSError"}


def test_the_guard_refuses_every_spelling_in_the_checker_and_numpy_still_works(tmp_path, host):
    seen = printed(check(tmp_path, """
        import base64, importlib, json, sys
        import numpy as np
        from numpy.lib.stride_tricks import sliding_window_view

        class Sneaky(str):
            def partition(self, separator):
                return ("numpy", "", "")

        attempts = {
            "import statement": "import torch",
            "__import__": "__import__('scipy.signal')",
            "importlib": "importlib.import_module('course_utils')",  # no event: not on disk here
            "encoded exec": "exec(base64.b64decode(b'aW1wb3J0IHNrbGVhcm4=').decode())",  # import sklearn
            "str subclass": "__import__(Sneaky('tensorflow'))",
            "ctypes": "import ctypes",
            "_ctypes": "importlib.import_module('_ctypes')",
            "subprocess": "import subprocess; subprocess.run(['true'])",
            "gc": "import gc; gc.get_objects()",
            "process memory": "open('/proc/self/mem', 'rb')",
        }
        refused = {}
        for name, code in attempts.items():
            try:
                exec(code)
                refused[name] = "allowed"
            except BaseException as error:
                refused[name] = type(error).__name__
        window_sums = sliding_window_view(np.arange(6), 3).sum(axis=1).tolist()
        print(json.dumps({"refused": refused, "numpy": window_sums, "ctypes": "ctypes" in sys.modules}))
    """))
    expected = {name: "DelegationError" for name in seen["refused"]}
    # import_module raises no "import" event, and here there is no file to open: not found
    assert seen["refused"] == {**expected, "importlib": "ModuleNotFoundError"}
    assert seen["numpy"] == [3, 6, 9, 12] and not seen["ctypes"]  # numpy does without ctypes
