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

.PHONY: lab test venv assignments grade benchmarks gpu-check clean-venv help

help:
	@echo "make lab          set up .venv if needed and start JupyterLab on 127.0.0.1:$(PORT)"
	@echo "make test         set up .venv if needed and run every test"
	@echo "make assignments  regenerate assignments/ (student versions) from solutions/"
	@echo "make grade ASSIGNMENT=a1_convolution   autograde every submission in parallel"
	@echo "make benchmarks   run the benchmark scripts in benchmarks/"
	@echo "make gpu-check    lesson 05's training and speed ladder on 50,000 fake images (first thing on a GPU)"

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

lab: $(STAMP)
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=. \
	    --LabApp.default_url=/lab/tree/notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

$(NODE_STAMP): Makefile
	@command -v npm >/dev/null || { echo "npm is needed for the browser and hub tests: apt-get install nodejs npm"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(NODE_DIR) $(NPM_PACKAGES)
	@touch $(NODE_STAMP)

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

assignments: $(STAMP)
	$(BIN)/python -m course_utils.instructor.release

grade: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make grade ASSIGNMENT=a1_convolution [JOBS=2]  (several: ASSIGNMENT=\"a1_convolution a2_pooling\")"; exit 2; }
	$(BIN)/python -m course_utils.instructor.autograde $(ASSIGNMENT) $(if $(JOBS),--jobs $(JOBS))

benchmarks: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The first thing to run on a machine with a GPU: images/s, s/epoch, which fast paths ran.
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/bench_gpu.py $(GPU_CHECK_ARGS)

clean-venv:
	rm -rf $(VENV)
