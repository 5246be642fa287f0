"""What the sandbox tests look for on the host after a sandbox ran: leftover processes and cgroups,
and connections a submission should never have made."""

from __future__ import annotations

import os
import socket
import threading

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


class Listener:
    """A TCP server on the host's 127.0.0.1 that counts the connections it accepts (a
    submission's "phone home"): ``port`` to aim at, ``connections`` afterwards, ``close()``."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                connection, _ = self.server.accept()
                self.connections += 1
                connection.close()
            except OSError:
                continue

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()
