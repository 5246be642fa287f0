"""Running code we do not trust -- a student's -- under bubblewrap, with nothing to steal or break.

``bwrap`` (Debian/Ubuntu package ``bubblewrap``) builds the sandbox out of Linux namespaces,
which an unprivileged user may create: grading needs no root. What a sandbox guarantees:

* **Only what the caller lists is visible**: the system's programs and libraries (``/usr`` and
  its merged-``/usr`` symlinks, the linker cache, the time zone), read-only; the caller's
  read-only and read-write paths, each bound at its own path (a package folder without its
  parent, which may hold ``solutions/`` or the gradebook); a fresh ``/proc`` and minimal
  ``/dev``; a private ``/tmp`` of capped size that holds ``HOME``. Not the course root, not
  other students' folders, not the grader's home. Folders of Python packages the caller does
  not use (Debian's ``dist-packages``, a venv's base ``site-packages``) are covered by an empty
  read-only folder.
* **No network**: a network namespace of its own with only a loopback, so ``127.0.0.1`` is the
  sandbox's, not the host's, and every other address is unreachable.
* **No secrets in the environment**: the environment is cleared and rebuilt from an allow-list.
* **Limits**: CPU seconds, address space, file size and process count (:class:`Limits`),
  set inside the sandbox by ``prlimit``. The process count needs care: ``RLIMIT_NPROC`` counts
  a user's processes per user namespace (set inside the sandbox's namespace it limits that
  sandbox alone), but never applies to uid 0, so as root a pids cgroup per sandbox
  (:class:`~course_utils.instructor.sandbox.pids_cgroup.PidsCgroup`) does it instead.
* **It dies with its parent**, and everything in it dies with it (its own pid namespace).
  No capability is kept inside, even when started by root (``bwrap`` keeps them for uid 0
  otherwise, and with them the sandbox could remount its read-only binds read-write).

    result = run(["python3", "-c", "print(6 * 7)"], python_sandbox(), timeout=30)
    result.ok, result.stdout, result.limit, result.reason

Not covered: ``RLIMIT_AS`` is per process, so memory is
bounded by ``processes * memory_bytes``; a writable bind has no quota beyond the size of each
file; there is no seccomp filter, so the whole kernel system-call surface stays reachable.
"""

from __future__ import annotations

import functools
import glob
import os
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from course_utils.instructor.sandbox.pids_cgroup import PidsCgroup

#: bubblewrap; ``COURSE_BWRAP`` names another (the tests play a machine without one with it).
BWRAP = os.environ.get("COURSE_BWRAP", "/usr/bin/bwrap")
PRLIMIT = "/usr/bin/prlimit"
SCRATCH = "/tmp"
HOME = "/tmp/home"
GiB = 2**30
MiB = 2**20

INSTALL_BWRAP = "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`, as root)"
ENABLE_USERNS = (
    "user namespaces seem to be disabled: enable them with `sysctl -w "
    "kernel.unprivileged_userns_clone=1` (older Debian), or on Ubuntu 24.04 and later with "
    "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (or an AppArmor profile that "
    "allows bwrap), and check that `sysctl user.max_user_namespaces` is above 0"
)
NOT_LINUX = (
    "bubblewrap needs Linux namespaces, which macOS and Windows lack: grade with --no-sandbox "
    "there, which keeps the separate judge process and the import guard but not the "
    "filesystem, network and resource isolation"
)

#: New namespaces of every kind, and no way back out of them.
ISOLATION = (
    "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
    "--unshare-cgroup-try",
    "--disable-userns",  # no nested user namespace, where the sandbox would get capabilities again
    "--cap-drop", "ALL",  # bwrap keeps every capability for uid 0 unless told
    "--die-with-parent",
    "--new-session",  # no TIOCSTI: the sandbox cannot type into the grader's terminal
)

