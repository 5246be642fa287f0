"""What the bubblewrap sandbox adds to start-up, in seconds (min / median / max of a few runs):

* a Jupyter kernel, from ``start_kernel`` until it answers ``kernel_info``: jupyter_client's
  ``AsyncKernelManager`` over TCP (what nbgrader uses), the same over ``ipc``, and
  :class:`~course_utils.instructor.sandbox.kernel.SandboxedKernelManager`;
* the checking process, ``python -I -S`` that imports numpy: directly, and in
  :func:`~course_utils.instructor.sandbox.checking_sandbox.checking_sandbox` through ``run``;
* ``/bin/true``, directly and in a sandbox (bwrap, prlimit and, as root, the pids cgroup).

    .venv/bin/python benchmarks/bench_sandbox.py [--runs 7]

The variants take turns, run after run, so that other work on the machine slows them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jupyter_client.manager import AsyncKernelManager  # noqa: E402

from course_utils.instructor.sandbox.checking_sandbox import (  # noqa: E402
    base_python,
    checking_command,
    checking_sandbox,
)
from course_utils.instructor.sandbox.bubblewrap import Sandbox, run, sandbox_available  # noqa: E402
from course_utils.instructor.sandbox.kernel import SandboxedKernelManager  # noqa: E402


def kernel_start(manager_class, **traits) -> float:
    async def start() -> float:
        began = time.perf_counter()
        manager = manager_class(**traits)
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=120)
            return time.perf_counter() - began
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    return asyncio.run(start())


def timed(command, **kwargs) -> float:
    began = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - began


def sandboxed(command, sandbox) -> float:
    began = time.perf_counter()
    result = run(command, sandbox, timeout=120)
    assert result.ok, result.stderr.decode()
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    works, message = sandbox_available()
    if not works:
        print(f"no sandbox here: {message}")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "check.py"
        script.write_text("import numpy\n")
        checker = checking_sandbox(folder)  # its ldd look-up is made once, here
        numpy_parent = str(Path(importlib.util.find_spec("numpy").origin).parents[1])
        variants = {
            "kernel, AsyncKernelManager (tcp)": lambda: kernel_start(AsyncKernelManager),
            "kernel, AsyncKernelManager (ipc)": lambda: kernel_start(AsyncKernelManager, transport="ipc"),
            "kernel, SandboxedKernelManager": lambda: kernel_start(SandboxedKernelManager),
            "python -I -S + numpy, direct": lambda: timed([base_python(), "-I", "-S", "-c",
                                                           "import sys; sys.path.append(sys.argv[1]); import numpy",
                                                           numpy_parent]),
            "python -I -S + numpy, checker sandbox": lambda: sandboxed(
                checking_command(str(script), install_guard=False), checker),
            "python -I -S + numpy, checker sandbox + guard": lambda: sandboxed(
                checking_command(str(script)), checker),
            "/bin/true, direct": lambda: timed(["/bin/true"]),
            "/bin/true, sandbox": lambda: sandboxed(["/bin/true"], Sandbox()),
        }
        seconds = {name: [] for name in variants}
        for _ in range(runs):
            for name, variant in variants.items():
                seconds[name].append(variant())
    print(f"{message}\n{runs} runs each; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, values in seconds.items():
        print(f"{name:48s} min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
