"""The checking process's sandbox: Python with the standard library and numpy and nothing else.

For code that must not reach the course's reference implementations or another library's
convolution: the sandbox's filesystem holds only the base Python installation's standard
library (its ``site-packages`` covered), the shared libraries it and numpy load (found by
``ldd``; not the rest of ``/usr``, which may hold other Python installations) and, in a fresh
folder :data:`LIBRARY`, numpy (and ``numpy.libs``, its bundled OpenBLAS) and
:mod:`~course_utils.instructor.sandbox.import_guard`. torch, scipy, IPython and
``course_utils`` are not on disk there, so no import trick, ``sys.path`` entry or
``ctypes.CDLL`` can load them. Python starts with ``-I -S``: no ``site`` (no ``.pth`` files, no
editable-install finders), no ``PYTHON*`` variables, no user site folder, not even the script's
folder on ``sys.path``. The process reads its input from and writes its output to one folder::

    box = checking_sandbox(io_folder)
    result = run(checking_command(f"{io_folder}/check.py"), box, timeout=60)
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from pathlib import Path

from course_utils.instructor.sandbox.bubblewrap import PRLIMIT, Limits, Sandbox, unused_package_folders

#: The folder inside the sandbox that holds numpy and import_guard, put on sys.path at start.
LIBRARY = "/sandbox/lib"

#: The one bootstrap of a checking process: ``path`` and the library folder on sys.path after the
#: standard library, the import guard installed before anything else is imported (numpy's own
#: ``import ctypes`` is then refused, and numpy does without it), then the script named first
#: run as ``__main__``.
BOOTSTRAP = (
    "import sys; sys.path.extend({path!r}); "
    "{guard}"
    "sys.argv = sys.argv[1:]; import runpy; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def numpy_folders() -> list[tuple[str, str]]:
    """``(host folder, folder inside)`` for numpy and, if present, ``numpy.libs`` beside it,
    found without importing numpy."""
    spec = importlib.util.find_spec("numpy")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("numpy_folders: numpy is not installed for this interpreter; the "
                           "checking process needs it (pip install numpy)")
    package = os.path.realpath(next(iter(spec.submodule_search_locations)))
    folders = [(package, f"{LIBRARY}/numpy")]
    libs = os.path.join(os.path.dirname(package), "numpy.libs")
    if os.path.isdir(libs):
        folders.append((libs, f"{LIBRARY}/numpy.libs"))
    return folders


def base_python() -> str:
    """The interpreter a venv was made from (the venv itself would bring its site-packages)."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def stdlib_folder() -> str:
    """The base installation's standard library (``.../lib/python3.11``, ``lib-dynload`` in it)."""
    return os.path.realpath(sysconfig.get_path("stdlib", vars={"installed_base": sys.base_prefix}))


@functools.cache
def shared_libraries(programs: tuple[str, ...], skip: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """``(host path, path inside)`` for every shared library ``programs`` load and the dynamic
    loader, as ``ldd`` resolves them, except those under a folder in ``skip``. Inside, each
    sits in its real folder (``/lib/x86_64-linux-gnu`` becomes ``/usr/lib/x86_64-linux-gnu`` on
    a merged-``/usr`` system, where ``/lib`` is a symlink the sandbox has too)."""
    listing = subprocess.run(["ldd", *programs], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}).stdout
    libraries = {}
    for line in listing.splitlines():
        words = line.split()
        path = words[2] if len(words) > 2 and words[1] == "=>" else words[0] if words else ""
        if not path.startswith("/") or path.endswith(":"):
            continue  # the vdso, "not a dynamic executable", or the name of the next program
        path = os.path.normpath(path)
        if path.startswith(tuple(folder + "/" for folder in skip)):
            continue
        inside = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
        libraries[inside] = path
    return tuple(sorted((host, inside) for inside, host in libraries.items()))


def stdlib_and_numpy_programs() -> tuple[str, ...]:
    """The executables and extension modules the checking process may load."""
    stdlib_extensions = glob.glob(os.path.join(stdlib_folder(), "lib-dynload", "*.so"))
    numpy_extensions = [path for host, _ in numpy_folders()
                        for path in glob.glob(f"{host}/**/*.so", recursive=True)]
    return (base_python(), PRLIMIT, *sorted(stdlib_extensions), *sorted(numpy_extensions))


def checking_sandbox(io_folder: str, *, read_only: Sequence[str] = (),
                     env: Mapping[str, str] | None = None, limits: Limits = Limits()) -> Sandbox:
    """The sandbox of a checking process whose input and output are in ``io_folder`` (bound
    read-write at its own path and its cwd). ``read_only`` adds paths (say a folder of data)."""
    io_folder = os.path.abspath(io_folder)
    if not os.path.isdir(io_folder):
        raise ValueError(f"io_folder: {io_folder!r} is not a folder; the checker needs one for "
                         f"its input and output")
    guard = str(Path(__file__).with_name("import_guard.py"))
    stdlib, python = stdlib_folder(), base_python()
    numpy = numpy_folders()
    libraries = shared_libraries(stdlib_and_numpy_programs(), skip=(stdlib, *(host for host, _ in numpy)))
    # the loader and the linker cache name libraries by /lib and /lib64, symlinks into /usr
    merged_usr = tuple(path for path in ("/lib", "/lib32", "/lib64") if os.path.islink(path))
    return Sandbox(
        system=(*merged_usr, "/etc/ld.so.cache"),
        read_only=(stdlib, python, PRLIMIT, *read_only),
        read_write=(io_folder,),
        read_only_at=(*libraries, *numpy, (guard, f"{LIBRARY}/import_guard.py")),
        hidden=tuple(path for path in unused_package_folders() if path.startswith(stdlib + "/")),
        cwd=io_folder,
        env=dict(env or {}),
        limits=limits,
    )


def checking_command(script: str, *args: str, path: Sequence[str] = (), library: str = LIBRARY,
                     install_guard: bool = True) -> list[str]:
    """The command that runs ``script`` with ``args`` in a checking process: ``path`` (folders of
    top-level modules the script brings) and ``library`` (numpy and the import guard:
    :data:`LIBRARY` in the sandbox, the host's folder without it) on ``sys.path``, and
    :func:`import_guard.install` first unless ``install_guard`` is False (a script that installs
    the guard itself, as :mod:`~course_utils.instructor.sandbox.checking_process` does)."""
    guard = "import import_guard; import_guard.install(); " if install_guard else ""
    folders = [*path, library]
    return [base_python(), "-I", "-S", "-c", BOOTSTRAP.format(path=folders, guard=guard), script, *args]