#: The environment every sandbox starts from; a :class:`Sandbox`'s ``env`` adds to it.
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": HOME,
    "TMPDIR": SCRATCH,
    "LANG": "C.UTF-8",
    "USER": "sandbox",  # getpass.getuser() reads these; there is no /etc/passwd
    "LOGNAME": "sandbox",
    "OMP_NUM_THREADS": "1",  # one core's worth per sandbox: graders run several side by side
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",  # the bound installations are read-only anyway
}


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox. Each process in it gets the CPU, address-space and
    file-size limits (``RLIMIT_CPU``, ``RLIMIT_AS``, ``RLIMIT_FSIZE``); ``processes`` counts
    the whole sandbox's processes and threads; ``scratch_bytes`` caps its ``/tmp``."""

    cpu_seconds: int = 60
    memory_bytes: int = 4 * GiB
    file_bytes: int = 256 * MiB
    processes: int = 64
    scratch_bytes: int = 512 * MiB

    def __post_init__(self):
        for name in ("cpu_seconds", "memory_bytes", "file_bytes", "processes", "scratch_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Limits.{name}: got {value!r}; it needs a positive whole number")


@dataclass(frozen=True)
class Sandbox:
    """What a sandboxed command sees and may use.

    Paths are the host's and must exist. ``system`` (by default :func:`system_paths`) is bound
    read-only, its symlinks recreated as symlinks; ``read_only`` and ``read_write`` are bound at
    their own path, ``read_only_at`` as ``(host path, path inside)``; ``hidden`` folders (inside
    something bound) are covered by an empty read-only folder. A path bound inside another is
    bound after it, whatever the order given.
    """

    system: tuple[str, ...] = field(default_factory=lambda: system_paths())
    read_only: tuple[str, ...] = ()
    read_write: tuple[str, ...] = ()
    read_only_at: tuple[tuple[str, str], ...] = ()
    hidden: tuple[str, ...] = ()
    cwd: str = HOME
    env: Mapping[str, str] = field(default_factory=dict)
    limits: Limits = Limits()

    def __post_init__(self):
        for name in ("system", "read_only", "read_write", "hidden"):
            paths = tuple(getattr(self, name))
            object.__setattr__(self, name, paths)
            for path in paths:
                _check_path(name, path, must_exist=name in ("read_only", "read_write"))
                if name == "system" and not os.path.lexists(path):
                    raise ValueError(f"system: {path!r} does not exist; only existing paths can be bound")
        pairs = tuple((host, inside) for host, inside in self.read_only_at)
        object.__setattr__(self, "read_only_at", pairs)
        for host, inside in pairs:
            _check_path("read_only_at", host, must_exist=True)
            _check_path("read_only_at", inside, must_exist=False)
        _check_path("cwd", self.cwd, must_exist=False)
        bad = {name: value for name, value in dict(self.env).items()
               if not (isinstance(name, str) and isinstance(value, str))}
        if bad:
            raise TypeError(f"env: got {bad!r}; it needs strings for names and values")
        if not isinstance(self.limits, Limits):
            raise TypeError(f"limits: got {self.limits!r}; it needs a Limits(...)")


def _check_path(argument: str, path, must_exist: bool) -> None:
    if not isinstance(path, str) or not os.path.isabs(path):
        raise ValueError(f"{argument}: got {path!r}; it needs absolute paths as strings")
    if must_exist and not os.path.exists(path):
        raise ValueError(f"{argument}: {path!r} does not exist; only existing paths can be bound")


# --- what a program needs from the host --------------------------------------------------------

def system_paths() -> tuple[str, ...]:
    """What a dynamically linked program needs from the host, bound read-only in every sandbox:
    ``/usr`` (``/bin``, ``/lib``... are symlinks into it on a merged-``/usr`` system and are
    recreated as symlinks), the dynamic linker's cache, the time zone and fontconfig's setup."""
    candidates = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache",
                  "/etc/localtime", "/etc/fonts")  # fontconfig's, read when matplotlib lists fonts
    return tuple(path for path in candidates if os.path.lexists(path))


def python_installation() -> tuple[str, ...]:
    """The folders this interpreter lives in: its venv (``sys.prefix``) and the installation the
    venv was made from (``sys.base_prefix``), leaving out what :func:`system_paths` binds."""
    prefixes = (os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix))
    return tuple(p for p in dict.fromkeys(prefixes) if not p.startswith("/usr/") and p != "/usr")


