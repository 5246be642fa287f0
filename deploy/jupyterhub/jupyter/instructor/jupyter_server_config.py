"""The instructor's server: let its own pages frame it, so that Nbgrader > Formgrader (an iframe
of /user/<instructor>/formgrader inside JupyterLab) shows. JupyterHub >= 4.1 sends
"frame-ancestors 'none'" from every user server; 'self' is safe only when every user's server has
an origin of its own (the hub's subdomains, which set COURSE_HUB_FRAME_OWN_PAGES): on one shared
origin, a page a student's server serves could frame the instructor's. nbgrader's docs,
"Formgrader with jupyterhub>=4.1", give the same advice."""

import os

c = get_config()  # noqa: F821 -- provided by traitlets
if os.environ.get("COURSE_HUB_FRAME_OWN_PAGES") == "1":
    c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
