"""The course on one JupyterHub machine: set up, start, stop and remove it (run as root).

    python3 deploy/jupyterhub/course_hub.py setup [--dir /opt/cnn-course-hub] [--light] ...
    python3 deploy/jupyterhub/course_hub.py run        # the hub in the foreground (Ctrl-C stops it)
    python3 deploy/jupyterhub/course_hub.py start      # in the background, until stop
    python3 deploy/jupyterhub/course_hub.py stop
    python3 deploy/jupyterhub/course_hub.py teardown [--purge]

``make hub`` runs ``setup --light`` and ``run`` (docs/jupyterhub.md).
``setup`` builds, in one folder (``--dir``):

    env/        the shared course environment: a venv from a Python every user can run
                (``--python``, default /usr/bin/python3.11) with JupyterHub, JupyterLab, nbgrader,
                ipywidgets, numpy and the course package -- with torch (a real course) or,
                with ``--light``, without torch and torchvision (assignments only)
    proxy/      configurable-http-proxy from npm (``--proxy PATH`` uses an existing one)
    etc/        the Jupyter config layers: common/ (everyone) and instructor/ (nbgrader's
                formgrader), copied from deploy/jupyterhub/jupyter/
    exchange/   nbgrader's exchange (``--exchange`` to put it elsewhere), with nbgrader's own
                modes, pre-made and owned by the instructor
    state/      root only (0700): settings.json, passwords, the admin service token, the hub's
                database, logs, pid files, and the list of Unix users this set-up created

plus the Unix users (instructor and students, homes 0700) and the instructor's course folder
``~instructor/course`` (the repository's ``nbgrader_config.py``, ``solutions/`` and
``assignments/``). Only the standard library is used: this file runs under any Python 3.11.
Everything it starts or creates is recorded, and ``stop``/``teardown`` undo only that.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LAYERS = HERE / "jupyter"
CONFIG_FILE = HERE / "jupyterhub_config.py"
PROXY_PACKAGE = "configurable-http-proxy@5.3.0"
#: Left out by ``--light``: the grading code of a1-a3 never imports them (lessons 05-06 do).
HEAVY = ("torch", "torchvision")
SETTINGS_VARIABLE = "COURSE_HUB_SETTINGS"


@dataclasses.dataclass
class Settings:
    """Everything the set-up, the hub's config and the tests share; saved as state/settings.json."""

    dir: str
    python: str = "/usr/bin/python3.11"
    env: str = ""  # default: <dir>/env
    proxy: str = ""  # default: <dir>/proxy/node_modules/.bin/configurable-http-proxy
    exchange: str = ""  # default: <dir>/exchange
    homes: str = ""  # default: useradd's (/home)
    course_id: str = "cnn_course"
    instructor: str = "cnninst"
    students: list[str] = dataclasses.field(default_factory=lambda: ["cnnstu1", "cnnstu2", "cnnstu3"])
    light: bool = False
    torch_index_url: str = ""
    ip: str = "127.0.0.1"
    port: int = 18000
    proxy_api_port: int = 18001
    hub_api_port: int = 18081
    spawn_nice: int = 10  # user servers and their kernels yield the CPU to the hub and proxy
    concurrent_spawn_limit: int = 4  # measured: 8 servers starting together stall the hub ~2 s
    admin_service: str = "course-admin"
    # Each user's server on its own host, <user>.<public_host>: the browser then keeps users'
    # pages apart, and the Formgrader can show inside the instructor's JupyterLab (docs/jupyterhub.md).
    subdomains: bool = True
    public_host: str = "localhost"  # a real course: its DNS name, with a wildcard record

    def __post_init__(self):
        self.dir = str(Path(self.dir).resolve())
        self.env = self.env or str(Path(self.dir) / "env")
        self.proxy = self.proxy or str(Path(self.dir) / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")
        self.exchange = self.exchange or str(Path(self.dir) / "exchange")

    @property
    def state(self) -> Path:
        return Path(self.dir) / "state"

    @property
    def etc(self) -> Path:
        return Path(self.dir) / "etc"

    @property
    def users(self) -> list[str]:
        return [self.instructor, *self.students]

    @property
    def url(self) -> str:
        """The hub's address in a browser."""
        return f"http://{self.public_host if self.subdomains else self.ip}:{self.port}"

    def user_url(self, user: str) -> str:
        """Where ``user``'s server is: ``http://<user>.<public_host>:<port>/user/<user>/``."""
        host = f"{user}.{self.public_host}" if self.subdomains else self.ip
        return f"http://{host}:{self.port}/user/{user}/"

    def home(self, user: str) -> Path:
        return Path(self.homes or "/home") / user

    def course_dir(self) -> Path:
        return self.home(self.instructor) / "course"

    def save(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        self.state.chmod(0o700)
        write_private(self.state / "settings.json", json.dumps(dataclasses.asdict(self), indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Settings:
        path = Path(path)
        if path.is_dir():
            path = path / "state" / "settings.json"
        if not path.is_file():
            raise SystemExit(f"no hub set up there: {path} is missing (run `course_hub.py setup` first)")
        return cls(**json.loads(path.read_text()))


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def say(message: str) -> None:
    print(f"course_hub: {message}", flush=True)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, **kwargs)


# --- the shared course environment ---------------------------------------------------------------

def course_requirements(root: Path = REPO, light: bool = False) -> list[str]:
    """The course package's runtime requirements plus its ``hub`` extra, from pyproject.toml;
    ``light`` leaves out torch and torchvision."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["hub"]]
    if light:
        requirements = [r for r in requirements if _name(r) not in HEAVY]
    return requirements


def _name(requirement: str) -> str:
    for stop in "<>=!~[ ;":
        requirement = requirement.split(stop, 1)[0]
    return requirement.strip().lower().replace("_", "-")


def source_fingerprint(root: Path = REPO) -> str:
    """A hash of what the course package is built from: pyproject.toml's [project] table and
    course_utils/."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    digest = hashlib.sha256(json.dumps(project, sort_keys=True).encode())
    for path in sorted((root / "course_utils").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_environment(settings: Settings, source: Path = REPO) -> dict:
    """Create (or reuse, when nothing changed) the shared environment; return the seconds taken
    by each part. Everything in it is world-readable, and it is checked as user ``nobody``."""
    env = Path(settings.env)
    stamp_path = env / ".course-hub.json"
    wanted = {"light": settings.light, "source": source_fingerprint(source), "python": settings.python,
              "requirements": course_requirements(source, settings.light)}
    if stamp_path.is_file() and json.loads(stamp_path.read_text()) == wanted:
        say(f"shared environment {env} is up to date")
        return {}
    if not os.access(settings.python, os.X_OK):
        raise SystemExit(f"{settings.python} is missing: install Python 3.11 for every user "
                         "(Debian: apt-get install python3.11-venv), or pass --python")
    timings, started = {}, time.monotonic()
    old_umask = os.umask(0o022)
    try:
        if env.exists():
            shutil.rmtree(env)
        run([settings.python, "-m", "venv", str(env)])
        pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        run([*pip, "--upgrade", "pip"])
        timings["venv"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="course-package-") as scratch:
            # pip builds in the folder it is given: a copy keeps build/ and *.egg-info out of the repo
            package = Path(scratch) / "course"
            package.mkdir()
            for name in ("pyproject.toml", "README.md"):
                shutil.copy(source / name, package / name)
            shutil.copytree(source / "course_utils", package / "course_utils",
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            if settings.light:
                run([*pip, *course_requirements(source, light=True)])
                timings["packages"] = round(time.monotonic() - started, 1)
                started = time.monotonic()
                run([*pip, "--no-deps", str(package)])
            else:
                if settings.torch_index_url:
                    torch = [r for r in course_requirements(source) if _name(r) in HEAVY]
                    run([*pip, "--index-url", settings.torch_index_url, *torch])
                run([*pip, f"{package}[hub]"])
            timings["course package" if settings.light else "packages"] = round(time.monotonic() - started, 1)
        run(["chmod", "-R", "a+rX", str(env)])
    finally:
        os.umask(old_umask)
    check_usable_by_everyone(settings)
    stamp_path.write_text(json.dumps(wanted, indent=1))
    stamp_path.chmod(0o644)
    return timings


def check_usable_by_everyone(settings: Settings) -> None:
    """Import the course's stack as user ``nobody``: a folder on the way that is not
    world-searchable (a venv in /root, say) fails here, not when a student logs in."""
    probe = "import course_utils.grading, nbgrader, jupyterhub, jupyterlab, ipywidgets, numpy"
    result = subprocess.run(["runuser", "-u", "nobody", "--", str(Path(settings.env) / "bin" / "python"),
                             "-c", probe], check=False, capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        raise SystemExit(f"the shared environment {settings.env} cannot be used by other users "
                         f"(every folder above it must be world-searchable, 0755):\n{result.stderr[-2000:]}")


def install_proxy(settings: Settings) -> None:
    """configurable-http-proxy from npm into <dir>/proxy, unless ``settings.proxy`` exists."""
    if Path(settings.proxy).exists():
        return
    if shutil.which("npm") is None:
        raise SystemExit("npm is needed for JupyterHub's proxy: apt-get install nodejs npm")
    prefix = Path(settings.dir) / "proxy"
    run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix), PROXY_PACKAGE])
    settings.proxy = str(prefix / "node_modules" / ".bin" / "configurable-http-proxy")


# --- Unix users, the exchange, the instructor's course folder, the config layers ------------------

def user_exists(name: str) -> bool:
    return subprocess.run(["id", "-u", name], check=False, capture_output=True).returncode == 0


def created_users(settings: Settings) -> list[str]:
    path = settings.state / "created_users"
    return path.read_text().split() if path.exists() else []


def create_users(settings: Settings) -> None:
    """Every course user as a Unix user whose home only they can read (Debian's ``useradd``
    makes homes 0755, readable by every other user, unless told ``HOME_MODE``)."""
    for name in settings.users:
        if not user_exists(name):
            command = ["useradd", "--create-home", "--shell", "/bin/bash", "-K", "HOME_MODE=0700"]
            if settings.homes:
                Path(settings.homes).mkdir(parents=True, exist_ok=True)
                command += ["--home-dir", str(settings.home(name))]
            run([*command, name])
            with open(settings.state / "created_users", "a") as handle:
                handle.write(name + "\n")
        settings.home(name).chmod(0o700)


def create_exchange(settings: Settings) -> None:
    """nbgrader's exchange with the modes nbgrader gives it, made before anyone else can.

    root     root 1777  nbgrader requires a world-writable root; the sticky bit (nbgrader
                        ignores it) stops anyone renaming or deleting a course folder they do
                        not own
    course   instructor 0755  made here, so no student can create it first and own the course
    outbound instructor 0755  released assignments: everyone reads, only the instructor writes
    inbound  instructor 3733  submissions: everyone may add one, nobody but the instructor lists;
                              the sticky bit: no one renames or deletes another's folder
    feedback instructor 0711  feedback files named by a hash only their student knows
    """
    root = Path(settings.exchange)
    root.mkdir(parents=True, exist_ok=True)
    os.chown(root, 0, 0)
    root.chmod(0o1777)
    course = root / settings.course_id
    uid, gid = _ids(settings.instructor)
    for path, mode in ((course, 0o755), (course / "outbound", 0o755), (course / "inbound", 0o3733),
                       (course / "feedback", 0o711)):
        path.mkdir(exist_ok=True)
        os.chown(path, uid, gid)
        path.chmod(mode)


def _ids(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def create_course_folder(settings: Settings, source: Path = REPO) -> None:
    """``~instructor/course``: the course's nbgrader_config.py, solutions/ and assignments/
    (the instructor's own copy; not touched again once it exists)."""
    course = settings.course_dir()
    if course.exists():
        return
    course.mkdir(mode=0o700)
    shutil.copy(source / "nbgrader_config.py", course)
    for folder in ("solutions", "assignments"):
        shutil.copytree(source / folder, course / folder,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    uid, gid = _ids(settings.instructor)
    for path in [course, *course.rglob("*")]:
        os.chown(path, uid, gid, follow_symlinks=False)


def readable_by_others(path: Path) -> list[Path]:
    """``path`` and what is below it that a user other than its owner (and group) could read:
    every folder on the way searchable by others, and the entry itself readable by others."""
    if not all(os.stat(parent).st_mode & 0o001 for parent in path.parents if parent != Path("/")):
        return []  # a folder above it is closed to others
    found = []
    for current, folders, files in os.walk(path):
        for name in [current, *(os.path.join(current, entry) for entry in folders + files)]:
            mode = os.lstat(name).st_mode
            if mode & 0o004 and not stat.S_ISLNK(mode):
                found.append(Path(name))
    return found


def protect_solutions(source: Path = REPO) -> list[str]:
    """The repository the hub is set up from holds every answer and hidden test (``solutions/``,
    and git's history of it): on a machine shared with students, nobody but its owner may read
    them. Folders and files other users could read are closed (``chmod -R go-rwx``), and this
    says so; returns what was closed."""
    closed = []
    for name in ("solutions", ".git"):
        path = source / name
        if path.exists() and readable_by_others(path):
            run(["chmod", "-R", "go-rwx", str(path)])
            closed.append(str(path))
    for path in closed:
        say(f"closed {path} to other users (chmod -R go-rwx): it holds the solutions and hidden tests, and "
            "students log in to this machine. Keep the course repository in a folder only you can read "
            "(e.g. /root/cnn-course, or a home of mode 0700).")
    return closed


def install_config_layers(settings: Settings) -> None:
    """deploy/jupyterhub/jupyter/{common,instructor} -> <dir>/etc, readable by everyone."""
    if settings.etc.exists():
        shutil.rmtree(settings.etc)
    shutil.copytree(LAYERS, settings.etc, ignore=shutil.ignore_patterns("__pycache__"))
    run(["chmod", "-R", "a+rX,go-w", str(settings.etc)])


def create_secrets(settings: Settings) -> None:
    """A password per user (state/passwords.json) and the admin service's API token."""
    path = settings.state / "passwords.json"
    passwords = json.loads(path.read_text()) if path.exists() else {}
    for name in settings.users:
        passwords.setdefault(name, secrets.token_urlsafe(12))
    write_private(path, json.dumps(passwords, indent=1))
    token = settings.state / "admin_token"
    if not token.exists():
        write_private(token, secrets.token_hex(32))


def passwords(settings: Settings) -> dict[str, str]:
    return json.loads((settings.state / "passwords.json").read_text())


def admin_token(settings: Settings) -> str:
    return (settings.state / "admin_token").read_text().strip()


def setup(settings: Settings, source: Path = REPO) -> dict:
    """Everything the hub needs, idempotent; returns the seconds each part took."""
    if os.geteuid() != 0:
        raise SystemExit("the hub's set-up creates Unix users and runs servers as them: run it as root")
    Path(settings.dir).mkdir(parents=True, exist_ok=True)
    Path(settings.dir).chmod(0o755)
    settings.state.mkdir(exist_ok=True)
    settings.state.chmod(0o700)
    timings = {}
    started = time.monotonic()
    timings.update({f"environment: {k}": v for k, v in build_environment(settings, source).items()})
    started = time.monotonic()
    install_proxy(settings)
    timings["proxy"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    protect_solutions(source)
    create_users(settings)
    create_exchange(settings)
    create_course_folder(settings, source)
    install_config_layers(settings)
    create_secrets(settings)
    settings.save()
    timings["users, exchange, course, config"] = round(time.monotonic() - started, 1)
    return timings


# --- running the hub ----------------------------------------------------------------------------

def hub_command(settings: Settings) -> tuple[list[str], dict[str, str]]:
    env = {
        # node for the proxy's `#!/usr/bin/env node`; the shared env's jupyterhub
        "PATH": f"{Path(settings.env) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        SETTINGS_VARIABLE: str(settings.state / "settings.json"),
    }
    return [str(Path(settings.env) / "bin" / "jupyterhub"), "-f", str(CONFIG_FILE)], env


def alive(pid: int | None) -> bool:
    """Running and not a zombie (a zombie still answers ``kill -0``)."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def hub_answers(settings: Settings, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(f"http://{settings.ip}:{settings.port}/hub/api", timeout=timeout) as reply:
            return reply.status == 200
    except OSError:
        return False


def start(settings: Settings, timeout: float = 120) -> int:
    """Start the hub in its own session in the background; wait until its API answers."""
    pid = read_pid(settings.state / "hub.pid")
    if alive(pid) and hub_answers(settings):
        return pid
    command, env = hub_command(settings)
    with open(settings.state / "hub.log", "ab") as log:
        process = subprocess.Popen(command, env=env, cwd=settings.state, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    (settings.state / "hub.pid").write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while not hub_answers(settings):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(settings)
            tail = (settings.state / "hub.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the hub did not start; the end of {settings.state / 'hub.log'}:\n{tail}")
        time.sleep(0.3)
    return process.pid


def _stop_pid(pid: int | None, grace: float) -> None:
    if not alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:  # reap it if it is our child
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def processes_of(users: list[str]) -> list[int]:
    """Pids of every process owned by ``users`` (their servers, kernels, terminals)."""
    import pwd

    uids = set()
    for name in users:
        try:
            uids.add(pwd.getpwnam(name).pw_uid)
        except KeyError:
            pass
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid in uids:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def stop(settings: Settings) -> None:
    """Stop the hub (which stops every user server: ``cleanup_servers``), then the proxy if it
    outlived it, then any process left of the users this set-up created -- each by its pid."""
    _stop_pid(read_pid(settings.state / "hub.pid"), grace=60)
    _stop_pid(read_pid(settings.state / "proxy.pid"), grace=10)
    for pid in processes_of(created_users(settings)):
        _stop_pid(pid, grace=5)
    for name in ("hub.pid", "proxy.pid"):
        (settings.state / name).unlink(missing_ok=True)


def teardown(settings: Settings, purge: bool = False) -> None:
    """Stop everything, remove the Unix users this set-up created (homes included), the
    course's exchange folder, the config layers and the state; ``purge`` also removes the
    environment and the proxy. Users that existed before the set-up are left as they were."""
    stop(settings)
    for name in created_users(settings):
        if user_exists(name):
            subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
            if user_exists(name):  # userdel refuses while a process of the user is left
                subprocess.run(["userdel", "--force", "--remove", name], check=False, capture_output=True)
        shutil.rmtree(settings.home(name), ignore_errors=True)
    # the course's folder in the exchange; the root only if nothing else is left in it
    shutil.rmtree(Path(settings.exchange) / settings.course_id, ignore_errors=True)
    try:
        Path(settings.exchange).rmdir()
    except OSError:
        pass
    shutil.rmtree(settings.etc, ignore_errors=True)
    shutil.rmtree(settings.state, ignore_errors=True)
    leftovers = Path(settings.dir) / LEFTOVERS
    if purge:
        purge_environment(settings.dir, settings.env)
    else:  # what a later `teardown --purge` removes, now that the settings are gone
        write_private(leftovers, json.dumps({"env": settings.env}))


LEFTOVERS = "leftovers.json"


def purge_environment(folder: str, env: str) -> None:
    """Remove the shared environment, the proxy and ``folder`` itself if nothing else is in it."""
    shutil.rmtree(env, ignore_errors=True)
    shutil.rmtree(Path(folder) / "proxy", ignore_errors=True)
    (Path(folder) / LEFTOVERS).unlink(missing_ok=True)
    try:
        Path(folder).rmdir()
    except OSError:
        pass


def purge_leftovers(folder: str) -> None:
    """``teardown --purge`` after a plain ``teardown``: the environment and proxy it left."""
    leftovers = Path(folder) / LEFTOVERS
    env = json.loads(leftovers.read_text())["env"] if leftovers.is_file() else str(Path(folder) / "env")
    if not (Path(env).exists() or (Path(folder) / "proxy").exists()):
        say(f"nothing to remove in {folder}: no hub, no environment")
        return
    purge_environment(folder, env)
    say(f"removed the environment {env} and the proxy that the earlier teardown kept")


def run_foreground(settings: Settings) -> int:
    """The hub in the foreground, with the logins printed first; Ctrl-C stops it and every
    server it started."""
    command, env = hub_command(settings)
    print(f"\nThe course hub: {settings.url}/   (Ctrl-C stops it)\n")
    for name, password in passwords(settings).items():
        role = "instructor" if name == settings.instructor else "student"
        print(f"  {role:10s} {name:12s} password {password}")
    print(f"\nPasswords: {settings.state / 'passwords.json'}; log: {settings.state / 'hub.log'}\n", flush=True)
    process = subprocess.Popen(command, env=env, cwd=settings.state)
    (settings.state / "hub.pid").write_text(str(process.pid))
    try:
        return process.wait()
    except KeyboardInterrupt:
        stop(settings)
        return 0


# --- command line ---------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course_hub.py", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["setup", "run", "start", "stop", "teardown"])
    parser.add_argument("--dir", default=os.environ.get("HUB_DIR", "/opt/cnn-course-hub"),
                        help="the hub's folder (default /opt/cnn-course-hub)")
    defaults = Settings(dir="/")
    parser.add_argument("--python", default=defaults.python, help="the Python the shared env is made from")
    parser.add_argument("--env", default="", help="the shared environment (default <dir>/env)")
    parser.add_argument("--proxy", default="", help="an installed configurable-http-proxy to use")
    parser.add_argument("--exchange", default="", help="nbgrader's exchange root (default <dir>/exchange)")
    parser.add_argument("--homes", default="", help="parent folder of the users' homes (default /home)")
    parser.add_argument("--instructor", default=defaults.instructor)
    parser.add_argument("--students", default=",".join(defaults.students), help="comma-separated")
    parser.add_argument("--light", action="store_true", help="no torch/torchvision (assignments only)")
    parser.add_argument("--torch-index-url", default=os.environ.get("TORCH_INDEX_URL", ""))
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--purge", action="store_true", help="teardown: also the environment and proxy")
    args = parser.parse_args(argv)
    if args.command == "setup":
        settings = Settings(dir=args.dir, python=args.python, env=args.env, proxy=args.proxy,
                            exchange=args.exchange, homes=args.homes, instructor=args.instructor,
                            students=[s for s in args.students.split(",") if s], light=args.light,
                            torch_index_url=args.torch_index_url, port=args.port,
                            proxy_api_port=args.port + 1, hub_api_port=args.port + 81)
        for part, seconds in setup(settings).items():
            say(f"{part}: {seconds} s")
        say(f"set up in {settings.dir}; start it with `course_hub.py run --dir {settings.dir}`")
        return 0
    if args.command == "teardown" and not (Path(args.dir) / "state" / "settings.json").is_file():
        if args.purge:  # a plain teardown before: its environment and proxy are still there
            purge_leftovers(args.dir)
            return 0
        say(f"no hub set up in {args.dir} (nothing to tear down)")
        return 0
    settings = Settings.load(args.dir)
    if args.command == "run":
        return run_foreground(settings)
    if args.command == "start":
        start(settings)
        say(f"hub running: {settings.url}/ (passwords in {settings.state / 'passwords.json'})")
    elif args.command == "stop":
        stop(settings)
    elif args.command == "teardown":
        teardown(settings, purge=args.purge)
    return 0


if __name__ == "__main__":
    sys.exit(main())
