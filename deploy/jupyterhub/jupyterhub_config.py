"""JupyterHub for the course on one machine: every student a Unix user with their own server.

    COURSE_HUB_SETTINGS=<dir>/state/settings.json <dir>/env/bin/jupyterhub -f jupyterhub_config.py

(as root; ``course_hub.py run``/``start`` do exactly this, ``make hub`` too). The settings file
is written by ``course_hub.py setup``: paths, names, ports. What this file decides:

* the hub, its proxy (configurable-http-proxy from npm, a local install) and every user
  server listen on 127.0.0.1 only;
* each user logs in with their own password (a file only root can read) -- swap in PAM or your
  institution's OAuth for a real course (docs/jupyterhub.md);
* ``LocalProcessSpawner``: each server runs as its user, from the shared course environment,
  niced, at most ``concurrent_spawn_limit`` starting at once;
* Jupyter config layers: everyone gets the course id, the exchange, the Assignments panel and
  Validate; only the instructor gets the formgrader, the course list and Create Assignment;
* a service token with the admin role, for scripts that pre-start servers (not a user: nobody
  logs in with it).
"""

import json
import os
import secrets
from pathlib import Path

from jupyterhub.auth import Authenticator
from traitlets import Unicode

c = get_config()  # noqa: F821 -- provided by traitlets

SETTINGS = json.loads(Path(os.environ["COURSE_HUB_SETTINGS"]).read_text())
STATE = Path(SETTINGS["dir"]) / "state"
ETC = Path(SETTINGS["dir"]) / "etc"
ENV = Path(SETTINGS["env"])
INSTRUCTOR = SETTINGS["instructor"]
STUDENTS = SETTINGS["students"]
IP = SETTINGS["ip"]


# --- who may log in ---------------------------------------------------------------------------------
class PasswordFileAuthenticator(Authenticator):
    """Each user's own password from a JSON file that only root reads.

    Not ``DummyAuthenticator`` (its ``password`` is deprecated since JupyterHub 5.3) nor its
    replacement ``SharedPasswordAuthenticator`` (one password lets anyone log in as any
    student, which would make the privacy tests meaningless)."""

    passwords_file = Unicode(config=True, help="JSON {username: password}")

    async def authenticate(self, handler, data):
        passwords = json.loads(Path(self.passwords_file).read_text())
        name = self.normalize_username(data.get("username", ""))
        expected = passwords.get(name)
        if expected and secrets.compare_digest(data.get("password", "").encode(), expected.encode()):
            return {"name": name}
        return None


c.JupyterHub.authenticator_class = PasswordFileAuthenticator
c.PasswordFileAuthenticator.passwords_file = str(STATE / "passwords.json")
c.Authenticator.allowed_users = {INSTRUCTOR, *STUDENTS}
c.Authenticator.admin_users = set()  # the instructor is not a hub admin: no access to students' servers

# --- network: loopback only ---------------------------------------------------------------------------
c.JupyterHub.bind_url = f"http://{IP}:{SETTINGS['port']}"
c.JupyterHub.hub_ip = IP
c.JupyterHub.hub_port = SETTINGS["hub_api_port"]
c.ConfigurableHTTPProxy.api_url = f"http://{IP}:{SETTINGS['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [SETTINGS["proxy"]]  # not on PATH: npm --prefix install
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.Spawner.ip = IP
if SETTINGS["subdomains"]:
    # <user>.<public_host> for each server: one origin per user. Browsers resolve *.localhost
    # to the loopback by themselves; a real course needs a wildcard DNS record (and certificate).
    c.JupyterHub.subdomain_host = f"http://{SETTINGS['public_host']}:{SETTINGS['port']}"

# --- the hub's own state --------------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "hub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user server

# --- a token for scripts: a service with the admin role's user and server scopes -------------------------
c.JupyterHub.services = [
    {"name": SETTINGS["admin_service"], "api_token": (STATE / "admin_token").read_text().strip()},
]
c.JupyterHub.load_roles = [{
    "name": "course-admin",
    "services": [SETTINGS["admin_service"]],
    "scopes": ["admin:users", "admin:servers", "tokens", "list:users", "read:users"],
}]

# --- user servers: one per user, as that user, from the shared environment -----------------------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(ENV / "bin" / "jupyterhub-singleuser")]
if SETTINGS["spawn_nice"] > 0:
    # students' kernels (a CPU training run in lesson 05) yield the CPU to the hub and the proxy
    c.Spawner.cmd = ["/usr/bin/nice", "-n", str(SETTINGS["spawn_nice"]), *c.Spawner.cmd]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90
# A class logging in at once: extra logins wait ("Too many users") instead of stalling the hub.
c.JupyterHub.concurrent_spawn_limit = SETTINGS["concurrent_spawn_limit"]
COMMON = str(ETC / "common")
c.Spawner.environment = {
    # the shared env first: nbgrader runs the `alembic` command when it creates a gradebook
    "PATH": f"{ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "JUPYTER_CONFIG_PATH": COMMON,
    "COURSE_HUB_COURSE_ID": SETTINGS["course_id"],
    "COURSE_HUB_EXCHANGE": SETTINGS["exchange"],
}


def instructor_layer(spawner):
    """The instructor's server reads the instructor layer (formgrader on, the course's
    nbgrader_config.py) in front of the common one; Jupyter merges both, the first winning."""
    if spawner.user.name == INSTRUCTOR:
        home = Path(SETTINGS["homes"] or "/home") / INSTRUCTOR
        spawner.environment = dict(spawner.environment, JUPYTER_CONFIG_PATH=f"{ETC / 'instructor'}:{COMMON}",
                                   COURSE_HUB_COURSE_DIR=str(home / "course"),
                                   # the Formgrader panel is an iframe of the instructor's own
                                   # server: allowed only when that server has an origin of its own
                                   COURSE_HUB_FRAME_OWN_PAGES="1" if SETTINGS["subdomains"] else "")


c.Spawner.pre_spawn_hook = instructor_layer
