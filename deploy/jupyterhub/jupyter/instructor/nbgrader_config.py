"""nbgrader for the instructor: the course's own nbgrader_config.py from their course folder
(its root, solutions/ -> assignments/, gradebook, timeouts, the sandboxed autograde), after the
common layer's course id and exchange. The spawner puts this layer in front of the common one."""

import os

c = get_config()  # noqa: F821 -- provided by traitlets
course = os.environ.get("COURSE_HUB_COURSE_DIR", os.path.expanduser("~/course"))
if os.path.isfile(os.path.join(course, "nbgrader_config.py")):
    load_subconfig(os.path.join(course, "nbgrader_config.py"))  # noqa: F821
