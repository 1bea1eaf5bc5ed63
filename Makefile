# latency-gap: the front door. `make` alone lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := latency-gap

SERVICE ?=
DATA_DIR ?=
REPORTS_DIR ?=
CODE ?=
FORMAT ?=
PYTEST_ARGS ?=

REPORT_FLAGS := $(if $(DATA_DIR),--data-dir "$(DATA_DIR)") \
                $(if $(REPORTS_DIR),--reports-dir "$(REPORTS_DIR)") \
                $(if $(filter 1 yes true,$(CODE)),--code) \
                $(if $(filter pdf,$(FORMAT)),--pdf)

.PHONY: help setup report services test lint lab simulate bench clean distclean

## List the targets
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-zA-Z_-]+:/{if(doc){split($$1,t,":"); \
	  printf "  make %-10s %s\n", t[1], doc}; doc=""}' $(MAKEFILE_LIST)
	@echo "  variables: SERVICE=name DATA_DIR=path REPORTS_DIR=path CODE=1 FORMAT=pdf"

## Create .venv, install the package with its dev tools, register the Jupyter kernel
setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) \
	  --display-name "Python (latency-gap)" >/dev/null
	@touch $(STAMP)
	@echo "setup: $(VENV) ready, kernel '$(KERNEL)' registered"

## Build reports/<SERVICE>/report.html and summary.json (FORMAT=pdf: also report.pdf)
report: $(STAMP)
	$(BIN)/latency-gap report "$(SERVICE)" $(REPORT_FLAGS)

## List the services under the data directory
services: $(STAMP)
	@$(BIN)/latency-gap services $(if $(DATA_DIR),--data-dir "$(DATA_DIR)")

## Run style checks and the test suite (the same command CI runs; installs chromium if missing)
test: lint
	@scripts/ensure-chromium.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Check style with ruff
lint: $(STAMP)
	$(BIN)/ruff check analysis tests

## Open JupyterLab on the notebooks with the project's kernel
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

## Run the benchmarks: ingest of a 5M-line log, attribution on 10M rows, report vs floor
bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/attribution.py
	$(BIN)/python bench/report.py

## Rewrite the bundled example services in data/ with the simulator
simulate: $(STAMP)
	$(BIN)/latency-gap simulate --force

## Remove reports and caches (keeps .venv)
clean:
	rm -rf reports .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

## Remove reports, caches and .venv
distclean: clean
	rm -rf $(VENV) *.egg-info
