"""A Jupyter kernel in the sandbox: notebooks execute through nbclient and nbgrader's Execute,
the submission's neighbours and the host's network are out of reach, and interrupt and
shutdown work and leave nothing behind (the ``host`` fixture checks)."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import tempfile

import nbformat
import pytest
from course_utils.instructor.sandbox.kernel import KERNEL_LIMITS, SandboxedKernelManager, ipc_parent
from nbclient import NotebookClient
from sandbox_checks import MARKER, survivors

def notebook(*sources: str):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])


def text(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs) + "".join(
        f"{output.ename}: {output.evalue}" for output in cell.outputs if output.output_type == "error")


def kernel_folders() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "sandboxed-kernel-*")))


@pytest.fixture
def temporary_folder(monkeypatch):
    """A temporary folder of this test's own (``tempfile.gettempdir()``), so that the kernel
    folders it finds are this test's."""
    folder = tempfile.mkdtemp(prefix="kernel-test-", dir="/tmp")
    monkeypatch.setattr(tempfile, "tempdir", folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def submission(tmp_path):
    """A student's folder, with another student's work and a secret beside it (not inside)."""
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "data.txt").write_text("alice's data")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "answers.txt").write_text("bob's answers")
    (tmp_path / "secret.txt").write_text("the solutions")
    return tmp_path / "alice"


@pytest.mark.slow
def test_a_notebook_runs_sandboxed_and_cannot_reach_out_yet_interrupts_work(submission, host_server, host,
                                                                            temporary_folder):
    port, accepted = host_server
    nb = notebook(
        "print(open('data.txt').read())",
        f"try:\n    open({str(submission.parent / 'secret.txt')!r})\nexcept OSError as e:\n    print(type(e).__name__)",
        "import os\nprint(sorted(os.listdir('..')))",
        f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
        f"except OSError as e:\n    print(type(e).__name__)",
        "while True:\n    pass",  # stopped by nbclient's timeout, which interrupts the kernel
        "print('the kernel survived the interrupt')",
    )
    client = NotebookClient(nb, kernel_manager_class=SandboxedKernelManager, timeout=5,
                            interrupt_on_timeout=True, allow_errors=True,
                            resources={"metadata": {"path": str(submission)}})
    client.execute()
    outputs = [text(cell).strip() for cell in nb.cells]
    assert outputs[0] == "alice's data"
    assert outputs[1] == "FileNotFoundError"
    assert outputs[2] == "['alice']"  # the parent folder holds only the bound submission
    assert outputs[3] == "ConnectionRefusedError" and accepted == []
    assert outputs[4].startswith("KeyboardInterrupt")
    assert outputs[5] == "the kernel survived the interrupt"
    assert not kernel_folders()  # sockets and connection file removed


@pytest.mark.slow
def test_a_temporary_folder_too_deep_for_a_socket_address_still_runs_kernels(submission, host, monkeypatch):
    deep = submission.parent / ("d" * 60) / ("e" * 60)  # > 107 bytes with a socket's name
    deep.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    assert ipc_parent() == "/tmp"
    before = set(glob.glob("/tmp/sandboxed-kernel-*"))
    nb = notebook("print(6 * 7)")
    NotebookClient(nb, kernel_manager_class=SandboxedKernelManager, timeout=30,
                   resources={"metadata": {"path": str(submission)}}).execute()
    assert text(nb.cells[0]).strip() == "42"
    assert set(glob.glob("/tmp/sandboxed-kernel-*")) <= before  # its folder in /tmp, removed
    monkeypatch.setattr(tempfile, "tempdir", "/var/tmp")
    assert ipc_parent("course-grading-xxxxxxxx") == "/var/tmp"  # short enough: kept


@pytest.mark.slow
def test_nbgrader_execute_runs_notebooks_in_the_sandboxed_kernel(submission, monkeypatch, host):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    from nbgrader.preprocessors import Execute

    class SandboxedExecute(Execute):  # configuration cannot do it: Execute passes its own class
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
            super().__init__(*args, **kwargs)

    nb = notebook("import os, socket\n"
                  "print(sorted(os.environ), [name for _, name in socket.if_nameindex()], os.getcwd())")
    SandboxedExecute(timeout=30).preprocess(nb, {"metadata": {"path": str(submission)}})
    printed = text(nb.cells[0])
    assert "['lo']" in printed and str(submission) in printed
    assert "GRADER_SECRET_TOKEN" not in printed


@pytest.mark.slow
@pytest.mark.parametrize("now", [False, True], ids=["asked to shut down", "killed"])
def test_shutdown_ends_everything_the_kernel_started(now, submission, host):
    async def scenario():
        manager = SandboxedKernelManager()
        await manager.start_kernel(cwd=str(submission))
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            # a daemon that leaves the kernel's process group and session, as an escape would
            await client.execute_interactive(
                "import subprocess, sys\n"
                f"subprocess.Popen([sys.executable, '-c', '# {MARKER}\\nimport time; time.sleep(600)'],"
                " start_new_session=True)", timeout=30)
            assert manager.kernel_spec.interrupt_mode == "message" and manager.transport == "ipc"
            for _ in range(50):  # the daemon is running, and the host fixture would see it
                if any(MARKER in found for found in survivors(set())):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the daemon did not start")
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=now)

    asyncio.run(scenario())  # host: the daemon died with the sandbox, the cgroup is gone


def test_limits_are_configurable_by_name_and_checked():
    manager = SandboxedKernelManager(limits={"memory_bytes": 2**32})
    assert manager.sandbox_limits().memory_bytes == 2**32
    assert manager.sandbox_limits().cpu_seconds == KERNEL_LIMITS.cpu_seconds
    with pytest.raises(ValueError, match=r"SandboxedKernelManager.limits: got \['memory'\]"):
        SandboxedKernelManager(limits={"memory": 1}).sandbox_limits()
