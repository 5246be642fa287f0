# The student's part of the course's Makefile: the environment, `make lab`, `make start`.
# The repository's Makefile includes this file; the student kit (`make student-kit`) ships it
# beside its own small Makefile, so both run the very same commands.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# What `pip install -e` installs: the repository adds its test tools ([dev]); the kit nothing.
EXTRAS ?=
# Where pip finds torch/torchvision. Empty: the default index (CUDA build on Linux).
# CPU-only build elsewhere:  make lab TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
TORCH_INDEX_URL ?=
PORT ?= 8888

venv: $(STAMP)

# Re-run only when the dependency list changes; `pip install -e` keeps course_utils live.
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed: install it, or pass PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
ifneq ($(strip $(TORCH_INDEX_URL)),)
	$(BIN)/python -m pip install --quiet --index-url $(TORCH_INDEX_URL) torch==2.14.1 torchvision==0.29.1
endif
	$(BIN)/python -m pip install --quiet -e '.$(EXTRAS)'
	$(BIN)/python -m jupyterlab.labextensions list 2>&1 | grep -q jupyterlab_widgets || { echo "jupyterlab_widgets is missing from $(VENV)"; exit 1; }
	@touch $(STAMP)

# JupyterLab reads the course's configuration from jupyter_config/ (JUPYTER_CONFIG_PATH, ahead of
# every other level): course/ for everyone (the accessibility extension, terminals with .venv
# first on PATH), student/ on top of it for students (nbgrader's instructor tools switched off,
# the way nbgrader's docs do it: labconfig/page_config.json and jupyter_server_config.d/).
# .venv/bin comes first on PATH, so a terminal opened in JupyterLab finds nbgrader, python, jupyter.
LAB = PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m jupyterlab --ip=127.0.0.1 --port=$(PORT) \
    --ServerApp.root_dir=. $(if $(filter 0,$(shell id -u)),--allow-root)
STUDENT_CONFIG := $(CURDIR)/jupyter_config/student:$(CURDIR)/jupyter_config/course

lab: $(STAMP)
	JUPYTER_CONFIG_PATH="$(STUDENT_CONFIG)" $(LAB) --LabApp.default_url=/lab/tree/notebooks

# A student's own copy of an assignment, outside the released files: a new release never
# touches it, and nothing the student saves or validates changes a released file.
start:
	@test -n "$(ASSIGNMENT)" || { echo "usage: make start ASSIGNMENT=a1_convolution"; exit 2; }
	@test -d assignments/$(ASSIGNMENT) || { echo "no assignments/$(ASSIGNMENT); choose one of: $$(ls assignments)"; exit 2; }
	@mkdir -p work/$(ASSIGNMENT)
	@for file in assignments/$(ASSIGNMENT)/*; do \
	  target=work/$(ASSIGNMENT)/$$(basename $$file); \
	  if [ -e $$target ]; then echo "kept your $$target"; else cp $$file $$target && chmod u+w $$target && echo "copied $$file -> $$target"; fi; \
	done
	@echo "Open work/$(ASSIGNMENT)/$(ASSIGNMENT).ipynb in JupyterLab (make lab); check it with: make validate ASSIGNMENT=$(ASSIGNMENT)"

# nbgrader's Validate, from the command line, with the course's configuration (as JupyterLab's
# Validate button has it): the whole notebook run as the grader will.
validate: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make validate ASSIGNMENT=a1_convolution"; exit 2; }
	@test -f work/$(ASSIGNMENT)/$(ASSIGNMENT).ipynb || { echo "no work/$(ASSIGNMENT)/$(ASSIGNMENT).ipynb: run make start ASSIGNMENT=$(ASSIGNMENT) first"; exit 2; }
	JUPYTER_CONFIG_PATH="$(STUDENT_CONFIG)" $(BIN)/python -m nbgrader validate work/$(ASSIGNMENT)/$(ASSIGNMENT).ipynb

clean-venv:
	rm -rf $(VENV)

.PHONY: venv lab start validate clean-venv
