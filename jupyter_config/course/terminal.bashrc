# A JupyterLab terminal of the course (see jupyter_server_config.py): the student's own bash set-up,
# then the course's environment first on PATH, so `nbgrader`, `python` and `jupyter` are the ones
# JupyterLab runs with.
if [ -f "$HOME/.bashrc" ]; then
    . "$HOME/.bashrc"
fi
if [ -n "$COURSE_PYTHON_BIN" ]; then
    if [ -f "$COURSE_PYTHON_BIN/activate" ]; then
        . "$COURSE_PYTHON_BIN/activate"          # a venv (.venv): prompt shows (.venv)
    else
        export PATH="$COURSE_PYTHON_BIN:$PATH"   # a conda environment or another Python
    fi
fi
