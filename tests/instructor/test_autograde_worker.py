"""The autograde's parts that can be checked without grading a course: stopping kernels in the
background (the same grace period and escalation as jupyter_client), the configuration that
puts it into nbgrader's Execute preprocessor without changing anything else, and a failing
worker costing only its own student."""

from __future__ import annotations

import asyncio
import concurrent.futures
import subprocess
import sys
import time

import psutil
from course_utils.instructor import autograde_worker
from course_utils.instructor.autograde import StudentResult, build_parser, grade_student
from course_utils.instructor.autograde_worker import (
    BackgroundShutdownKernelManager,
    _reap,
    failure_reason,
    use_background_shutdown,
    worker_db_url,
)


def python(body: str, setup: str = "") -> subprocess.Popen:
    """A Python child in its own process group (as kernels are) that runs ``setup``, says so
    (awaited here) and then runs ``body``."""
    code = f"import signal, time\n{setup}\nprint('ready', flush=True)\n{body}"
    process = subprocess.Popen([sys.executable, "-c", code],
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stdout.readline() == "ready\n"
    return process


def test_reap_waits_for_a_process_that_exits_by_itself():
    process = python("time.sleep(0.2)")
    start = time.monotonic()
    _reap(process, process.pid, 10.0)
    assert process.returncode == 0 and time.monotonic() - start < 5


def test_reap_sends_sigterm_after_half_the_wait():
    process = python("time.sleep(60)")
    start = time.monotonic()
    _reap(process, process.pid, 1.0)
    assert process.returncode == -15 and 0.4 < time.monotonic() - start < 5


def test_reap_kills_a_process_that_ignores_sigterm():
    process = python("time.sleep(60)", setup="signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    start = time.monotonic()
    _reap(process, process.pid, 1.0)
    assert process.returncode == -9 and 0.9 < time.monotonic() - start < 5


def test_a_kernel_is_asked_to_shut_down_and_reaped_by_a_thread(monkeypatch):
    handed_over, reap = [], autograde_worker._reap

    def recording_reap(process, group, wait):
        handed_over.append((process, group, wait))
        reap(process, group, wait)

    monkeypatch.setattr(autograde_worker, "_reap", recording_reap)

    async def run():
        manager = BackgroundShutdownKernelManager(kernel_name="python3")
        await manager.start_kernel()
        process = manager.provisioner.process
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        client.stop_channels()
        await manager.shutdown_kernel()
        return manager, process

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own event loop, whatever pytest runs
        manager, process = pool.submit(asyncio.run, run()).result(timeout=120)
    assert not manager.has_kernel  # the manager let go of the process ...
    assert [entry[0] for entry in handed_over] == [process]  # ... to the reaping thread
    assert handed_over[0][2] == manager.shutdown_wait_time
    deadline = time.monotonic() + 10
    while process.returncode is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.returncode == 0  # it exited on the shutdown request: no SIGTERM, no SIGKILL
    assert not psutil.pid_exists(process.pid)  # and was reaped


def test_only_nbgraders_execute_is_replaced_and_its_configuration_still_applies():
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute, LimitOutput
    from traitlets.config import Config

    config = Config()
    config.Execute.timeout = 20
    use_background_shutdown(config)
    default = Autograde.autograde_preprocessors.default()
    replaced = config.Autograde.autograde_preprocessors
    assert len(replaced) == len(default)
    assert [p for p in replaced if p not in default] == [replaced[default.index(Execute)]]
    execute = replaced[default.index(Execute)](config=config)
    assert isinstance(execute, Execute) and type(execute).__name__ == "Execute"
    assert execute.timeout == 20 and execute.kernel_manager_class is BackgroundShutdownKernelManager

    own = Config()
    own.Autograde.autograde_preprocessors = ["nbgrader.preprocessors.Execute", LimitOutput]  # kept
    use_background_shutdown(own)
    first, second = own.Autograde.autograde_preprocessors
    assert first is not Execute and issubclass(first, Execute) and second is LimitOutput

    extended = Config()  # c.Autograde.autograde_preprocessors.append(...) in a course's config
    extended.Autograde.autograde_preprocessors.append(LimitOutput)
    use_background_shutdown(extended)
    assert len(extended.Autograde.autograde_preprocessors) == len(default) + 1
    assert extended.Autograde.autograde_preprocessors[-1] is LimitOutput
    assert Execute not in extended.Autograde.autograde_preprocessors


def test_sqlite_gradebooks_wait_for_each_others_writes():
    assert worker_db_url("sqlite:///gradebook.db") == "sqlite:///gradebook.db?timeout=60"
    assert worker_db_url("sqlite:///g.db?mode=rw") == "sqlite:///g.db?mode=rw&timeout=60"
    assert worker_db_url("postgresql://u:p@127.0.0.1/c") == "postgresql://u:p@127.0.0.1/c"


def test_failure_reasons_are_explained():
    log = "[INFO] Executing\nTraceback (most recent call last):\nnbclient.exceptions.DeadKernelError: Kernel died\n"
    assert failure_reason(log).startswith("the kernel died")
    assert failure_reason("ValueError: bad\n") == "ValueError: bad"
    assert failure_reason("") == "nbgrader failed without a message"


class BrokenWorker:
    """Stands in for a grading process that misbehaves in ``ask``."""

    def __init__(self, ask):
        self._ask, self.stopped = ask, False

    def ask(self, request, timeout, what):
        return self._ask()

    def stop(self):
        self.stopped = True


def test_a_worker_that_breaks_fails_its_student_only():
    def cannot_start():
        raise OSError(12, "Cannot allocate memory")

    for ask, words in [(cannot_start, "Cannot allocate memory"), (lambda: {"success": True}, "KeyError"),
                       (lambda: {"stopped": "the grading process died (exit -9)"}, "died (exit -9)")]:
        worker = BrokenWorker(ask)
        result = grade_student(worker, "a2_pooling", "ada", 1.5, timeout=10)
        assert isinstance(result, StudentResult) and result.status == "failed", result
        assert words in result.reason and (result.assignment, result.student, result.submitted) == ("a2_pooling", "ada", 1.5)


def test_the_command_line_takes_several_assignments_and_students_either_way():
    args = build_parser().parse_args(["a1_convolution", "a2_pooling", "--jobs", "2", "--student", "ada", "bob",
                                      "--student", "cy", "--timeout", "30"])
    assert args.assignment == ["a1_convolution", "a2_pooling"] and args.jobs == 2 and args.timeout == 30
    assert args.student == ["ada", "bob", "cy"]
    assert build_parser().parse_args(["a1_convolution"]).student is None
