"""An audit hook that refuses banned libraries to the Python process it is installed in.

Meant for the sandboxed checking process (:mod:`course_utils.instructor.sandbox.checking_sandbox`), where
this file is bound as the top-level module ``import_guard``: it imports nothing but ``sys``,
so it works where the course package is not importable. ::

    import import_guard
    import_guard.install()          # then run the untrusted code

Once installed it cannot be removed (``sys.addaudithook``), and raises :class:`DelegationError`
for:

* importing a banned package (:data:`BANNED`) or ``ctypes`` by name, however spelled:
  ``import``, ``__import__``, ``exec("import ...")`` (the ``import`` audit event);
* loading one without naming it to the import system: ``importlib.import_module`` and
  ``spec.loader.exec_module`` raise no ``import`` event, but reading the package's files does
  (an ``open`` event with ``.../torch/__init__.py``);
* using ctypes at all (every ``ctypes.*`` event: ``dlopen``, ``dlsym``, calling a foreign
  function, reading raw memory), because ctypes is often already imported (numpy imports it)
  and then ``import ctypes`` hands it over without any audit event;
* what would switch the hook off: writing ``/proc/<pid>/mem``, finding the hook through
  ``gc.get_objects``/``get_referrers``, starting another process (which has no hook).

What it does not catch: a banned module already in ``sys.modules`` before :func:`install` (which
therefore refuses to install then), and code that never names or reads a banned package (a
student's own convolution is exactly what we want). In the checking sandbox the banned packages
are not on disk at all, so the guard is a second wall, and its error names the cause.
"""

import sys

#: Top-level packages a student's code may not use (the same list as
#: ``course_utils.grading.delegation.BANNED_PACKAGES``), and ctypes, which reaches any of them.
BANNED = frozenset({
    "course_utils", "torch", "scipy", "tensorflow", "jax", "keras", "skimage", "cv2", "sklearn",
    "ctypes", "_ctypes",
})

#: Audit events that start a process: a child would run without this hook.
PROCESS_EVENTS = frozenset({
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "subprocess.Popen", "pty.spawn",
})

#: The process events that copy this process, guard included (see ``install(allow_processes=True)``).
FORK_EVENTS = frozenset({"os.fork", "os.forkpty"})

#: Audit events that would hand over the hook function itself.
INTROSPECTION_EVENTS = frozenset({"gc.get_objects", "gc.get_referrers", "gc.get_referents"})


class DelegationError(ImportError):
    """Untrusted code tried to use a library it may not use (an ``ImportError``, so that code
    which falls back when an optional import fails does so)."""


def install(banned=BANNED, allow_processes: bool = False) -> None:
    """Install the guard for the rest of this process's life. Raises :class:`DelegationError`
    if a banned module is already imported, since then nothing can keep it from being used.

    ``allow_processes``: let this process (and its children) ``fork``. The course's checking
    process forks one child per graded function from a parent that imported numpy once; a
    forked child keeps the guard, and the sandbox's process limit bounds how many there are.
    Starting a *new* program (``exec``, ``subprocess``, ``system``) stays refused.
    """
    banned = frozenset(banned)
    loaded = sorted(name for name in list(sys.modules) if name.partition(".")[0] in banned)
    if loaded:
        raise DelegationError(f"install: {loaded} already imported; install the guard before "
                              f"anything imports them")
    events = PROCESS_EVENTS - FORK_EVENTS if allow_processes else PROCESS_EVENTS
    sys.addaudithook(_make_hook(banned, events))


def _make_hook(banned: frozenset, process_events: frozenset = PROCESS_EVENTS):
    """The hook. Everything it uses is bound now, as default arguments (whose tuple cannot be
    replaced without an audit event): not globals of this module, which code could rebind, nor
    methods of its arguments, which a ``str`` subclass could override."""

    def refuse(event, args, banned=banned, error=DelegationError, partition=str.partition,
               split=str.split, decode=bytes.decode, process_events=process_events,
               introspection_events=INTROSPECTION_EVENTS):
        if event == "import":
            name = args[0]
            if partition(name, ".")[0] in banned:  # str.partition: a str subclass cannot lie
                raise error(f"import of {name} refused: this code may not use it")
        elif event == "open":
            path = args[0]
            if path.__class__ is bytes:
                path = decode(path, "utf-8", "replace")
            if path.__class__ is str:  # the import system's loaders open str paths
                parts = split(path, "/")
                for part in parts:
                    name, dot, suffix = partition(part, ".")
                    if name in banned and (part in banned or part[-3:] in (".py", "pyc", ".so")):
                        raise error(f"opening {path} refused: it belongs to a banned package")
                if parts[:2] == ["", "proc"] and parts[-1] == "mem":
                    raise error(f"opening {path} refused: writing process memory would disable the guard")
        elif event[:7] == "ctypes.":
            raise error(f"{event} refused: ctypes may not be used")
        elif event in process_events:
            raise error(f"{event} refused: a new process would run without the import guard")
        elif event in introspection_events:
            raise error(f"{event} refused: it could reach the import guard itself")

    return refuse
