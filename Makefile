# Two commands for a fresh machine:  `make lab`  and  `make test`.
# Everything is installed into .venv; nothing outside it.

# The student's part (the environment, `make lab`, `make start`, `make validate`) is in
# student_kit/lab.mk, shared with the student kit; everything else is the repository's.
.DEFAULT_GOAL := help
EXTRAS := [dev]
include student_kit/lab.mk

PYTEST_ARGS ?=
# Node.js packages the tests use, installed from the npm registry into .venv/node (not globally):
# axe-core (accessibility checks in the browser tests), configurable-http-proxy (JupyterHub's proxy).
NODE_DIR   := $(VENV)/node
NODE_STAMP := $(NODE_DIR)/.installed
NPM_PACKAGES := axe-core@4.14.1 configurable-http-proxy@5.3.0

# The course on a JupyterHub on this machine (as root): deploy/jupyterhub/, docs/jupyterhub.md.
# HUB_FULL=1 installs torch too (the lessons); without it, assignments only.
HUB_DIR    ?= /opt/cnn-course-hub
HUB_PORT   ?= 18000
HUB_PYTHON ?= /usr/bin/python3.11
HUB_FULL   ?=
HUB_TOOL   := $(PYTHON) deploy/jupyterhub/course_hub.py

.PHONY: lab-instructor test assignments grade report benchmarks gpu-check help hub hub-teardown site site-serve student-kit

help:
	@echo "make lab          set up .venv if needed and start JupyterLab on 127.0.0.1:$(PORT)"
	@echo "make lab-instructor   the same JupyterLab with nbgrader's instructor tools (formgrader, create assignment)"
	@echo "make test         set up .venv if needed and run every test"
	@echo "make start ASSIGNMENT=a1_convolution   your own copy of an assignment, in work/ (not tracked)"
	@echo "make validate ASSIGNMENT=a1_convolution   check your copy the way the grader will (nbgrader validate)"
	@echo "make site         build the course website into _build/site/ (lessons executed, offline)"
	@echo "make site-serve   serve _build/site/ on http://127.0.0.1:$(SITE_PORT)/"
	@echo "make student-kit  the folder and archive students get, without solutions/: _build/student-kit/"
	@echo "make assignments  regenerate assignments/ (student versions) from solutions/"
	@echo "make grade ASSIGNMENT=a1_convolution   autograde every submission in parallel"
	@echo "make report ASSIGNMENT=a1_convolution  what the class got wrong, similar work: reports/a1_convolution.html"
	@echo "make benchmarks   run the benchmark scripts in benchmarks/"
	@echo "make gpu-check    lesson 05's training and speed ladder on 50,000 fake images (first thing on a GPU)"
	@echo "make hub          (root) the course on a JupyterHub at http://localhost:$(HUB_PORT)/: an instructor, three students"
	@echo "make hub-teardown (root) remove the hub's users, exchange and state (PURGE=1: its environment too)"

# instructor/ on top of course/: Formgrader shows submissions sanitized (course_utils.instructor.untrusted.pages)
INSTRUCTOR_CONFIG := $(CURDIR)/jupyter_config/instructor:$(CURDIR)/jupyter_config/course

# The same JupyterLab with nbgrader's instructor tools: Formgrader, Create Assignment, Courses.
lab-instructor: $(STAMP)
	JUPYTER_CONFIG_PATH="$(INSTRUCTOR_CONFIG)" $(LAB) --LabApp.default_url=/lab/tree/solutions

$(NODE_STAMP): Makefile
	@command -v npm >/dev/null || { echo "npm is needed for the browser and hub tests: apt-get install nodejs npm"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(NODE_DIR) $(NPM_PACKAGES)
	@touch $(NODE_STAMP)

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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

hub:
	@test "$$(id -u)" = 0 || { echo "make hub creates Unix users and runs a server as each: run it as root"; exit 1; }
	$(HUB_TOOL) setup --dir $(HUB_DIR) --port $(HUB_PORT) --python $(HUB_PYTHON) $(if $(HUB_FULL),,--light)
	$(HUB_TOOL) run --dir $(HUB_DIR)

hub-teardown:
	$(HUB_TOOL) teardown --dir $(HUB_DIR) $(if $(PURGE),--purge)

# The course website (docs/, the lessons executed, one page per released assignment), built with
# Jupyter Book into _build/site/ without the network: website/build.py, docs/testing.md.
SITE_PORT ?= 8000

site: $(STAMP)
	$(BIN)/python -m website.build

site-serve:
	@test -f _build/site/index.html || { echo "no _build/site/ yet: run make site first"; exit 2; }
	@echo "the course website on http://127.0.0.1:$(SITE_PORT)/ (Ctrl-C stops it)"
	$(BIN)/python -m http.server $(SITE_PORT) --bind 127.0.0.1 --directory _build/site

# What an instructor publishes for students (a repository of its own, or a download): the
# lessons, course_utils without the instructor package, the released assignments and the
# student's JupyterLab configuration, nothing of solutions/: student_kit/build.py.
student-kit:
	$(PYTHON) -m student_kit.build
