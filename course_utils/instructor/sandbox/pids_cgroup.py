"""A pids cgroup per sandbox: the process limit that holds for root too.

``RLIMIT_NPROC`` limits a user's processes, but the kernel never applies it to uid 0, and
graders run as root in CI. The cgroup ``pids`` controller counts every process and thread in a
cgroup, whoever owns them, and refuses a fork past ``pids.max``. Making a cgroup needs write
access to the cgroup tree (root, usually): cgroup v1's ``pids`` hierarchy, or cgroup v2 where
the pids controller is enabled for the children of this process's cgroup.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass


def pids_hierarchy() -> str | None:
    """The folder of this process's pids cgroup if we may create cgroups in it: cgroup v1's
    ``pids`` hierarchy, or cgroup v2 where the pids controller is enabled for children."""
    with open("/proc/self/mounts") as file:
        mounts = [line.split()[1:4] for line in file]
    with open("/proc/self/cgroup") as file:
        memberships = file.read().splitlines()
    for line in memberships:
        number, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(","):
            for mount_point, kind, options in mounts:
                if kind == "cgroup" and "pids" in options.split(","):
                    return os.path.join(mount_point, path.lstrip("/"))
        if number == "0" and controllers == "":
            for mount_point, kind, options in mounts:
                folder = os.path.join(mount_point, path.lstrip("/"))
                control = os.path.join(folder, "cgroup.subtree_control")
                if kind == "cgroup2" and os.path.exists(control):
                    with open(control) as file:
                        if "pids" in file.read().split():
                            return folder
    return None


PREFIX = "course-sandbox-"


def sweep_orphans() -> list[str]:
    """Remove the sandbox cgroups whose creating process is gone (a grading worker killed for a
    timeout never cleans up after itself), killing what is left in them; return their paths."""
    try:
        parent = pids_hierarchy()
        names = os.listdir(parent) if parent else []
    except OSError:
        return []
    removed = []
    for name in names:
        if not name.startswith(PREFIX):
            continue
        creator = name[len(PREFIX):].split("-")[0]
        if creator.isdigit() and not os.path.exists(f"/proc/{creator}"):
            try:
                PidsCgroup(os.path.join(parent, name)).remove()
                removed.append(os.path.join(parent, name))
            except OSError:
                continue
    return removed


@dataclass
class PidsCgroup:
    """A pids cgroup of its own for one sandbox, capping its processes and threads at
    ``pids.max`` for every user, root included (``RLIMIT_NPROC`` exempts root). Only a user who
    may write to the cgroup tree (root, usually) can make one; :meth:`remove` kills whatever
    is still in it and deletes it."""

    path: str

    @staticmethod
    def create(max_processes: int) -> PidsCgroup | None:
        """A new cgroup with ``pids.max = max_processes``, or ``None`` where we may not make one."""
        try:
            parent = pids_hierarchy()
            if parent is None or not os.access(parent, os.W_OK):
                return None
            sweep_orphans()
            path = os.path.join(parent, f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}")
            os.mkdir(path)
        except OSError:
            return None
        cgroup = PidsCgroup(path)
        try:
            with open(os.path.join(path, "pids.max"), "w") as file:
                file.write(str(max_processes))
        except OSError:
            cgroup.remove()
            return None
        return cgroup

    def enter_command(self, command: Sequence[str]) -> list[str]:
        """``command``, run by a shell that first moves itself into this cgroup, so that every
        process of the sandbox is born in it (``exec`` keeps the pid: the shell becomes bwrap)."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"',
                os.path.join(self.path, "cgroup.procs"), *command]

    def refused_forks(self) -> int:
        """How many forks (or new threads) ``pids.max`` refused."""
        try:
            with open(os.path.join(self.path, "pids.events")) as file:
                return sum(int(count) for key, count in (line.split() for line in file) if key == "max")
        except OSError:
            return 0

    def processes(self) -> list[int]:
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as file:
                return [int(pid) for pid in file.read().split()]
        except OSError:
            return []

    def remove(self, wait: float = 5.0) -> None:
        """SIGKILL whatever is left in the cgroup, then delete it (retrying for ``wait`` seconds,
        as the kernel needs a moment after the last process exits)."""
        deadline = time.monotonic() + wait
        while True:
            for pid in self.processes():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
