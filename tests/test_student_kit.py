"""The student kit (`make student-kit`), built from a clean clone, holds what a student needs and
nothing of solutions/, and its own `make lab` starts JupyterLab.

The kit's environment: installing every package again would take minutes, so the kit's .venv
is created first with a ``.pth`` file that shows it this test environment's site-packages (and
``JUPYTER_PATH`` shows JupyterLab this environment's extensions). Then the kit's own Makefile
does the rest as on a student's machine: ``make lab`` runs its set-up rule (venv, pip, the
kit's package installed editable from the kit, the widget extension checked) and starts
JupyterLab, which must answer on 127.0.0.1, serving the kit with the student's configuration.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest
from solution_lines import normalise, secret_lines

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
KIT_TOP_LEVEL = {".gitignore", "Makefile", "README.md", "lab.mk", "pyproject.toml", "assignments",
                 "course_utils", "jupyter_config", "notebooks"}
OWN_FILES = {".gitignore", "Makefile", "README.md", "lab.mk", "pyproject.toml"}


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    """The kit as `make student-kit` builds it in a fresh clone of the repository."""
    clone = tmp_path_factory.mktemp("kit") / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    built = subprocess.run(["make", "-s", "student-kit", f"PYTHON={sys.executable}"], cwd=clone,
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    return clone / "_build" / "student-kit" / "cnn-course"


def kit_files(kit: Path) -> list[str]:
    return sorted(path.relative_to(kit).as_posix() for path in kit.rglob("*") if path.is_file()
                  and ".venv" not in path.parts and ".egg-info" not in str(path)
                  and "__pycache__" not in path.parts)


def test_the_kit_holds_the_lessons_the_assignments_and_the_course_code(kit):
    assert {path.name for path in kit.iterdir()} == KIT_TOP_LEVEL
    files = set(kit_files(kit))
    for folder in ("notebooks", "assignments", "jupyter_config"):
        tracked = subprocess.run(["git", "ls-files", folder], cwd=ROOT, capture_output=True,
                                 text=True, check=True).stdout.split()
        tracked = [name for name in tracked  # configuration for the instructor package stays out
                   if "course_utils.instructor" not in (ROOT / name).read_text()]
        assert set(tracked) <= files, f"{folder}: missing {set(tracked) - files}"
        for name in tracked:
            assert (kit / name).read_bytes() == (ROOT / name).read_bytes(), name
    assert "course_utils/grading/checks.py" in files  # the assignments' test cells call it
    assert "jupyter_config/student/labconfig/page_config.json" in files
    with tarfile.open(kit.parent / "cnn-course.tar.gz") as archive:
        archived = {member.name.removeprefix("cnn-course/") for member in archive.getmembers()
                    if member.isfile()}
    assert archived == files


def test_the_kit_holds_nothing_of_solutions_the_tests_or_the_instructor_tools(kit):
    files = kit_files(kit)
    assert not [name for name in files if name.startswith(("solutions/", "tests/", "course_utils/instructor/"))
                or name in ("nbgrader_config.py",)]
    solution_files = {path.read_bytes() for path in (ROOT / "solutions").rglob("*") if path.is_file()}
    assert not [name for name in files if (kit / name).read_bytes() in solution_files]
    outside = [name for name in files if not name.startswith("course_utils/")
               and "course_utils.instructor" in (kit / name).read_text()]
    assert not outside, f"files that load the instructor package, which the kit lacks: {outside}"
    for name in files:
        if name.endswith(".ipynb"):
            text = (kit / name).read_text()
            assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, name


def test_no_line_of_a_solution_or_hidden_test_is_in_the_kit_unless_the_repository_shows_it(kit):
    """A line the kit's own copies of the repository's files show (the released assignments, the
    lessons, course_utils) is public; every other solution or hidden-test line must be absent
    from every file of the kit, its own README and Makefile included."""
    files = kit_files(kit)
    public = [kit / name for name in files if name not in OWN_FILES]
    secrets = secret_lines(public_paths=public)
    assert len(secrets) > 20, "found too few solution lines: is solution_lines.py reading solutions/?"
    leaks = [f"{name}: {line}" for name in files
             for line in secrets if line in normalise((kit / name).read_text(errors="ignore"))]
    assert not leaks, "\n".join(leaks)


@pytest.fixture(scope="module")
def kit_environment(kit):
    """Environment variables for the kit's make: this test environment's packages and extensions."""
    subprocess.run([sys.executable, "-m", "venv", str(kit / ".venv")], check=True, timeout=120)
    site = Path(sysconfig.get_paths(vars={"base": str(kit / ".venv")})["purelib"])
    (site / "course_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return dict(os.environ, JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"),
                PYTHON=sys.executable)


def test_every_module_of_the_kit_imports_without_the_instructor_package(kit, kit_environment):
    setup = subprocess.run(["make", "-s", "venv"], cwd=kit, env=kit_environment,
                           capture_output=True, text=True, timeout=600)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    script = """
import importlib, json, pkgutil, course_utils
names = [info.name for info in pkgutil.walk_packages(course_utils.__path__, "course_utils.")]
for name in names:
    importlib.import_module(name)
try:
    import course_utils.instructor
    instructor = "importable"
except ModuleNotFoundError:
    instructor = "missing"
print(json.dumps({"file": course_utils.__file__, "modules": len(names), "instructor": instructor}))
"""
    result = subprocess.run([str(kit / ".venv" / "bin" / "python"), "-c", script], cwd=kit / "notebooks",
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["file"] == str(kit / "course_utils" / "__init__.py")
    assert found["instructor"] == "missing" and found["modules"] > 40


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:  # not listening yet
        return 0, ""


def test_make_lab_in_the_kit_starts_the_students_jupyterlab(kit, kit_environment, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = "kit-test-token"
    environment = dict(kit_environment, JUPYTER_TOKEN=token, JUPYTER_CONFIG_DIR=str(tmp_path),
                       JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = open(tmp_path / "make-lab.log", "w")
    lab = subprocess.Popen(["make", "lab", f"PORT={port}"], cwd=kit, env=environment, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while get(f"{base}/api/status?token={token}")[0] != 200:
            assert lab.poll() is None, (tmp_path / "make-lab.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "JupyterLab did not answer"
            time.sleep(1)
        status, listing = get(f"{base}/api/contents/?token={token}")
        names = {item["name"] for item in json.loads(listing)["content"]}
        assert {"notebooks", "assignments", "course_utils"} <= names and "solutions" not in names
        status, lessons = get(f"{base}/api/contents/notebooks?token={token}")
        assert {item["name"] for item in json.loads(lessons)["content"]} >= {
            path.name for path in (ROOT / "notebooks").glob("*.ipynb")}
        status, page = get(f"{base}/lab?token={token}")
        config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">'
                                      r"(.*?)</script>", page, re.S).group(1))
        assert "@jupyter/nbgrader:formgrader" in config["disabledExtensions"]  # the student's
        started = (tmp_path / "make-lab.log").read_text()
        assert not [line for line in started.splitlines() if "course_utils.instructor" in line
                    or "error adding extension" in line or "Traceback" in line], started[-3000:]
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
        log.close()
