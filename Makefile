# latency-gap: the front door. `make` alone lists the targets.
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv

# Every variable a user may set (on the command line or in the environment) is taken
# literally: $(value ...) keeps make from running a `$(shell ...)` inside it, and `override`
# makes the literal text the value make exports. Recipes read them from the environment
# ("$$SERVICE"), so the shell never parses a value as code.
USER_VARIABLES := PYTHON VENV SERVICE DATA_DIR REPORTS_DIR CODE FORMAT SET PYTEST_ARGS \
                  SERVICES JOBS EXECUTOR SCHEDULER GATE FORCE
$(foreach name,$(USER_VARIABLES),$(eval override $(name) := $$(value $(name))))
export $(foreach name,$(USER_VARIABLES),$(if $(value $(name)),$(name)))

# Built here, never taken from the command line.
override SHELL := /bin/bash
override MAKEFILE_SELF := $(lastword $(value MAKEFILE_LIST))
export MAKEFILE_SELF
override BIN := "$$VENV"/bin
override STAMP := $(VENV)/.installed
override KERNEL := latency-gap

override REPORT_FLAGS := $(strip $(if $(DATA_DIR),--data-dir "$$DATA_DIR") \
                         $(if $(REPORTS_DIR),--reports-dir "$$REPORTS_DIR") \
                         $(if $(filter 1 yes true,$(CODE)),--code) \
                         $(if $(filter pdf,$(FORMAT)),--pdf))

override FLEET_FLAGS := $(strip $(if $(DATA_DIR),--data-dir "$$DATA_DIR") \
                        $(if $(REPORTS_DIR),--reports-dir "$$REPORTS_DIR") \
                        $(if $(SERVICES),--services "$$SERVICES") \
                        $(if $(JOBS),--jobs "$$JOBS") \
                        $(if $(EXECUTOR),--executor "$$EXECUTOR") \
                        $(if $(SCHEDULER),--scheduler "$$SCHEDULER") \
                        $(if $(filter 1 yes true,$(GATE)),--gate) \
                        $(if $(filter 1 yes true,$(FORCE)),--force))

.PHONY: help setup report fleet services test lint lab simulate capture-example bench \
        conformance docs screenshots clean distclean

## List the targets
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-zA-Z_-]+:/{if(doc){split($$1,t,":"); \
	  printf "  make %-11s %s\n", t[1], doc}; doc=""}' "$$MAKEFILE_SELF"
	@echo "  variables: SERVICE=name DATA_DIR=path REPORTS_DIR=path CODE=1 FORMAT=pdf"
	@echo "  report what-if: SET='budget.p99_ms=100 dns.cache_ttl_s=60' (service.yaml keys)"
	@echo "  fleet: SERVICES=a,b JOBS=n EXECUTOR=local|dask SCHEDULER=tcp://host:8786 GATE=1 FORCE=1"

## Create .venv, install the package with its dev tools, register the Jupyter kernel
setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || "$$PYTHON" -m venv "$$VENV"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) \
	  --display-name "Python (latency-gap)" >/dev/null
	@touch "$$VENV"/.installed
	@echo "setup: $$VENV ready, kernel '$(KERNEL)' registered"

## Build reports/<SERVICE>/report.html and summary.json (FORMAT=pdf: also report.pdf)
# SET='KEY=VALUE ...': what-if overrides, split on whitespace by `read` (never evaluated),
# each passed as one --set argument
report: $(STAMP)
	read -r -a what_if <<< "$${SET-}"; \
	$(BIN)/latency-gap report "$$SERVICE" $(REPORT_FLAGS) "$${what_if[@]/#/--set=}"

## Report every service in parallel: reports/index.html, fleet.json, history.duckdb
fleet: $(STAMP)
	$(BIN)/latency-gap fleet $(FLEET_FLAGS)

## List the services under the data directory
services: $(STAMP)
	@$(BIN)/latency-gap services $(if $(DATA_DIR),--data-dir "$$DATA_DIR")

## Run style checks and the test suite (the same command CI runs; installs chromium, dnsmasq, dig if missing)
test: lint
	@scripts/ensure-test-tools.sh
	PYTEST_ADDOPTS="$$PYTEST_ARGS $${PYTEST_ADDOPTS-}" $(BIN)/python -m pytest

## Screenshot the example reports and the fleet index (desktop, dark, print) into reports/screenshots/
screenshots: $(STAMP)
	$(BIN)/python -m analysis.screenshots $(if $(DATA_DIR),--data-dir "$$DATA_DIR") \
	  $(if $(SERVICES),--services "$$SERVICES")

## Check style with ruff
lint: $(STAMP)
	$(BIN)/ruff check analysis collector tests bench conformance scripts/capture-example

## Open JupyterLab on the notebooks with the project's kernel
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

## Run the benchmarks: ingest (5M lines), attribution (10M rows), report vs floor, verdict vs report, busy service (2M requests per environment), start-up vs import pandas, fleet of 100, 1M-packet capture
bench: $(STAMP)
	$(BIN)/python bench/ingest.py --big
	$(BIN)/python bench/attribution.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/busy.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/fleet.py
	$(BIN)/python bench/pcap.py

## Check the SDK refresh table against real SDK clients (installs botocore, npm and Debian Go SDKs)
conformance: $(STAMP)
	@conformance/install.sh "$$VENV"/bin/python
	$(BIN)/python -m analysis.conformance

## Rewrite the simulated example services in data/ (not the captured orders-api)
simulate: $(STAMP)
	$(BIN)/latency-gap simulate --force

## Recapture data/orders-api on loopback (root, tcpdump, dnsmasq, dig; about a minute)
capture-example: $(STAMP)
	@scripts/ensure-test-tools.sh
	$(BIN)/python scripts/capture-example

## Regenerate docs/cli.md from the commands' --help
docs: $(STAMP)
	$(BIN)/python -m analysis.cli_docs docs/cli.md

## Remove reports and caches (keeps .venv)
clean:
	rm -rf reports .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path "./$$VENV/*" -exec rm -rf {} +

## Remove reports, caches and .venv
distclean: clean
	rm -rf "$$VENV" *.egg-info conformance/node/node_modules conformance/.build
