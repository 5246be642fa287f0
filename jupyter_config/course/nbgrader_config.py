"""nbgrader for every JupyterLab of the course (JUPYTER_CONFIG_PATH holds this folder): a
`nbgrader validate` of a path that names no notebook is an error, not a silent success
(course_utils.grading.validate)."""

from course_utils.grading.validate import refuse_missing_notebooks

refuse_missing_notebooks()
