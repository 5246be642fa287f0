"""Configuration every JupyterLab of the course loads (`make lab` and `make lab-instructor` put
this folder on JUPYTER_CONFIG_PATH).

* The course's JupyterLab extension (jupyter_config/labextensions/): it names ipywidgets' slider
  handles for screen readers.
* Terminals opened in JupyterLab run bash with terminal.bashrc, which puts the Python running this
  server first on PATH (and activates .venv), so `nbgrader`, `python` and `jupyter` are the
  course's, even where a login shell would reset PATH.
"""

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

c.LabApp.extra_labextensions_path = [str(HERE.parent / "labextensions")]

os.environ["COURSE_PYTHON_BIN"] = str(Path(sys.executable).parent)
bash = shutil.which("bash")
if bash:
    c.ServerApp.terminado_settings = {
        "shell_command": [bash, "--rcfile", str(HERE / "terminal.bashrc"), "-i"],
    }
