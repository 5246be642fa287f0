"""The sandbox's contract, each point tried for real: what is visible, no network, no secrets in
the environment, the resource limits (each attack really run, the host checked afterwards by
the ``host`` fixture), and that neither root nor anything else of the grader's is needed."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from course_utils.instructor.sandbox import bubblewrap as sandbox_module
from course_utils.instructor.sandbox.bubblewrap import (
    BASE_ENV,
    GiB,
    MiB,
    Limits,
    Sandbox,
    explain,
    python_sandbox,
    run,
    sandbox_available,
)

from sandbox_checks import MARKER

SMALL = Limits(cpu_seconds=3, memory_bytes=2 * GiB, file_bytes=64 * MiB, processes=32,
               scratch_bytes=128 * MiB)


def python(code: str, sandbox: Sandbox, timeout: float = 60):
    """Run ``code`` with this interpreter in ``sandbox``; the marker lets ``host`` find leftovers."""
    return run(["python", "-c", f"# {MARKER}\n{textwrap.dedent(code)}"], sandbox, timeout=timeout)


def printed(result) -> dict:
    assert result.ok, result.stderr.decode()
    return json.loads(result.stdout)


# --- availability ------------------------------------------------------------------------------

def test_sandbox_available_tries_a_real_sandbox_and_says_it_works(sandbox_works):
    works, message = sandbox_available()
    assert works and "works" in message and "process limit" in message


def test_sandbox_available_tells_how_to_install_bwrap_when_it_is_missing(monkeypatch):
    monkeypatch.setattr(sandbox_module, "BWRAP", "/nonexistent/bwrap")
    sandbox_available.cache_clear()
    try:
        works, message = sandbox_available()
    finally:
        sandbox_available.cache_clear()
    assert not works and "apt-get install bubblewrap" in message


def test_sandbox_available_says_what_to_enable_when_namespaces_are_refused(monkeypatch, tmp_path):
    refusing = tmp_path / "bwrap"  # stands for a bwrap on a machine without user namespaces
    refusing.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    refusing.chmod(0o755)
    monkeypatch.setattr(sandbox_module, "BWRAP", str(refusing))
    sandbox_available.cache_clear()
    try:
        works, message = sandbox_available()
    finally:
        sandbox_available.cache_clear()
    assert not works and "No permissions" in message
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in message
    assert "kernel.unprivileged_userns_clone=1" in message


def test_sandbox_available_points_macos_to_no_sandbox(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    sandbox_available.cache_clear()
    try:
        works, message = sandbox_available()
    finally:
        sandbox_available.cache_clear()
    assert not works and "--no-sandbox" in message


# --- what is visible ---------------------------------------------------------------------------

@pytest.fixture
def course(tmp_path):
    """A course root with secrets beside the package and two students' submissions."""
    root = tmp_path / "course"
    (root / "solutions").mkdir(parents=True)
    (root / "solutions" / "answers.py").write_text("ANSWER = 42\n")
    (root / "gradebook.db").write_text("grades")
    (root / "course_utils").mkdir()
    (root / "course_utils" / "__init__.py").write_text("NAME = 'the course package'\n")
    for student in ("alice", "bob"):
        (root / "submitted" / student).mkdir(parents=True)
        (root / "submitted" / student / "work.txt").write_text(f"{student}'s work")
    return root


