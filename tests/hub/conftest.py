"""The course hub for the tests: set up once per run with deploy/jupyterhub/course_hub.py, in a
temporary folder, with Unix users of its own; removed again at the end (users, homes,
processes, folders).

Needs root, Debian's ``/usr/bin/python3.11`` with ``venv``, Node.js, bubblewrap working for an
unprivileged user, and configurable-http-proxy in ``.venv/node`` (``make test`` installs it).
Locally a missing piece skips these tests with the command that installs it; under ``CI=true``
it fails them. ``COURSE_HUB_TEST_DIR=/some/world-readable/dir`` keeps the shared environment
there between runs (it is rebuilt only when the course package or its requirements change).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "jupyterhub"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "tests" / "instructor"))  # nbgrader_course: the solutions' code and points

import course_hub
from hub_client import HubUser, Steps, admin_session, new_token

ARTIFACTS = ROOT / "artifacts" / "hub"  # git-ignored: screenshots and the timing table
STARTED = time.time()
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"
INSTALL_HINT = ("as root: apt-get install python3.11-venv nodejs npm bubblewrap, then `make test` "
                "(it installs configurable-http-proxy into .venv/node)")


def base_python() -> str:
    for candidate in ("/usr/bin/python3.11", "/usr/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return "/usr/bin/python3.11"


def proxy_next_to_this_venv() -> Path:
    """configurable-http-proxy as `make test` installs it: <venv>/node/node_modules/.bin."""
    venv = Path(sys.executable).parent.parent  # not resolved: .venv/bin/python is a symlink
    return venv / "node" / "node_modules" / ".bin" / "configurable-http-proxy"


def missing_prerequisites() -> list[str]:
    missing = []
    if os.geteuid() != 0:
        missing.append("root (the hub runs each user's server as that Unix user)")
    for tool in ("useradd", "userdel", "runuser", "node"):
        if shutil.which(tool) is None:
            missing.append(tool)
    python = base_python()
    probe = subprocess.run([python, "-c", "import sys, venv, ensurepip; assert sys.version_info >= (3, 11)"],
                           check=False, capture_output=True)
    if probe.returncode != 0:
        missing.append(f"{python} >= 3.11 with venv and ensurepip")
    if not proxy_next_to_this_venv().exists():
        missing.append(f"configurable-http-proxy at {proxy_next_to_this_venv()}")
    userns = subprocess.run([RUNUSER, "-u", "nobody", "--", "bwrap", "--unshare-user", "--ro-bind", "/", "/",
                             "true"], check=False, capture_output=True, text=True) if shutil.which("bwrap") else None
    if userns is None or userns.returncode != 0:
        missing.append("bubblewrap usable by an unprivileged user (the instructor's autograde sandbox)"
                       + (f": {userns.stderr.strip()[:200]}" if userns is not None else ""))
    return missing


def free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


class CourseHub:
    """The running hub: its settings, the admin service's session, one :class:`HubUser` per
    user with their own token, and the timing table."""

    def __init__(self, settings: course_hub.Settings, steps: Steps):
        self.settings = settings
        self.steps = steps
        self.url = settings.url  # what a browser opens
        self.address = f"http://{settings.ip}:{settings.port}"  # where Python connects
        self.subdomain_host = f"{settings.public_host}:{settings.port}" if settings.subdomains else None
        self.admin = admin_session(self.address, course_hub.admin_token(settings))
        self.users: dict[str, HubUser] = {}
        self.results: dict = {}

    @property
    def instructor(self) -> HubUser:
        return self.users[self.settings.instructor]

    @property
    def students(self) -> list[HubUser]:
        return [self.users[name] for name in self.settings.students]

    def login_token(self, name: str) -> HubUser:
        token = new_token(self.admin, self.address, name)
        self.users[name] = HubUser(self.address, name, token, self.subdomain_host)
        return self.users[name]

    def as_user(self, user: str, *command: str, cwd: str = "/") -> subprocess.CompletedProcess:
        """Run ``command`` as a Unix user with the environment their server gives them (what
        their terminal or kernel could do)."""
        layers = str(self.settings.etc / "common")
        env = {"PATH": f"{self.settings.env}/bin:/usr/bin:/bin", "HOME": str(self.settings.home(user)),
               "LANG": "C.UTF-8", "JUPYTER_CONFIG_PATH": layers,
               "COURSE_HUB_COURSE_ID": self.settings.course_id, "COURSE_HUB_EXCHANGE": self.settings.exchange}
        return subprocess.run([RUNUSER, "-u", user, "--", *command], cwd=cwd, env=env,
                              check=False, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def course_hub_running():
    """Set up the hub with an instructor and three students, start it, give every user a
    token and start the four servers through the hub's API; remove everything afterwards."""
    missing = missing_prerequisites()
    if missing:
        message = f"the hub tests need {'; '.join(missing)}. {INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: failing instead of skipping)")
        pytest.skip(message)
    kept = os.environ.get("COURSE_HUB_TEST_DIR")
    folder = Path(kept) if kept else Path(tempfile.mkdtemp(prefix="course-hub-test-"))
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # every user walks through it to the shared environment and their home
    tag = secrets.token_hex(2)
    port, proxy_api_port, hub_api_port = free_ports(3)
    settings = course_hub.Settings(
        dir=str(folder / "hub"), python=base_python(), proxy=str(proxy_next_to_this_venv()),
        homes=str(folder / "home"), instructor=f"ch{tag}inst",
        students=[f"ch{tag}stu{n}" for n in (1, 2, 3)], light=True,
        port=port, proxy_api_port=proxy_api_port, hub_api_port=hub_api_port,
    )
    steps = Steps()
    try:
        with steps.timed("set-up: shared environment, users, exchange, course folder"):
            for part, seconds in course_hub.setup(settings).items():
                steps.rows.append((f"  set-up: {part}", seconds))
        with steps.timed("hub start (until /hub/api answers)"):
            course_hub.start(settings)
        hub = CourseHub(settings, steps)
        with steps.timed("a token per user (POST /hub/api/users/{name}/tokens, admin service)"):
            for name in settings.users:
                hub.login_token(name)
        with steps.timed("4 servers started together (POST /hub/api/users/{name}/server)"):
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(len(hub.users)) as pool:
                seconds = dict(zip(hub.users, pool.map(lambda user: user.start_server(), hub.users.values())))
        for name, value in seconds.items():
            steps.rows.append((f"  server of {name} ready after", round(value, 2)))
        yield hub
    finally:
        course_hub.teardown(settings, purge=not kept)
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            shutil.rmtree(folder / "home", ignore_errors=True)
        write_timings(steps)
        if "hub" in locals() and hub.results:
            (ARTIFACTS / "results.json").write_text(json.dumps(hub.results, indent=1, default=str))


def write_timings(steps: Steps) -> None:
    if not steps.rows:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps(steps.rows, indent=1))
    width = max(len(name) for name, _ in steps.rows)
    (ARTIFACTS / "timings.txt").write_text(
        "\n".join(f"{name:<{width}}  {seconds:8.2f} s" for name, seconds in steps.rows) + "\n")


def pytest_terminal_summary(terminalreporter):
    table = ARTIFACTS / "timings.txt"
    if table.exists() and table.stat().st_mtime > STARTED:
        terminalreporter.section("course hub: seconds per step")
        terminalreporter.write(table.read_text())
