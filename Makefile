# Two commands for a fresh machine:  `make lab`  and  `make test`.
# Everything is installed into .venv; nothing outside it.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Where pip finds torch/torchvision. Empty: the default index (CUDA build on Linux).
# CPU-only build elsewhere:  make lab TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
TORCH_INDEX_URL ?=
PORT ?= 8888
PYTEST_ARGS ?=
# Node.js packages the tests use, installed from the npm registry into .venv/node (not globally):
# axe-core (accessibility checks in the browser tests), configurable-http-proxy (JupyterHub's proxy).
NODE_DIR   := $(VENV)/node
NODE_STAMP := $(NODE_DIR)/.installed
NPM_PACKAGES := axe-core@4.14.1 configurable-http-proxy@5.3.0

# The course on a JupyterHub on this machine (as root): deploy/jupyterhub/, README "Running the
# course on a JupyterHub". HUB_FULL=1 installs torch too (the lessons); without it, assignments only.
HUB_DIR    ?= /opt/cnn-course-hub
HUB_PORT   ?= 18000
HUB_PYTHON ?= /usr/bin/python3.11
HUB_FULL   ?=
HUB_TOOL   := $(PYTHON) deploy/jupyterhub/course_hub.py

.PHONY: lab lab-instructor test venv start assignments grade report benchmarks gpu-check clean-venv help hub hub-teardown

help:
	@echo "make lab          set up .venv if needed and start JupyterLab on 127.0.0.1:$(PORT)"
	@echo "make lab-instructor   the same JupyterLab with nbgrader's instructor tools (formgrader, create assignment)"
	@echo "make test         set up .venv if needed and run every test"
	@echo "make start ASSIGNMENT=a1_convolution   your own copy of an assignment, in work/ (not tracked)"
	@echo "make assignments  regenerate assignments/ (student versions) from solutions/"
	@echo "make grade ASSIGNMENT=a1_convolution   autograde every submission in parallel"
	@echo "make report ASSIGNMENT=a1_convolution  what the class got wrong, similar work: reports/a1_convolution.html"
	@echo "make benchmarks   run the benchmark scripts in benchmarks/"
	@echo "make gpu-check    lesson 05's training and speed ladder on 50,000 fake images (first thing on a GPU)"
	@echo "make hub          (root) the course on a JupyterHub at http://localhost:$(HUB_PORT)/: an instructor, three students"
	@echo "make hub-teardown (root) remove the hub's users, exchange and state (PURGE=1: its environment too)"

venv: $(STAMP)

# Re-run only when the dependency list changes; `pip install -e` keeps course_utils live.
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed: install it, or pass PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
ifneq ($(strip $(TORCH_INDEX_URL)),)
	$(BIN)/python -m pip install --quiet --index-url $(TORCH_INDEX_URL) torch==2.14.1 torchvision==0.29.1
endif
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/jupyter labextension list 2>&1 | grep -q jupyterlab_widgets || { echo "jupyterlab_widgets is missing from .venv"; exit 1; }
	@touch $(STAMP)

# JupyterLab reads the course's configuration from jupyter_config/ (JUPYTER_CONFIG_PATH, ahead of
# every other level): course/ for everyone (the accessibility extension, terminals with .venv
# first on PATH), student/ on top of it for students (nbgrader's instructor tools switched off,
# the way nbgrader's docs do it: labconfig/page_config.json and jupyter_server_config.d/).
# .venv/bin comes first on PATH, so a terminal opened in JupyterLab finds nbgrader, python, jupyter.
LAB = PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) \
    --ServerApp.root_dir=. $(if $(filter 0,$(shell id -u)),--allow-root)
STUDENT_CONFIG    := $(CURDIR)/jupyter_config/student:$(CURDIR)/jupyter_config/course
INSTRUCTOR_CONFIG := $(CURDIR)/jupyter_config/course

lab: $(STAMP)
	JUPYTER_CONFIG_PATH="$(STUDENT_CONFIG)" $(LAB) --LabApp.default_url=/lab/tree/notebooks

# The same JupyterLab with nbgrader's instructor tools: Formgrader, Create Assignment, Courses.
lab-instructor: $(STAMP)
	JUPYTER_CONFIG_PATH="$(INSTRUCTOR_CONFIG)" $(LAB) --LabApp.default_url=/lab/tree/solutions

$(NODE_STAMP): Makefile
	@command -v npm >/dev/null || { echo "npm is needed for the browser and hub tests: apt-get install nodejs npm"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(NODE_DIR) $(NPM_PACKAGES)
	@touch $(NODE_STAMP)

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A student's own copy of an assignment, outside the tracked release: `git pull` of a new release
# never touches it, and nothing the student saves or validates changes a tracked file.
start:
	@test -n "$(ASSIGNMENT)" || { echo "usage: make start ASSIGNMENT=a1_convolution"; exit 2; }
	@test -d assignments/$(ASSIGNMENT) || { echo "no assignments/$(ASSIGNMENT); choose one of: $$(ls assignments)"; exit 2; }
	@mkdir -p work/$(ASSIGNMENT)
	@for file in assignments/$(ASSIGNMENT)/*; do \
	  target=work/$(ASSIGNMENT)/$$(basename $$file); \
	  if [ -e $$target ]; then echo "kept your $$target"; else cp $$file $$target && chmod u+w $$target && echo "copied $$file -> $$target"; fi; \
	done
	@echo "Open work/$(ASSIGNMENT)/$(ASSIGNMENT).ipynb in JupyterLab (make lab); check it with: .venv/bin/nbgrader validate work/$(ASSIGNMENT)/$(ASSIGNMENT).ipynb"

assignments: $(STAMP)
	$(BIN)/python -m course_utils.instructor.release

grade: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make grade ASSIGNMENT=a1_convolution [JOBS=2] [NO_SANDBOX=1]  (several: ASSIGNMENT=\"a1_convolution a2_pooling\")"; exit 2; }
	$(BIN)/python -m course_utils.instructor.autograde $(ASSIGNMENT) $(if $(JOBS),--jobs $(JOBS)) $(if $(NO_SANDBOX),--no-sandbox)

# After make grade: one HTML page (reports/ASSIGNMENT.html) and a summary. NAMES=1 shows student ids.
report: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make report ASSIGNMENT=a1_convolution [NAMES=1] [THRESHOLD=0.65]"; exit 2; }
	$(BIN)/python -m course_utils.instructor.report $(ASSIGNMENT) $(if $(NAMES),--names) $(if $(THRESHOLD),--threshold $(THRESHOLD))

benchmarks: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The first thing to run on a machine with a GPU: images/s, s/epoch, which fast paths ran.
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/bench_gpu.py $(GPU_CHECK_ARGS)

clean-venv:
	rm -rf $(VENV)

hub:
	@test "$$(id -u)" = 0 || { echo "make hub creates Unix users and runs a server as each: run it as root"; exit 1; }
	$(HUB_TOOL) setup --dir $(HUB_DIR) --port $(HUB_PORT) --python $(HUB_PYTHON) $(if $(HUB_FULL),,--light)
	$(HUB_TOOL) run --dir $(HUB_DIR)

hub-teardown:
	$(HUB_TOOL) teardown --dir $(HUB_DIR) $(if $(PURGE),--purge)