def test_only_the_listed_paths_are_visible(course, host):
    alice = course / "submitted" / "alice"
    sandbox = python_sandbox(read_only=[str(course / "course_utils"), str(alice)], cwd=str(alice),
                             env={"PYTHONPATH": str(course)})
    seen = printed(python(f"""
        import json, os
        import course_utils
        def listing(path):
            return sorted(os.listdir(path)) if os.path.isdir(path) else None
        print(json.dumps({{
            "package": course_utils.NAME, "own work": open("work.txt").read(),
            "course root": listing({str(course)!r}), "submitted": listing({str(course / 'submitted')!r}),
            "solutions": os.path.exists({str(course / 'solutions' / 'answers.py')!r}),
            "gradebook": os.path.exists({str(course / 'gradebook.db')!r}),
            "bob": os.path.exists({str(course / 'submitted' / 'bob')!r}),
            "root": sorted(os.listdir("/")), "root's home": listing("/root"), "home": listing("/home"),
            "passwd": os.path.exists("/etc/passwd"), "etc": sorted(os.listdir("/etc")),
            "cwd": os.getcwd(), "processes": [p for p in os.listdir("/proc") if p.isdigit()],
        }}))
    """, sandbox))
    assert seen["package"] == "the course package" and seen["own work"] == "alice's work"
    assert seen["course root"] == ["course_utils", "submitted"]  # only the mount points
    assert seen["submitted"] == ["alice"]
    assert not seen["solutions"] and not seen["gradebook"] and not seen["bob"]
    bound_tops = {Path(p).parts[1] for p in (sys.prefix, sys.base_prefix, str(course))}
    assert set(seen["root"]) <= {"usr", "bin", "sbin", "lib", "lib32", "lib64", "etc", "proc", "dev",
                                 "tmp", *bound_tops}
    python_home = [Path(p).relative_to("/root").parts[0] for p in (sys.prefix, sys.base_prefix)
                   if p.startswith("/root/")]
    assert seen["root's home"] in (None, sorted(set(python_home)))  # the interpreter's folder at most
    assert seen["home"] is None and not seen["passwd"]
    assert set(seen["etc"]) <= {"ld.so.cache", "localtime", "fonts"}
    assert seen["cwd"] == str(alice)
    assert sorted(seen["processes"]) == ["1", "2"]  # bwrap's init and this Python: nothing of the host's


def test_binds_are_read_only_unless_listed_read_write(course, tmp_path, host):
    writable = tmp_path / "out"
    writable.mkdir()
    alice = course / "submitted" / "alice"
    sandbox = python_sandbox(read_only=[str(alice)], read_write=[str(writable)])
    seen = printed(python(f"""
        import json, subprocess
        def attempt(path):
            try:
                open(path, "w").write("x")
                return "written"
            except OSError as error:
                return error.strerror
        remount = subprocess.run(["mount", "-o", "remount,rw", {str(alice)!r}], capture_output=True)
        capabilities = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")]
        print(json.dumps({{"submission": attempt({str(alice / 'work.txt')!r}),
                           "venv": attempt({os.path.join(sys.prefix, 'pyvenv.cfg')!r}),
                           "usr": attempt("/usr/evil"), "out": attempt({str(writable / 'result.txt')!r}),
                           "remount": remount.returncode, "capabilities": capabilities[0]}}))
    """, sandbox))
    assert seen["submission"] == seen["venv"] == seen["usr"] == "Read-only file system"
    assert seen["out"] == "written" and (writable / "result.txt").read_text() == "x"
    assert seen["remount"] != 0 and int(seen["capabilities"], 16) == 0  # even though we are root
    assert (alice / "work.txt").read_text() == "alice's work"


def test_packages_the_interpreter_does_not_use_are_hidden(host):
    hidden = sandbox_module.unused_package_folders(sys.path)
    assert hidden, "this interpreter has package folders it does not use (Debian's, the base's)"
    seen = printed(python(f"""
        import json, os
        print(json.dumps({{path: os.listdir(path) for path in {list(hidden)!r}}}))
    """, python_sandbox()))
    assert all(listing == [] for listing in seen.values())


