"""What the sandbox tests look for on the host after a sandbox ran: leftover processes and cgroups."""

from __future__ import annotations

import os

import psutil
from course_utils.instructor.sandbox.pids_cgroup import pids_hierarchy

#: Put in every attack's code, so that a surviving process can be found by its command line.
MARKER = "sandbox-attack-marker"


def survivors(before: set[int]) -> list[str]:
    """Processes that are new descendants of this one, or run an attack (see MARKER)."""
    found = [f"{p.pid} {p.name()}" for p in psutil.Process().children(recursive=True)
             if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE]
    for process in psutil.process_iter(["pid", "cmdline"]):
        if MARKER in " ".join(process.info["cmdline"] or []) and process.pid != os.getpid():
            found.append(f"{process.pid} {' '.join(process.info['cmdline'])[:80]}")
    return found


def sandbox_cgroups() -> list[str]:
    folder = pids_hierarchy()
    mine = f"course-sandbox-{os.getpid()}-"  # this test process's, not another's
    return [name for name in os.listdir(folder) if name.startswith(mine)] if folder else []
