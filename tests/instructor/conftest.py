"""Shared by the instructor tests.

* ``sandbox_works``: for the tests where a sandbox runs (a module uses it with
  ``pytestmark = pytest.mark.usefixtures("sandbox_works")``): skipped with the install command
  where bubblewrap is missing, failed in CI.
* ``released_course``: one course per session with every assignment released; tests take copies
  (:func:`nbgrader_course.copy_course`).
* ``graded_class``: the class of :mod:`class_submissions`, collected, autograded by serial
  ``nbgrader autograde``, given feedback and exported, once per session.
* ``host``, ``host_server``: what a sandbox test checks on the host afterwards.
"""

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


def require_sandbox() -> None:
    """Skip (fail under CI=true) with the install command where bubblewrap cannot run."""
    works, message = sandbox_available()
    if not works:
        if os.environ.get("CI") == "true":
            pytest.fail(f"this test runs a sandbox and needs bubblewrap: {message}")
        pytest.skip(f"this test runs a sandbox and needs bubblewrap: {message}")


@pytest.fixture
def sandbox_works():
    require_sandbox()


@pytest.fixture
def host(sandbox_works):
    """For a test that runs a sandbox (so bubblewrap must work).
    After the test: no process of a sandbox is left, nor a cgroup, and the disk and memory
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


@pytest.fixture(scope="session")
def released_course(tmp_path_factory):
    """A course with every assignment released and a gradebook that knows them: take copies."""
    from nbgrader_course import new_course

    return new_course(tmp_path_factory.mktemp("released") / "course")


@pytest.fixture(scope="session")
def graded_class(released_course, tmp_path_factory):
    """The class of :mod:`class_submissions` as an instructor grades it, with the repository's
    ``nbgrader_config.py``: a1 and a2 collected from a learning platform's zip with ``nbgrader
    zip_collect``, a3 put where ``nbgrader collect`` would; ``nbgrader autograde`` and
    ``generate_feedback`` per assignment, then ``nbgrader export``. Returns the course folder,
    the seconds each autograde took, the students per assignment and nbgrader's logs."""
    import time

    from class_submissions import submissions
    from nbgrader_course import copy_course, lms_download, nbgrader, submit

    require_sandbox()
    course = copy_course(released_course, tmp_path_factory.mktemp("class") / "course")
    by_assignment = submissions(course)
    timings, logs = {}, {}
    for assignment, notebooks in by_assignment.items():
        if assignment == "a3_backprop":
            submit(course, assignment, notebooks)
        else:
            lms_download(course, assignment, notebooks)
            nbgrader(course, "zip_collect", assignment)
        start = time.perf_counter()
        logs[assignment] = nbgrader(course, "autograde", assignment).stderr
        timings[assignment] = time.perf_counter() - start
        nbgrader(course, "generate_feedback", assignment)
    nbgrader(course, "export")
    return {"path": course, "timings": timings, "logs": logs,
            "students": {assignment: sorted(notebooks) for assignment, notebooks in by_assignment.items()}}