def test_scratch_tmp_is_private_capped_and_gone_afterwards(host):
    marker_file = f"/tmp/{MARKER}-{os.getpid()}"
    host_file = Path(tempfile.gettempdir()) / f"{MARKER}-host-{os.getpid()}"
    host_file.write_text("the host's /tmp")
    # Besides home, /tmp shows only the way to a read-only bind that lives under the host's /tmp
    # (a clone in /tmp/ci has its .venv there): nothing else of the host's /tmp.
    prefix = Path(sys.prefix).resolve()
    expected = ["home"] + ([prefix.parts[2]] if prefix.parts[1:2] == ("tmp",) else [])
    sandbox = python_sandbox(limits=Limits(file_bytes=GiB, scratch_bytes=32 * MiB))
    result = python(f"""
        import os
        assert sorted(os.listdir("/tmp")) == {sorted(expected)!r}, os.listdir("/tmp")   # not the host's /tmp
        assert not os.path.exists({str(host_file)!r})
        assert os.environ["HOME"] == "/tmp/home" and os.getcwd() == "/tmp/home"
        with open({marker_file!r}, "wb") as file:
            file.write(b"x" * 2**20)
            file.write(b"x" * 64 * 2**20)
    """, sandbox)
    host_file.unlink()
    assert result.limit == "scratch_space" and "33554432 bytes" in result.reason, (result, result.stderr)
    assert not os.path.exists(marker_file)


# --- network -----------------------------------------------------------------------------------

def test_no_connection_leaves_the_sandbox(host_server, host):
    port, accepted = host_server
    seen = printed(python(f"""
        import json, socket
        def connect(address):
            try:
                socket.create_connection(address, timeout=3).close()
                return "connected"
            except OSError as error:
                return type(error).__name__
        print(json.dumps({{"host service": connect(("127.0.0.1", {port})),
                           "documentation address": connect(("192.0.2.1", 80)),
                           "interfaces": [name for _, name in socket.if_nameindex()]}}))
    """, python_sandbox()))
    assert seen["host service"] == "ConnectionRefusedError"  # the sandbox's own, empty, loopback
    assert seen["documentation address"] == "OSError"  # Network is unreachable: no route at all
    assert seen["interfaces"] == ["lo"] and accepted == []


# --- environment -------------------------------------------------------------------------------

def test_environment_is_the_allow_list_and_what_the_caller_adds(monkeypatch, host):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    seen = printed(python("import json, os; print(json.dumps(dict(os.environ)))",
                          python_sandbox(env={"MPLBACKEND": "Agg"})))
    assert "GRADER_SECRET_TOKEN" not in seen
    assert set(seen) == set(BASE_ENV) | {"MPLBACKEND", "PWD"}
    assert seen["OMP_NUM_THREADS"] == "1" and seen["PATH"].startswith(os.path.dirname(sys.executable))


# --- limits: each attack fails alone, with its reason --------------------------------------------

@pytest.mark.slow
def test_a_fork_bomb_hits_the_process_limit(host):
    result = python("import os\nwhile True:\n    os.fork()", python_sandbox(limits=SMALL), timeout=30)
    assert result.limit == "processes", result
    assert "process limit of 32" in result.reason


@pytest.mark.parametrize("allocation", ["import numpy as np; np.ones(int(50e9 / 8))",
                                        "bytearray(50 * 2**30)"])
def test_a_50_gb_allocation_hits_the_memory_limit(allocation, host):
    result = python(allocation, python_sandbox(limits=SMALL))
    assert result.limit == "memory" and "memory limit" in result.reason, result


@pytest.mark.slow
@pytest.mark.parametrize("where", ["scratch", "writable bind"])
def test_writing_a_10_gb_file_hits_the_file_size_limit(where, tmp_path, host):
    folder = "/tmp" if where == "scratch" else str(tmp_path)
    result = python(f"""
        chunk = b"x" * 2**20
        with open("{folder}/big", "wb") as file:
            for _ in range(10 * 1024):
                file.write(chunk)
    """, python_sandbox(read_write=[str(tmp_path)], limits=SMALL))
    assert result.limit == "file_size" and "67108864 bytes" in result.reason, result
    if where == "writable bind":
        assert (tmp_path / "big").stat().st_size <= SMALL.file_bytes


@pytest.mark.slow
def test_an_endless_loop_is_killed_by_the_cpu_limit(host):
    result = python("while True:\n    pass", python_sandbox(limits=SMALL), timeout=60)
    assert result.limit == "cpu_time" and result.reason == "killed by SIGXCPU: CPU time limit of 3 s"


