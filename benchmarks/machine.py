"""One line saying where a benchmark ran, for every table the benchmarks print."""

from __future__ import annotations

import os
import platform


def cpu_name() -> str:
    """The CPU's model name (Linux), else what the platform module knows."""
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe(device: str | None = None) -> str:
    """e.g. 'Intel(R) Xeon(R) Processor, 2 cores, load 1.2; Python 3.11.7; device cpu'."""
    load = f", load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    where = f"; device {device}" if device else ""
    return f"{cpu_name()}, {os.cpu_count()} cores{load}; Python {platform.python_version()}{where}"
