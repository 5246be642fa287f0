"""Talking to the course hub over HTTP as its users do: the hub's REST API, each user's server
(the contents API and nbgrader's handlers, which JupyterLab's panels call) and a JupyterLab
terminal. Every request carries the user's own token (``Authorization: token ...``); token
requests need no XSRF token in jupyter_server 2 or JupyterHub 5.

Each user's server lives on its own host, ``<user>.localhost`` (the hub's subdomains). Browsers
resolve ``*.localhost`` to the loopback themselves; Python's resolver does not, so requests go
to the hub's address with that ``Host`` header, which is how the proxy routes them.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid

import requests


class Steps:
    """Seconds per named step, in order (the hub tests' timing table)."""

    def __init__(self):
        self.rows: list[tuple[str, float]] = []

    def timed(self, name: str):
        steps = self

        class Timer:
            def __enter__(self):
                self.started = time.monotonic()

            def __exit__(self, *exc):
                steps.rows.append((name, round(time.monotonic() - self.started, 2)))

        return Timer()


class HubUser:
    """One hub user: their token, their server's URLs, the calls JupyterLab makes for them."""

    def __init__(self, hub_url: str, name: str, token: str, subdomain_host: str | None = None):
        """``hub_url``: where to connect (http://127.0.0.1:PORT); ``subdomain_host``: the hub's
        public host and port (``localhost:PORT``) when each server has a subdomain of it."""
        self.hub_url, self.name, self.token = hub_url, name, token
        self.subdomain_host = subdomain_host
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {token}"

    # --- the hub ---------------------------------------------------------------------------------
    def api(self, path: str = "") -> str:
        return f"{self.hub_url}/hub/api/{path.lstrip('/')}"

    def server(self, path: str = "", user: str | None = None) -> str:
        """A URL on ``user``'s server (default: this user's); send it with :meth:`host`."""
        return f"{self.hub_url}/user/{user or self.name}/{path.lstrip('/')}"

    def host(self, user: str | None = None) -> dict[str, str]:
        """The ``Host`` header that reaches ``user``'s server (default: this user's)."""
        return {"Host": f"{user or self.name}.{self.subdomain_host}"} if self.subdomain_host else {}

    def request(self, method: str, path: str, user: str | None = None, **kwargs) -> requests.Response:
        """``method`` on ``path`` of ``user``'s server (default: this user's), with this user's
        token; redirects are not followed (a redirect means "not yours")."""
        return self.http.request(method, self.server(path, user), headers=self.host(user),
                                 allow_redirects=False, **kwargs)

    def start_server(self, timeout: float = 180) -> float:
        """``POST /hub/api/users/{name}/server``, then poll the user model until ready."""
        started = time.monotonic()
        reply = self.http.post(self.api(f"users/{self.name}/server"))
        if reply.status_code not in (201, 202, 400):  # 400: it is running already
            raise RuntimeError(f"starting {self.name}'s server: {reply.status_code} {reply.text[:500]}")
        while time.monotonic() - started < timeout:
            model = self.http.get(self.api(f"users/{self.name}")).json()
            if model.get("servers", {}).get("", {}).get("ready"):
                return time.monotonic() - started
            time.sleep(0.25)
        raise TimeoutError(f"{self.name}'s server was not ready after {timeout} s")

    # --- JSON calls on the user's own server ----------------------------------------------------------
    def get(self, path: str, **params) -> dict:
        return ok(self.request("GET", path, params=params), f"{self.name}: GET {path}")

    def post(self, path: str, body: dict | None = None) -> dict:
        return ok(self.request("POST", path, json=body or {}), f"{self.name}: POST {path}")

    def put(self, path: str, body: dict) -> dict:
        return ok(self.request("PUT", path, json=body), f"{self.name}: PUT {path}")

    # --- the contents API (JupyterLab's file browser and editor) --------------------------------------
    def read_notebook(self, path: str) -> dict:
        return self.get(f"api/contents/{path}", content=1)["content"]

    def write_notebook(self, path: str, notebook: dict) -> None:
        self.put(f"api/contents/{path}", {"type": "notebook", "format": "json", "content": notebook})

    def read_text(self, path: str) -> str:
        return self.get(f"api/contents/{path}", content=1, type="file", format="text")["content"]

    # --- nbgrader's Assignments panel (assignment_list + validate_assignment handlers) ----------------
    def courses(self) -> dict:
        return self.get("courses")

    def assignments(self, course_id: str) -> dict:
        return self.get("assignments", course_id=course_id)

    def assignment_action(self, action: str, course_id: str, assignment_id: str) -> dict:
        """``fetch``, ``submit`` or ``fetch_feedback``, as the panel's buttons send them."""
        listing = self.post(f"assignments/{action}", {"course_id": course_id, "assignment_id": assignment_id})
        if listing.get("success") is False:
            raise RuntimeError(f"{self.name}: {action} {assignment_id} failed: {listing.get('value')}")
        return listing

    def validate(self, path: str) -> dict:
        return self.post("assignments/validate", {"path": path})

    # --- nbgrader's formgrader (the instructor's server only) -------------------------------------------
    def formgrader(self, method: str, path: str, body: dict | None = None) -> dict | list:
        """Formgrader API call; its actions answer HTTP 200 with ``success`` false on failure."""
        reply = self.request(method, f"formgrader/api/{path}", json=body)
        result = ok(reply, f"{self.name}: {method} formgrader/api/{path}")
        if isinstance(result, dict) and result.get("success") is False:
            raise RuntimeError(f"formgrader {path} failed:\n{result.get('log', '')}\n{result.get('error', '')}")
        return result

    # --- a JupyterLab terminal ----------------------------------------------------------------------------
    def terminal(self, command: str, timeout: float = 600) -> tuple[int, str]:
        """Open a terminal on this user's server, type ``command`` into its shell, and return
        (exit status, everything the terminal printed); the terminal is closed afterwards."""
        name = self.post("api/terminals")["name"]
        try:
            return asyncio.run(self._type(name, command, timeout))
        finally:
            self.request("DELETE", f"api/terminals/{name}")

    async def _type(self, name: str, command: str, timeout: float) -> tuple[int, str]:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        marker = uuid.uuid4().hex
        url = self.server(f"terminals/websocket/{name}").replace("http://", "ws://", 1)
        connection = await websocket_connect(HTTPRequest(
            url, headers={"Authorization": f"token {self.token}", **self.host()}))
        # the marker is split in what is typed, so only the shell's own output contains it whole
        await connection.write_message(json.dumps(
            ["stdin", f"{command}; echo \"{marker[:8]}\"\"{marker[8:]} $?\"\r"]))
        output = ""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.name}'s terminal: `{command}` still running after {timeout} s:\n"
                                       f"{output[-3000:]}")
                message = await asyncio.wait_for(connection.read_message(), left)
                if message is None:
                    raise RuntimeError(f"{self.name}'s terminal closed:\n{output[-3000:]}")
                kind, *data = json.loads(message)
                if kind == "stdout":
                    output += data[0]
                    found = re.search(f"{marker} (\\d+)", output)
                    if found:
                        return int(found.group(1)), strip_terminal_codes(output[:found.start()])
        finally:
            connection.close()


def strip_terminal_codes(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]|\x1b\][^\x07]*\x07|\r", "", text)


def ok(reply: requests.Response, what: str):
    if reply.status_code >= 300:
        raise RuntimeError(f"{what}: HTTP {reply.status_code} {reply.text[:1000]}")
    return reply.json() if reply.content else {}


def admin_session(hub_url: str, token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    return session


def new_token(admin: requests.Session, hub_url: str, user: str, note: str = "course hub test") -> str:
    """A token for ``user`` (``POST /hub/api/users/{user}/tokens`` with the admin service token):
    what the user would get from the hub's Token page."""
    reply = admin.post(f"{hub_url}/hub/api/users/{user}/tokens", json={"note": note, "expires_in": 4 * 3600})
    return ok(reply, f"token for {user}")["token"]