def unused_package_folders(used: Sequence[str] = ()) -> tuple[str, ...]:
    """Folders of installed Python packages that are not in ``used`` (say ``sys.path``): Debian's
    (``/usr/lib/python3/dist-packages``), ``/usr/local``'s, and the base installation's
    ``site-packages``, which a venv leaves off its path but which would otherwise be visible."""
    base = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})
    candidates = [*glob.glob("/usr/lib/python3*/*-packages"),
                  *glob.glob("/usr/local/lib/python3*/*-packages"), base["purelib"], base["platlib"]]
    used = {os.path.realpath(path) for path in used if path}
    return tuple(sorted({os.path.realpath(path) for path in candidates if os.path.isdir(path)} - used))


def python_sandbox(*, read_only: Sequence[str] = (), read_write: Sequence[str] = (),
                   cwd: str = HOME, env: Mapping[str, str] | None = None,
                   limits: Limits = Limits()) -> Sandbox:
    """A sandbox in which this interpreter (``sys.executable``, venv included) runs, plus the
    caller's paths. ``PATH`` starts with the interpreter's folder, so ``python`` is this one."""
    folder = os.path.dirname(sys.executable)
    return Sandbox(
        read_only=(*python_installation(), *read_only),
        read_write=tuple(read_write),
        hidden=unused_package_folders(sys.path),
        cwd=cwd,
        env={"PATH": f"{folder}:{BASE_ENV['PATH']}", **(env or {})},
        limits=limits,
    )


# --- the command line --------------------------------------------------------------------------

def _depth(path: str) -> int:
    return len(os.path.normpath(path).split(os.sep))


def bwrap_arguments(sandbox: Sandbox) -> list[str]:
    """``bwrap`` and its options for ``sandbox``, up to (not including) the ``--`` that ends them.

    Order matters, since each mount covers what is below it: the system first, then ``/tmp``,
    then the caller's binds, parents before children (a bind under ``/tmp`` lands on the
    scratch ``/tmp``), and the hidden folders last."""
    arguments = [BWRAP, *ISOLATION, "--clearenv"]
    for name, value in {**BASE_ENV, **sandbox.env}.items():
        arguments += ["--setenv", name, value]
    for path in sandbox.system:
        if os.path.islink(path):
            arguments += ["--symlink", os.readlink(path), path]
        else:
            arguments += ["--ro-bind", path, path]
    arguments += ["--proc", "/proc", "--dev", "/dev",
                  "--size", str(sandbox.limits.scratch_bytes), "--tmpfs", SCRATCH, "--dir", HOME]
    binds = [("--ro-bind", path, path) for path in sandbox.read_only]
    binds += [("--bind", path, path) for path in sandbox.read_write]
    binds += [("--ro-bind", host, inside) for host, inside in sandbox.read_only_at]
    for option, host, inside in sorted(binds, key=lambda bind: _depth(bind[2])):
        arguments += [option, host, inside]
    for path in sandbox.hidden:
        arguments += ["--tmpfs", path, "--remount-ro", path]
    return arguments + ["--chdir", sandbox.cwd]


def limit_arguments(limits: Limits) -> list[str]:
    """``prlimit`` setting ``limits`` on the command it starts, inside the sandbox: set there,
    ``RLIMIT_NPROC`` counts the sandbox's user namespace only. The hard CPU limit is one second
    above the soft one (SIGXCPU, then SIGKILL for a process that ignores it); no core dumps."""
    return [PRLIMIT, f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}",
            f"--as={limits.memory_bytes}", f"--fsize={limits.file_bytes}",
            f"--nproc={limits.processes}", "--core=0", "--"]


