"""nbgrader for every user of the course hub (students and instructor): which course, where
its exchange is. The hub's spawner sets both variables (deploy/jupyterhub/jupyterhub_config.py),
so the Assignments panel and `nbgrader fetch_assignment a1_convolution` in a terminal need no
--course or --Exchange.root. With the course id fixed, the panel lists only this course, never a
folder someone else made in the world-writable exchange root."""

import os

c = get_config()  # noqa: F821 -- provided by traitlets
c.CourseDirectory.course_id = os.environ.get("COURSE_HUB_COURSE_ID", "cnn_course")
c.Exchange.root = os.environ.get("COURSE_HUB_EXCHANGE", "/srv/nbgrader/exchange")

# A submission belongs to the Unix user who wrote it (course_utils/instructor/exchange/):
# `nbgrader submit --student=<someone else>` is refused, and collect takes a folder only from its
# owner, times it by the file system and copies regular files only.
c.ExchangeFactory.submit = "course_utils.instructor.exchange.submit.ExchangeSubmit"
c.ExchangeFactory.collect = "course_utils.instructor.exchange.collect.ExchangeCollect"

# `nbgrader validate` of a path that names no notebook is an error (course_utils.grading.validate).
from course_utils.grading.validate import refuse_missing_notebooks  # noqa: E402

refuse_missing_notebooks()