def test_a_sleeper_is_stopped_by_the_wall_clock_timeout(host):
    start = time.monotonic()
    result = python("import os, time\nif os.fork() == 0:\n    os.setsid()\ntime.sleep(1000)",
                    python_sandbox(limits=SMALL), timeout=2)
    assert result.limit == "wall_time" and "wall-clock limit of 2 s" in result.reason
    assert time.monotonic() - start < 10  # and host checks the detached child died too


def test_killing_the_parent_inside_reaches_only_the_sandbox(host):
    bystander = subprocess.Popen(["sleep", "60"])  # a host process of the same user
    try:
        result = python("""
            import os, signal, time
            os.kill(os.getppid(), signal.SIGKILL)   # bwrap's init, pid 1 inside: ignored
            child = os.fork()
            if child == 0:
                time.sleep(60)
            os.kill(-1, signal.SIGKILL)             # all it may signal but itself: its sandbox only
            assert os.waitpid(child, 0)[1] == signal.SIGKILL
            print("still here")
        """, python_sandbox(limits=SMALL))
        assert result.ok and result.stdout == b"still here\n"
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_an_exit_status_is_passed_on(host):
    result = python("import os; os._exit(3)", python_sandbox(limits=SMALL))
    assert result.returncode == 3 and result.limit is None and result.reason == "exit status 3"


def test_the_limits_cannot_be_raised_from_inside(host):
    seen = printed(python("""
        import json, resource
        refused = []
        for name in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NPROC"):
            limit = getattr(resource, name)
            try:
                resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            except (ValueError, OSError):
                refused.append(name)
        print(json.dumps({"refused": refused, "cpu": resource.getrlimit(resource.RLIMIT_CPU)}))
    """, python_sandbox(limits=SMALL)))
    assert seen == {"refused": ["RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NPROC"], "cpu": [3, 4]}


def test_output_floods_are_cut_and_drained(host):
    result = run(["python", "-c", f"# {MARKER}\nimport sys\nsys.stdout.write('x' * 50_000_000)"],
                 python_sandbox(limits=SMALL), timeout=60, output_limit=1000)
    assert result.ok and result.stdout == b"x" * 1000
    assert any("stdout cut to its first 1000 bytes" in note for note in result.notes)


@pytest.mark.skipif(os.geteuid() != 0, reason="as a user other than root the limit is RLIMIT_NPROC")
def test_as_root_a_pids_cgroup_limits_the_processes_and_is_removed(host):
    result = python("import os; print(open('/proc/self/cgroup').read())", python_sandbox(limits=SMALL))
    assert result.ok and "pids cgroup" in result.notes[0]
    # host: the cgroup is gone


def test_reasons_are_read_from_the_exit_status_and_stderr():
    assert explain(128 + 24, b"", SMALL, None, False) == (
        "cpu_time", "killed by SIGXCPU: CPU time limit of 3 s")
    assert explain(1, b"OSError: [Errno 27] File too large", SMALL, None, False)[0] == "file_size"
    assert explain(1, b"MemoryError", SMALL, None, False)[0] == "memory"
    assert explain(1, b"", SMALL, None, False, refused_forks=5) == (
        "processes", "process limit of 32 reached (5 forks refused)")
    assert explain(-9, b"", SMALL, 2.0, True) == ("wall_time", "stopped after the wall-clock limit of 2 s")
    assert explain(0, b"", SMALL, None, False) == (None, "")


def test_arguments_are_checked_with_what_they_need(tmp_path):
    with pytest.raises(ValueError, match=r"read_only: '/nonexistent' does not exist"):
        Sandbox(read_only=("/nonexistent",))
    with pytest.raises(ValueError, match=r"cwd: got 'relative'; it needs absolute paths"):
        Sandbox(cwd="relative")
    with pytest.raises(ValueError, match=r"Limits.processes: got 0; it needs a positive whole number"):
        Limits(processes=0)
    with pytest.raises(ValueError, match=r"command: got \[\]"):
        run([], Sandbox())
    with pytest.raises(ValueError, match=r"timeout: got 0"):
        run(["true"], Sandbox(), timeout=0)


