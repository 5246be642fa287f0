"""How many student servers this machine holds with the hub still answering within a second.

    python3 deploy/jupyterhub/measure_capacity.py --dir /opt/cnn-course-hub [--max 40] [--burst 4]
                                                  [--validate 2,4,8]

Run as root against a hub set up and started by course_hub.py. It creates Unix users cap01...
(recorded with the set-up's users, so ``course_hub.py teardown`` removes them), and:

1. starts their servers one after another through the hub's API; after each, the hub's
   ``GET /hub/api`` and ``GET /hub/api/users`` latency (median and max of 5), the load average,
   the memory of every user server. It stops at ``--max`` servers, when the hub takes more than
   a second, or when less than 2 GiB of memory is left;
2. measures the hub for 30 s while they all sit idle;
3. stops ``--burst`` of them and starts them again all at once (a class logging in), measuring
   the hub every 0.25 s meanwhile;
4. for each K in ``--validate``: K students press Validate at the same moment (nbgrader's
   validate handler runs a1 with a right answer in a fresh kernel), and how long until all K
   are done, with the hub's latency meanwhile;
5. stops every server it started. Results: state/capacity.json, and a summary on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import course_hub

MiB = 2**20


class Hub:
    def __init__(self, settings: course_hub.Settings):
        self.settings = settings
        self.address = f"http://{settings.ip}:{settings.port}"
        self.token = course_hub.admin_token(settings)

    def call(self, method: str, path: str, body=None, host: str | None = None, timeout: float = 120,
             token: str | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.address}{path}", data=data, method=method)
        request.add_header("Authorization", f"token {token or self.token}")
        if host:
            request.add_header("Host", host)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                text = reply.read()
                return reply.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            return error.code, error.read()[:300]

    def latency(self, path: str, count: int = 5) -> tuple[float, float]:
        seconds = []
        for _ in range(count):
            started = time.monotonic()
            self.call("GET", path)
            seconds.append(time.monotonic() - started)
        return statistics.median(seconds), max(seconds)

    def start(self, user: str, timeout: float = 300) -> float:
        started = time.monotonic()
        self.call("POST", f"/hub/api/users/{user}")  # 201, or 409 when the hub knows them already
        status, _ = self.call("POST", f"/hub/api/users/{user}/server")
        while time.monotonic() - started < timeout:
            status, model = self.call("GET", f"/hub/api/users/{user}")
            if status == 200 and model.get("servers", {}).get("", {}).get("ready"):
                return time.monotonic() - started
            time.sleep(0.5)
        raise TimeoutError(f"{user}'s server not ready after {timeout} s")

    def stop(self, user: str, timeout: float = 60) -> None:
        self.call("DELETE", f"/hub/api/users/{user}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, model = self.call("GET", f"/hub/api/users/{user}")
            if status == 200 and not model.get("servers"):
                return
            time.sleep(0.5)

    def user_host(self, user: str) -> str | None:
        s = self.settings
        return f"{user}.{s.public_host}:{s.port}" if s.subdomains else None


def server_memory_mib(users: list[str]) -> tuple[int, int]:
    """Summed resident memory of every process of ``users`` (servers, kernels), and how many
    jupyterhub-singleuser processes they run."""
    total, count = 0, 0
    for pid in course_hub.processes_of(users):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            count += b"jupyterhub-singleuser" in command
        except OSError:
            pass
    return round(total / MiB), count


def available_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


class Prober:
    """``GET /hub/api`` every ``interval`` seconds in a thread, while something else happens."""

    def __init__(self, hub: Hub, interval: float = 0.25):
        self.hub, self.interval, self.seconds = hub, interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            started = time.monotonic()
            self.hub.call("GET", "/hub/api", timeout=30)
            self.seconds.append(time.monotonic() - started)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        s = self.seconds or [0.0]
        return {"probes": len(s), "median_ms": round(1000 * statistics.median(s), 1),
                "max_ms": round(1000 * max(s), 1), "over_1s": sum(x > 1 for x in s)}


def right_a1_notebook() -> dict:
    """The released a1 with the solution's code in its answer cells."""
    repo = HERE.parents[1]
    released = json.loads((repo / "assignments" / "a1_convolution" / "a1_convolution.ipynb").read_text())
    solution = json.loads((repo / "solutions" / "a1_convolution" / "a1_convolution.ipynb").read_text())
    code = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in solution["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution")}
    for cell in released["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cell["metadata"].get("nbgrader", {}).get("solution") and grade_id in code:
            cell["source"] = "\n".join(line for line in code[grade_id].split("\n") if "### " not in line)
    return released


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default=os.environ.get("HUB_DIR", "/opt/cnn-course-hub"))
    parser.add_argument("--max", type=int, default=40)
    parser.add_argument("--burst", type=int, default=4, help="0: no burst")
    parser.add_argument("--validate", default="2,4,8")
    args = parser.parse_args(argv)
    settings = course_hub.Settings.load(args.dir)
    hub = Hub(settings)
    names = [f"cap{i:02d}" for i in range(1, args.max + 1)]
    extra = course_hub.Settings(**{**course_hub.dataclasses.asdict(settings), "instructor": names[0],
                                   "students": names[1:]})
    course_hub.create_users(extra)
    out = {"max": args.max, "cores": os.cpu_count(), "sequential": [], "hub": hub.call("GET", "/hub/api")[1]}
    started: list[str] = []
    try:
        print("servers  start_s  api_med_ms  api_max_ms  users_max_ms  load1  servers_MiB  avail_MiB", flush=True)
        for name in names:
            seconds = hub.start(name)
            started.append(name)
            api_median, api_max = hub.latency("/hub/api")
            _, users_max = hub.latency("/hub/api/users", count=3)
            memory, _ = server_memory_mib(started)
            row = {"servers": len(started), "start_s": round(seconds, 1),
                   "api_median_ms": round(1000 * api_median, 1), "api_max_ms": round(1000 * api_max, 1),
                   "users_max_ms": round(1000 * users_max, 1),
                   "load1": round(os.getloadavg()[0], 2), "servers_mib": memory, "available_mib": available_mib()}
            out["sequential"].append(row)
            print(f"{row['servers']:7d}  {row['start_s']:7.1f}  {row['api_median_ms']:10.1f}  "
                  f"{row['api_max_ms']:10.1f}  {row['users_max_ms']:12.1f}  {row['load1']:5.2f}  "
                  f"{memory:11d}  {row['available_mib']:9d}", flush=True)
            if api_max > 1 or users_max > 1 or row["available_mib"] < 2048:
                out["stopped_because"] = "the hub took more than 1 s, or less than 2 GiB left"
                break
        with Prober(hub, interval=1.0) as idle:
            time.sleep(30)
        out["idle_30s"] = idle.summary()
        print(f"all {len(started)} idle for 30 s: {out['idle_30s']}", flush=True)

        burst = started[-args.burst:] if args.burst else []
        for name in burst:
            hub.stop(name)
        if burst:
            with Prober(hub) as probe, ThreadPoolExecutor(len(burst)) as pool:
                t0 = time.monotonic()
                times = list(pool.map(hub.start, burst))
                all_ready = time.monotonic() - t0
            out["burst"] = {"servers": len(burst), "all_ready_s": round(all_ready, 1),
                            "each_s": [round(t, 1) for t in times], "hub": probe.summary()}
            print(f"burst of {len(burst)} starts: {out['burst']}", flush=True)

        notebook = right_a1_notebook()
        out["validate"] = []
        for k in [int(x) for x in args.validate.split(",") if x]:
            group = started[:k]
            tokens = {}
            for name in group:
                # the admin service may not open users' servers: each student's own token
                tokens[name] = hub.call("POST", f"/hub/api/users/{name}/tokens",
                                        {"note": "capacity", "expires_in": 3600})[1]["token"]
                home = settings.home(name)
                path = home / "a1_right.ipynb"
                path.write_text(json.dumps(notebook))
                subprocess.run(["chown", f"{name}:{name}", str(path)], check=True)

            def validate(name, tokens=tokens):
                """(seconds, passed, why not): a request that fails or hangs is a result too."""
                t0 = time.monotonic()
                try:
                    status, result = hub.call("POST", f"/user/{name}/assignments/validate",
                                              {"path": "a1_right.ipynb"}, host=hub.user_host(name),
                                              timeout=300, token=tokens[name])
                except OSError as error:  # a timeout: the handler is still waiting for its kernel
                    return time.monotonic() - t0, False, f"{type(error).__name__}: {error}"
                passed = status == 200 and isinstance(result, dict) and result.get("success") \
                    and not (isinstance(result.get("value"), dict) and result["value"].get("failed"))
                return time.monotonic() - t0, bool(passed), "" if passed else str(result)[:300]

            with Prober(hub) as probe, ThreadPoolExecutor(k) as pool:
                t0 = time.monotonic()
                results = list(pool.map(validate, group))
                wall = time.monotonic() - t0
            row = {"students": k, "all_done_s": round(wall, 1), "each_s": [round(r[0], 1) for r in results],
                   "passed": sum(r[1] for r in results), "hub": probe.summary(),
                   "failures": sorted({r[2] for r in results if r[2]})}
            out["validate"].append(row)
            print(f"{k} students press Validate at once: {row}", flush=True)
    finally:
        for name in started:
            hub.stop(name)
        (settings.state / "capacity.json").write_text(json.dumps(out, indent=1))
        print(f"results: {settings.state / 'capacity.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
