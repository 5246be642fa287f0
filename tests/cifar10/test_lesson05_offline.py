"""Lesson 05 as shipped (``FAKE_DATA = False``) on a machine that cannot download CIFAR-10: Run All
stops at the data cell, and what the student reads first is what to do, not a traceback.

The notebook runs headless with only ``DATA_DIR`` pointed at an empty folder (so a copy of
CIFAR-10 on the machine is not found) and the download address at a closed port on 127.0.0.1
(``COURSE_CIFAR10_URL``, the course's mirror setting), so the download fails at once, as it does
offline, and nothing is ever fetched.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course_utils.cifar10 import data as cifar

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "notebooks" / "05_cnn_on_cifar10.ipynb"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the with block ends


@pytest.mark.slow
def test_offline_run_all_stops_at_the_data_with_what_to_do_first_and_no_traceback(
        tmp_path, monkeypatch):
    monkeypatch.setenv(cifar.MIRROR_ENV, f"http://127.0.0.1:{closed_port()}/")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(LESSON, as_version=4)
    parameters = next(index for index, cell in enumerate(notebook.cells)
                      if "parameters" in cell.metadata.get("tags", []))
    assert "FAKE_DATA = False" in notebook.cells[parameters].source  # as shipped
    notebook.cells.insert(parameters + 1,
                          nbformat.v4.new_code_cell(f"DATA_DIR = {str(tmp_path / 'data')!r}"))
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(LESSON.parent)}})
    start = time.perf_counter()
    with pytest.raises(CellExecutionError):
        client.execute()
    seconds = time.perf_counter() - start

    failed = [(index, output) for index, cell in enumerate(notebook.cells)
              for output in cell.get("outputs", []) if output.output_type == "error"]
    assert len(failed) == 1
    index, error = failed[0]
    assert "load_cifar10(DATA_DIR" in notebook.cells[index].source, "stopped elsewhere"
    assert [output.output_type for output in notebook.cells[index].outputs] == ["error"]
    shown = ANSI.sub("", "\n".join(error.traceback)).splitlines()
    print("\n".join(shown))
    assert shown[0].startswith("DownloadError: CIFAR-10 could not be downloaded from http://127.0.0.1"), shown[0]
    assert shown[0].endswith("What to do:"), shown[0]
    assert "set FAKE_DATA = True in its first cell" in shown[1], shown[1]
    assert shown[2].startswith("* Or bring the real data:"), shown[2]
    assert str((tmp_path / "data" / cifar.ARCHIVE_NAME).resolve()) == shown[3].strip()
    assert not any(marker in line for line in shown
                   for marker in ("Traceback", "File ", "urllib", "---->", "-> ")), shown
    assert len(shown) <= 8, f"{len(shown)} lines"
    assert seconds < 60, f"the offline download took {seconds:.0f} s to fail"
