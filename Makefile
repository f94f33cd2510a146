# GGZY Watch — the two set-up commands are `make demo` and `make test` (see README).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
SVENV := .venv-superset
BOOT := .ggzy/boot
UV := $(BOOT)/bin/uv
export GGZY_HOME ?= $(CURDIR)/.ggzy

PIPELINE_STAMP := $(VENV)/.installed-$(shell cat requirements/pipeline.lock pyproject.toml | sha256sum | cut -c1-12)-pyc
SUPERSET_STAMP := $(SVENV)/.installed-$(shell cat requirements/superset.lock | sha256sum | cut -c1-12)-pyc
# Bytecode compiled once at install (uv does not by default): where PYTHONDONTWRITEBYTECODE is
# set, as on the CI machines, every process would otherwise compile what it imports on each
# start (GX's import alone: ~5 s of the quality gate's 10 s; docs/benchmarks.md). Files no
# Python 3 imports (aenum's _py2.py) do not compile: their errors are not the install's.
COMPILE = $(1)/bin/python -m compileall -q -j 0 $(1)/lib > /dev/null || true

.PHONY: help demo stop test test-fast venvs warehouse-url lint dashboards-check screenshots docs clean eval-real

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(BOOT)
	$(BOOT)/bin/pip install -q uv

$(PIPELINE_STAMP): requirements/pipeline.lock pyproject.toml | $(UV)
	test -x $(VENV)/bin/python || $(UV) venv -q --python $(PYTHON) $(VENV)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(UV) pip install -q -r requirements/pipeline.lock
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(UV) pip install -q --no-deps -e .
	$(call COMPILE,$(VENV))
	rm -f $(VENV)/.installed-*; touch $@

$(SUPERSET_STAMP): requirements/superset.lock | $(UV)
	test -x $(SVENV)/bin/python || $(UV) venv -q --python $(PYTHON) $(SVENV)
	VIRTUAL_ENV=$(CURDIR)/$(SVENV) $(UV) pip install -q -r requirements/superset.lock
	$(call COMPILE,$(SVENV))
	rm -f $(SVENV)/.installed-*; touch $@

venvs: $(PIPELINE_STAMP) $(SUPERSET_STAMP) ## create/update both virtualenvs (quick when nothing changed)

demo: venvs ## warehouse + demo landing zone + nightly runs through Airflow + Superset, left running
	GGZY_DEMO=1 $(VENV)/bin/ggzy demo up

stop: ## stop what `make demo` started
	-$(VENV)/bin/ggzy demo down

# the test packages on every core, at most 4 (each worker starts its own PostgreSQL): a
# package or file runs whole on one worker, the longest first (tests/conftest.py); 0 = serial
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) --maxprocesses 4

test: venvs ## the whole test suite (CI runs exactly this)
	$(VENV)/bin/python -m pytest $(XDIST)

test-fast: venvs ## the tests that run no pipeline: units, dbt unit tests on empty inputs, lint, DAG integrity
	$(VENV)/bin/python -m pytest $(XDIST) -m "not pipeline"

warehouse-url: ## print a libpq URL of the running warehouse (paste into psql)
	@$(VENV)/bin/ggzy warehouse url

lint: ## ruff + sqlfluff
	$(VENV)/bin/ruff check plugins dags tests tools
	cd dbt_project && ../$(VENV)/bin/sqlfluff lint models

dashboards-check: ## every chart of every dashboard queried through Superset's API (after make demo)
	PYTHONPATH=plugins $(SVENV)/bin/python -m ggzy_superset.check

screenshots: ## headless-Chromium screenshots of the dashboards into docs/screenshots (after make demo)
	PYTHONPATH=plugins $(SVENV)/bin/python -m ggzy_superset.screenshot

eval-real: ## risk ranking on the labelled cartel data in ../shared/realdata (docs/evaluation.md, Real markets)
	$(VENV)/bin/ggzy eval real ../shared/realdata/cartels/*.csv --min-auc-vs-cv 0 --min-mean-auc 0.65

docs: ## dbt docs (catalog of every model and column)
	$(VENV)/bin/ggzy dbt docs generate

clean: stop ## remove local state (warehouse data, logs) — keeps the virtualenvs
	rm -rf .ggzy/pgdata .ggzy/airflow .ggzy/run .ggzy/landing .ggzy/superset .ggzy/exports
