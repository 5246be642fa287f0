"""Fixtures for the real-browser tests: JupyterLab from .venv on 127.0.0.1, Debian's Chromium.

JupyterLab serves a *temporary copy* of the course (notebooks/, assignments/ and the nbgrader
config), so running cells in the page can never write outputs into the committed notebooks; a
lesson with smoke parameters (lesson 05) gets them injected in the copy, as the headless
notebook tests do. It runs the way `make lab` runs it: the course's jupyter_config/ on
JUPYTER_CONFIG_PATH (the student's configuration: ``jupyter_lab``; the instructor's:
``instructor_lab``) and the environment's bin folder first on PATH.
Chromium is Debian's (/usr/bin/chromium) driven by Playwright for Python; Playwright's own
browser download is never used. axe-core comes from npm, installed by `make test` into
.venv/node (the venv of the Python running the tests).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from website.lessons import inject_smoke_parameters  # noqa: E402 - tests/conftest.py puts ROOT on sys.path

STUDENT_CONFIG = [ROOT / "jupyter_config" / "student", ROOT / "jupyter_config" / "course"]
INSTRUCTOR_CONFIG = [ROOT / "jupyter_config" / "course"]
AXE = Path(sys.prefix) / "node" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = (
    "Install Debian's Chromium (as root): apt-get update && apt-get install -y chromium chromium-driver"
)
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = ROOT / "artifacts" / "browser-screenshots"  # git-ignored


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        message = f"the browser tests need {CHROMIUM}, which is missing. {INSTALL_HINT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: failing instead of skipping)")
        pytest.skip(message)
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """artifacts/screenshots/ (each screenshot overwrites its own file: two test processes may
    write here at once, so nothing is cleared)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def course_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course")
    for folder in ("notebooks", "assignments"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, root / folder)
    for name in ("nbgrader_config.py",):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, root / name)
    for path in (root / "notebooks").glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        if notebook.metadata.get("course", {}).get("smoke_parameters"):
            inject_smoke_parameters(notebook, tmp_path_factory.mktemp(path.stem))
            nbformat.write(notebook, path)
    return root


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.exists():
        message = f"axe-core is missing ({AXE}): `make test` installs it with npm into .venv/node"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: failing instead of skipping)")
        pytest.skip(message)
    return AXE


def start_lab(course_copy: Path, config_path: list[Path], config: Path):
    """A JupyterLab server on 127.0.0.1 with a token, as `make lab` starts it; ``(server,
    base_url, token)``. ``config`` is a fresh folder for its user settings and runtime files."""
    settings = config / "lab-user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No news or update checks (no internet here) and no toasts over the page.
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # Every cell in the DOM, so the test can read every output (JupyterLab 4 virtualises).
    notebook_settings = config / "lab-user-settings" / "@jupyterlab" / "notebook-extension"
    notebook_settings.mkdir(parents=True)
    (notebook_settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(config / "runtime"),
               JUPYTER_CONFIG_PATH=os.pathsep.join(str(path) for path in config_path),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    log = open(config / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course_copy}",
         f"--LabApp.user_settings_dir={config / 'lab-user-settings'}",
         f"--LabApp.workspaces_dir={config / 'workspaces'}"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=course_copy, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    server.log_file = log
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/api/status?token={token}", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"JupyterLab did not start; its log:\n{(config / 'server.log').read_text()[-3000:]}")
        time.sleep(0.5)
    return server, base_url, token


def stop_lab(server) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    server.log_file.close()


@pytest.fixture(scope="session")
def jupyter_lab(course_copy, tmp_path_factory):
    """The student's JupyterLab (`make lab`); yields ``(base_url, token)``."""
    server, base_url, token = start_lab(course_copy, STUDENT_CONFIG,
                                        tmp_path_factory.mktemp("jupyter-config"))
    try:
        yield base_url, token
    finally:
        stop_lab(server)


@pytest.fixture(scope="session")
def instructor_lab(course_copy, tmp_path_factory):
    """The instructor's JupyterLab (`make lab-instructor`); yields ``(base_url, token)``."""
    server, base_url, token = start_lab(course_copy, INSTRUCTOR_CONFIG,
                                        tmp_path_factory.mktemp("instructor-config"))
    try:
        yield base_url, token
    finally:
        stop_lab(server)


@pytest.fixture(scope="module")
def browser(chromium_executable, tmp_path_factory):
    """A Chromium browser context with a fresh user-data dir, closed after each test module.

    Not session-wide: while Playwright's sync API is open its event loop counts as running in
    this thread, so every later test that calls ``asyncio.run`` (the hub client, the sandboxed
    kernel tests) would fail with "cannot be called from a running event loop"."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=chromium_executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()