def sandbox_command(command: Sequence[str], sandbox: Sandbox,
                    cgroup: PidsCgroup | None = None) -> list[str]:
    """The full command line that runs ``command`` in ``sandbox`` (in ``cgroup`` if given)."""
    if not command or not all(isinstance(part, str) for part in command):
        raise ValueError(f"command: got {command!r}; it needs a non-empty list of strings")
    full = [*bwrap_arguments(sandbox), "--", *limit_arguments(sandbox.limits), *command]
    return cgroup.enter_command(full) if cgroup else full


def process_limit_note(limits: Limits, cgroup: PidsCgroup | None) -> str:
    """How the process count is limited for this sandbox, in words for a log."""
    if cgroup is not None:
        return f"process limit of {limits.processes}: pids cgroup {cgroup.path}"
    if os.geteuid() != 0:
        return f"process limit of {limits.processes}: RLIMIT_NPROC in the sandbox's user namespace"
    return ("process count NOT limited: running as root, which RLIMIT_NPROC exempts, and no "
            "writable pids cgroup was found (mount the cgroup pids controller, or grade as a "
            "user other than root)")


# --- availability ------------------------------------------------------------------------------

@functools.cache
def sandbox_available() -> tuple[bool, str]:
    """Whether sandboxes work on this machine, tried once for real (``/bin/true`` in the
    strictest sandbox), and a message: what works, or what to install or enable."""
    if not sys.platform.startswith("linux"):
        return False, NOT_LINUX
    for program in (BWRAP, PRLIMIT):
        if not os.access(program, os.X_OK):
            return False, f"{program} is missing: {INSTALL_BWRAP}"
    cgroup = PidsCgroup.create(Limits().processes)  # tried too, where we may make one
    try:
        trial = subprocess.run(sandbox_command(["/bin/true"], Sandbox(), cgroup),
                               capture_output=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"bwrap could not run ({error}); {INSTALL_BWRAP}"
    finally:
        if cgroup is not None:
            cgroup.remove()
    if trial.returncode != 0:
        said = trial.stderr.decode(errors="replace").strip()
        if "nrecognized option" in said or "Unknown option" in said:
            return False, f"bwrap is too old ({said}): bubblewrap 0.8 or later is needed"
        return False, f"bwrap could not make a sandbox ({said}); {ENABLE_USERNS}"
    version = subprocess.run([BWRAP, "--version"], capture_output=True, text=True).stdout.strip()
    return True, f"{version} works; {process_limit_note(Limits(), cgroup)}"


# --- running a command -------------------------------------------------------------------------

@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed command ended.

    ``returncode`` is bwrap's: the command's exit status, or 128 + N when a signal N killed it
    (as a shell reports it), or -9 when the wall-clock timeout stopped it. ``limit`` names the
    limit that stopped it, for programs: ``"cpu_time"``, ``"memory"``, ``"file_size"``,
    ``"scratch_space"``, ``"processes"``, ``"wall_time"`` or ``None``; ``reason`` says the same
    in words for people (``""`` when it exited with 0). Both are read from the exit status, the
    cgroup's counter and the error messages on stderr, which the command itself writes: a
    command can fake its own reason, never another's. ``notes`` tell how the process count was
    limited and what output was cut.
    """

    returncode: int
    stdout: bytes
    stderr: bytes
    limit: str | None
    reason: str
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.returncode == 0


#: What a Python (or C) program prints when a limit refuses it something.
MEMORY_ERRORS = (b"MemoryError", b"Unable to allocate", b"Cannot allocate memory", b"bad_alloc")
FILE_SIZE_ERRORS = (b"File too large", b"[Errno 27]")
SCRATCH_ERRORS = (b"No space left on device", b"[Errno 28]")
PROCESS_ERRORS = (b"BlockingIOError: [Errno 11]", b"can't start new thread", b"fork: retry",
                  b"Cannot fork", b"fork: Resource temporarily unavailable")


def explain(returncode: int, stderr: bytes, limits: Limits, timeout: float | None,
            timed_out: bool, refused_forks: int = 0) -> tuple[str | None, str]:
    """``(limit, reason)`` for a sandboxed command that ended so (see :class:`SandboxResult`)."""
    signal_number = returncode - 128 if 128 < returncode < 128 + 65 else None
    hits = []
    if signal_number == signal.SIGXCPU:
        hits.append(("cpu_time", f"killed by SIGXCPU: CPU time limit of {limits.cpu_seconds} s"))
    if signal_number == signal.SIGXFSZ or any(text in stderr for text in FILE_SIZE_ERRORS):
        hits.append(("file_size", f"file size limit: a write past {limits.file_bytes} bytes failed"))
    if any(text in stderr for text in MEMORY_ERRORS):
        hits.append(("memory", f"memory limit: an allocation past {limits.memory_bytes} bytes "
                               f"of address space failed"))
    if any(text in stderr for text in SCRATCH_ERRORS):
        hits.append(("scratch_space", f"scratch space full: {SCRATCH} holds at most "
                                      f"{limits.scratch_bytes} bytes"))
    if refused_forks or any(text in stderr for text in PROCESS_ERRORS):
        counted = f" ({refused_forks} forks refused)" if refused_forks else ""
        hits.append(("processes", f"process limit of {limits.processes} reached{counted}"))
    if timed_out:
        hits.append(("wall_time", f"stopped after the wall-clock limit of {timeout:g} s"))
    elif signal_number and not hits:
        name = signal.Signals(signal_number).name if signal_number in signal.valid_signals() else signal_number
        also = f" (the CPU time hard limit is {limits.cpu_seconds + 1} s)" if signal_number == 9 else ""
        hits.append((None, f"killed by {name}{also}"))
    elif returncode != 0 and not hits:
        hits.append((None, f"exit status {returncode}"))
    return (hits[0][0] if hits else None), "; ".join(reason for _, reason in hits)


def _read_capped(stream, limit: int, into: list) -> None:
    """Read ``stream`` to its end, keeping the first ``limit`` bytes; append (kept, dropped)."""
    kept, dropped = bytearray(), 0
    while chunk := os.read(stream.fileno(), 65536):
        room = limit - len(kept)
        kept += chunk[:room]
        dropped += max(0, len(chunk) - room)
    into.append((bytes(kept), dropped))


def run(command: Sequence[str], sandbox: Sandbox, *, timeout: float | None = None,
        stdin: bytes = b"", output_limit: int = MiB) -> SandboxResult:
    """Run ``command`` in ``sandbox`` and wait for it, at most ``timeout`` wall-clock seconds
    (then everything in the sandbox is killed). Keeps the first ``output_limit`` bytes of
    stdout and of stderr and drains the rest, so a flood of output costs no memory."""
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout: got {timeout!r}; it needs a positive number of seconds or None")
    cgroup = PidsCgroup.create(sandbox.limits.processes)
    notes = [process_limit_note(sandbox.limits, cgroup)]
    try:
        with tempfile.TemporaryFile() as input_file:
            input_file.write(stdin)
            input_file.seek(0)
            process = subprocess.Popen(
                sandbox_command(command, sandbox, cgroup), stdin=input_file, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"}, start_new_session=True)
        outputs: dict[str, list] = {"stdout": [], "stderr": []}
        readers = [threading.Thread(target=_read_capped, args=(getattr(process, name), output_limit, into))
                   for name, into in outputs.items()]
        for reader in readers:
            reader.start()
        timed_out = False
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            process.kill()  # bwrap itself; its pid 1 inside follows (die-with-parent), and all with it
            process.wait()
        for reader in readers:
            reader.join()
        process.stdout.close()
        process.stderr.close()
        refused = cgroup.refused_forks() if cgroup else 0
    finally:
        if cgroup is not None:
            cgroup.remove()
    (stdout, stdout_dropped), (stderr, stderr_dropped) = outputs["stdout"][0], outputs["stderr"][0]
    for name, dropped in (("stdout", stdout_dropped), ("stderr", stderr_dropped)):
        if dropped:
            notes.append(f"{name} cut to its first {output_limit} bytes ({dropped} more dropped)")
    limit, reason = explain(process.returncode, stderr, sandbox.limits, timeout, timed_out, refused)
    return SandboxResult(process.returncode, stdout, stderr, limit, reason, tuple(notes))
