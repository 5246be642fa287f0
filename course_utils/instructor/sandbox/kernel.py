"""A Jupyter kernel in a bubblewrap sandbox (:mod:`course_utils.instructor.sandbox.bubblewrap`), for
executing students' notebooks with nbclient or nbgrader:

    NotebookClient(nb, kernel_manager_class=SandboxedKernelManager,
                   resources={"metadata": {"path": submission_folder}})

    class Execute(nbgrader.preprocessors.Execute):   # nbgrader: the same name keeps its config
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
            super().__init__(*args, **kwargs)

    c.SandboxedKernelManager.read_only_paths = ["/srv/course/course_utils"]   # configuration

nbgrader's ``Execute`` passes ``kernel_manager_class=AsyncKernelManager`` to its parent class
itself, and a keyword argument beats configuration in traitlets, so
``c.Execute.kernel_manager_class`` is ignored: a subclass, as above, is the way in.

What differs from jupyter_client's :class:`AsyncKernelManager`, and why:

* **Transport ``ipc``**: the sandbox has no network, so a kernel listening on TCP
  ``127.0.0.1`` would listen on the sandbox's own loopback, out of the client's reach. ZMQ's
  ``ipc`` transport uses Unix sockets, which are files: they live with the connection file in a
  private folder per kernel, the only folder the kernel may write to besides its ``/tmp``.
  That folder is made in the temporary folder (``TMPDIR``), or in ``/tmp`` when that path is
  too long for a Unix socket's address (:func:`ipc_parent`).
* **The working directory** nbclient and nbgrader pass (the submission folder) is bound
  read-only at its own path and is the kernel's cwd; its parent folder is not visible.
* **Interrupts are messages** (``interrupt_mode = "message"``): with the default ``"signal"``,
  jupyter_client sends SIGINT to the process group of the process it started, which is bwrap;
  bwrap does not handle SIGINT, so it dies, and the kernel with it. The kernel itself is out
  of that group's reach (pid 2 of its own pid namespace, in a session of its own). An
  ``interrupt_request`` on the control channel instead makes ipykernel send SIGINT to itself.
* **One pids cgroup per kernel process** when running as root (see
  :class:`~course_utils.instructor.sandbox.pids_cgroup.PidsCgroup`), removed by ``cleanup_resources``,
  which kills what is still in it: a manager that lets the kernel exit in the background after
  that (``autograde_worker.BackgroundShutdownKernelManager``) must remove it after the reaping.

The course package, bound at its own path with ``read_only_paths``, is importable as usual: an
editable install's finder in the venv points at that very path.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict, List, Unicode, default

from course_utils.instructor.sandbox.pids_cgroup import PidsCgroup
from course_utils.instructor.sandbox.bubblewrap import (
    GiB,
    HOME,
    Limits,
    process_limit_note,
    python_sandbox,
    sandbox_command,
)

#: The longest socket path ZMQ can bind: a Unix socket address holds 107 bytes on Linux and 103
#: on macOS (``sun_path``), and ZMQ answers "File name too long" past it.
SOCKET_PATH_MAX = 103
#: The longest path a kernel's socket gets inside its folder: "kernel-ipc-" and a port number.
_SOCKET_NAME = os.path.join("sandboxed-kernel-xxxxxxxx", "kernel-ipc-65535")


def ipc_parent(inside: str = "") -> str:
    """Where a kernel's private folder goes (``inside``: the name of a folder it will be in, made
    there first): the temporary folder if its sockets' paths fit in a Unix socket address
    there, else ``/tmp`` (a deep ``TMPDIR`` would fail every kernel)."""
    folder = tempfile.gettempdir()
    if len(os.path.join(folder, inside, _SOCKET_NAME).encode()) <= SOCKET_PATH_MAX:
        return folder
    return "/tmp"


#: A kernel lives as long as its notebook: its CPU limit counts every cell, and it may import
#: PyTorch, which maps a few GiB of address space on import.
KERNEL_LIMITS = Limits(cpu_seconds=1800, memory_bytes=8 * GiB)


class SandboxedKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, with the kernel started in a bubblewrap sandbox."""

    read_only_paths = List(Unicode(), config=True, help="Extra host paths the kernel may read, "
                           "each bound at its own path (the course_utils folder, not its parent).")
    read_write_paths = List(Unicode(), config=True, help="Extra host paths the kernel may write.")
    sandbox_env = Dict(Unicode(), config=True, help="Environment variables for the kernel, on top "
                       "of the sandbox's allow-list (PATH, HOME, LANG, thread counts).")
    limits = Dict(config=True, help="Limits fields that differ from KERNEL_LIMITS, e.g. "
                  "{'memory_bytes': 2**32}.")

    _ipc_folder: str | None = None
    _cgroup: PidsCgroup | None = None

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"  # see the module doc: a signal would kill bwrap
        return spec

    def sandbox_limits(self) -> Limits:
        fields = {name: getattr(KERNEL_LIMITS, name) for name in KERNEL_LIMITS.__dataclass_fields__}
        unknown = set(self.limits) - set(fields)
        if unknown:
            raise ValueError(f"SandboxedKernelManager.limits: got {sorted(unknown)}; "
                             f"it takes {sorted(fields)}")
        return Limits(**{**fields, **self.limits})

    async def _async_pre_start_kernel(self, **kw):
        if self.transport != "ipc":
            raise ValueError(f"SandboxedKernelManager.transport: got {self.transport!r}; it needs "
                             f"'ipc' (the sandbox has no network for tcp)")
        if self._ipc_folder is None:  # kept across restarts, removed by cleanup_resources
            self._ipc_folder = tempfile.mkdtemp(prefix="sandboxed-kernel-", dir=ipc_parent())
            self.connection_file = os.path.join(self._ipc_folder, "kernel.json")
            self.ip = os.path.join(self._ipc_folder, "kernel-ipc")  # sockets: kernel-ipc-<port>
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        cwd = kw.get("cwd")
        cwd = os.path.abspath(cwd) if cwd else None
        limits = self.sandbox_limits()
        sandbox = python_sandbox(
            read_only=[*self.read_only_paths, *([cwd] if cwd else [])],
            read_write=[self._ipc_folder, *self.read_write_paths],
            cwd=cwd or HOME,
            # Its parent inside is bwrap's pid 1: ipykernel then neither polls it (the sandbox
            # dies with the grader anyway) nor prints its "Ctrl-C will not work" note.
            env={"JPY_PARENT_PID": "1", **self.sandbox_env},
            limits=limits,
        )
        self._cgroup = PidsCgroup.create(limits.processes)
        self.log.info("Sandboxed kernel: %s", process_limit_note(limits, self._cgroup))
        kw["env"] = {"PATH": "/usr/bin:/bin"}  # bwrap's own; the kernel's is set by --setenv
        try:
            await super()._async_launch_kernel(sandbox_command(kernel_cmd, sandbox, self._cgroup), **kw)
        except Exception:
            self._remove_cgroup()
            raise

    def _remove_cgroup(self) -> None:
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        self._remove_cgroup()
        if not restart and self._ipc_folder is not None:
            shutil.rmtree(self._ipc_folder, ignore_errors=True)
            self._ipc_folder = None

    # AsyncKernelManager's public names point at KernelManager's functions: point them at ours.
    pre_start_kernel = _async_pre_start_kernel
    _launch_kernel = _async_launch_kernel
    cleanup_resources = _async_cleanup_resources
