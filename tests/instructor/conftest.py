"""Shared by the sandbox tests: they need a working bubblewrap (skipped with the install command
where it is missing, failed in CI), and :func:`host` checks that a test left the host as it was."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import psutil
import pytest
from course_utils.instructor.sandbox.bubblewrap import sandbox_available
from sandbox_checks import sandbox_cgroups, survivors


@pytest.fixture(autouse=True)
def bubblewrap():
    works, message = sandbox_available()
    if not works:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the sandbox tests need bubblewrap: {message}")
        pytest.skip(f"the sandbox tests need bubblewrap: {message}")


@pytest.fixture
def host():
    """After the test: no process of a sandbox is left, nor a cgroup, and the disk and memory
    are as they were, give or take 1 GiB of disk and 2 GiB of memory (other work shares this
    machine; the attacks try 10 GB files and 50 GB allocations)."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    disk, memory = shutil.disk_usage("/").used, psutil.virtual_memory().available
    yield
    deadline = time.monotonic() + 10
    while survivors(before) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert survivors(before) == []
    assert sandbox_cgroups() == []
    assert shutil.disk_usage("/").used - disk < 2**30
    assert memory - psutil.virtual_memory().available < 2 * 2**30


@pytest.fixture
def host_server():
    """A TCP server on the host's 127.0.0.1 that records every connection it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted, done = [], threading.Event()

    def accept_until_done():
        while not done.is_set():
            try:
                accepted.append(server.accept())
            except TimeoutError:
                pass

    listener = threading.Thread(target=accept_until_done)
    listener.start()
    yield server.getsockname()[1], accepted
    done.set()
    listener.join()
    server.close()