# --- root is not needed ------------------------------------------------------------------------

@pytest.fixture
def unprivileged_user():
    """A throwaway user made with useradd (no home), removed afterwards with its processes."""
    if os.geteuid() != 0:
        pytest.skip("making a user needs root; as a user other than root the other tests prove it")
    name = f"sandbox-test-{os.getpid()}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        uid = pwd.getpwnam(name).pw_uid
        for process in psutil.process_iter(["uids"]):  # only what this test started as the user
            if process.info["uids"] and process.info["uids"].real == uid:
                process.kill()
        subprocess.run(["userdel", name], check=True)


@pytest.mark.slow
def test_a_user_other_than_root_can_sandbox_and_nproc_limits_it(unprivileged_user, host):
    # This venv's Python lives under /root (mode 700): the user runs Debian's python3 instead,
    # with a copy of the sandbox's modules (they need nothing but the standard library), since
    # the repository itself may sit in a folder the user cannot read.
    system_python = shutil.which("python3", path="/usr/bin")
    if system_python is None:
        pytest.skip("needs Debian's /usr/bin/python3 (apt-get install python3)")
    folder = Path(tempfile.mkdtemp(prefix="sandbox-user-"))
    try:
        package = Path(sandbox_module.__file__).parents[2]
        (folder / "course_utils" / "instructor" / "sandbox").mkdir(parents=True)
        for module in ("__init__.py", "instructor/__init__.py", "instructor/sandbox/__init__.py",
                       "instructor/sandbox/bubblewrap.py", "instructor/sandbox/pids_cgroup.py"):
            shutil.copy(package / module, folder / "course_utils" / module)
        (folder / "out").mkdir()
        (folder / "try_it.py").write_text(textwrap.dedent(f"""
            import json, os, subprocess, sys
            sys.path.insert(0, {str(folder)!r})
            from course_utils.instructor.sandbox import bubblewrap as sandbox
            works, message = sandbox.sandbox_available()
            limits = sandbox.Limits(processes=16, cpu_seconds=5)
            box = sandbox.python_sandbox(read_write=[{str(folder / 'out')!r}], limits=limits)
            hello = sandbox.run(["python3", "-c", "import os; open({str(folder / 'out' / 'hello')!r}, 'w')"
                                 ".write(str(os.getuid()))"], box, timeout=30)
            bomb = sandbox.run(["python3", "-c", "# {MARKER}\\nimport os\\nwhile True: os.fork()"], box, timeout=30)
            # RLIMIT_NPROC counts per user namespace: 20 processes of this user outside the
            # sandbox do not count against its limit of 16, so 10 forks inside still succeed
            outside = [subprocess.Popen(["sleep", "60"]) for _ in range(20)]
            ten = "import os, sys\\nfor _ in range(10):\\n    os.fork() or sys.exit()"
            beside = sandbox.run(["python3", "-c", ten], box, timeout=30)
            for process in outside:
                process.kill()
                process.wait()
            print(json.dumps({{"uid": os.getuid(), "works": works, "message": message,
                              "hello": hello.returncode, "bomb": bomb.limit, "beside": beside.returncode}}))
        """))
        os.chown(folder / "out", unprivileged_user.pw_uid, unprivileged_user.pw_gid)
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755)
        outcome = subprocess.run(["runuser", "-u", unprivileged_user.pw_name, "--", system_python, "-I",
                                  str(folder / "try_it.py")], capture_output=True, text=True, timeout=120,
                                 cwd="/")
        assert outcome.returncode == 0, outcome.stderr
        seen = json.loads(outcome.stdout)
        assert seen["uid"] == unprivileged_user.pw_uid and seen["works"], seen
        assert "RLIMIT_NPROC in the sandbox's user namespace" in seen["message"]
        assert seen["hello"] == 0 and (folder / "out" / "hello").read_text() == str(unprivileged_user.pw_uid)
        assert seen["bomb"] == "processes" and seen["beside"] == 0, seen
    finally:
        shutil.rmtree(folder)
