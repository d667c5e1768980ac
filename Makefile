# Groundwork's entry points. Each target first sets up whatever is missing (idempotently:
# a second run installs nothing), then acts. `make help` lists targets and settings.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

PYTHON ?= python3
PIPENV_VERSION := 2026.10.3

# The pipenv virtualenv lives in .venv; cdktf's Node (22, from package.json) comes first
# on PATH so both the CLI and the Python jsii runtime use it.
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_VERBOSITY := -1
export PIPENV_IGNORE_VIRTUALENVS := 1
export CHECKPOINT_DISABLE := 1
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.tools/bin:$(PATH)

# Pipfile names its index as ${PYPI_INDEX_URL}. The recipes that run pipenv set it from pip's
# configured index, else pip's default, also when it is set but empty (pipenv then fails with
# "section does not contain a URL"). The shell works it out in those recipes only: asking pip
# takes about 0.7 s, which every `make synth` paid when make did it at start-up (issue 13).
PIPENV = PYPI_INDEX_URL="$${PYPI_INDEX_URL:-$${PIP_INDEX_URL:-$$($(PYTHON) -m pip config get \
  global.index-url 2>/dev/null || $(PYTHON) -c 'from pip._internal.models.index import PyPI; \
  print(PyPI.simple_url)')}}" .tools/bin/pipenv
# $(call pipenv,ARGS): run pipenv so, echoing only `pipenv ARGS` (its quotes escaped).
define pipenv
@echo 'pipenv $(subst ','\'',$(1))'; $(PIPENV) $(1)
endef

OUTDIR ?= cdktf.out
REPORTS ?= reports
PYTEST_ARGS ?=
# main.py (which cdktf runs) writes the gate's reports here.
export GROUNDWORK_REPORTS := $(REPORTS)
VERIFY = .venv/bin/python -m synth verify $(OUTDIR) --require-coverage \
	--json $(REPORTS)/verify.json --junit $(REPORTS)/verify.xml --sarif $(REPORTS)/verify.sarif

# Exit codes (README, "The verify gate"): 0 pass, 1 gate failure (a failed check, a guard),
# 2 bad input (environment files, waivers, arguments). make exits 2 whenever a recipe fails, so
# each gated step ends with a line saying which of the two it was.
# (GNU make then adds its own "*** [...] Error N" line, N being the same 1 or 2.)
define gated
@echo '$(1)'; $(1) || { status=$$?; if [ $$status -eq 2 ]; then \
  echo "make $@: bad input (exit 2)" >&2; else echo "make $@: gate FAILED (exit $$status)" >&2; \
  fi; exit $$status; }
endef

.PHONY: help setup synth verify test bench lint clean

help:  ## this list
	@echo "Targets (each sets up what is missing first):"
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## /  make \1\t/' | expand -t 16
	@echo "Settings (make VAR=value, or the environment):"
	@echo "  OUTDIR=$(OUTDIR)      where the stacks are written (cdktf --output)"
	@echo "  REPORTS=$(REPORTS)        where the gate writes verify.json, .xml and .sarif"
	@echo "  CLOUD=aws|gcp|azure    override every environment's cloud for one run"
	@echo "  GROUNDWORK_STACKS=dev  synthesize only these stacks (comma-separated)"
	@echo "  GROUNDWORK_ENVIRONMENTS=examples/crm/environments"
	@echo "                         the environment files' folder (default environments/)"
	@echo "  PYTEST_ARGS=...        extra pytest arguments for make test"
	@echo "  TEST_WORKERS=2         make test's pytest-xdist workers (0: one process)"
	@echo "  BENCH_ARGS=...         make bench's arguments (--runs N, --test-runs N; it rewrites benchmarks/results.md)"

setup: .venv/.synced node_modules/.installed  ## install pipenv, Python packages, cdktf-cli and Node 22

# pipenv itself, only if absent: a private virtualenv avoids touching the system Python.
.tools/bin/pipenv:
	@if command -v pipenv >/dev/null 2>&1; then mkdir -p $(@D) && ln -sf "$$(command -v pipenv)" $@; \
	else echo "setup: installing pipenv $(PIPENV_VERSION) into .tools/" && \
	  { $(PYTHON) -m venv .tools || { echo "setup: '$(PYTHON) -m venv' failed; on Debian/Ubuntu run: apt-get install python3-venv" >&2; exit 1; }; } && \
	  .tools/bin/pip install --quiet "pipenv==$(PIPENV_VERSION)"; fi

.venv/.synced: Pipfile.lock | .tools/bin/pipenv
	@echo "setup: installing Python packages from Pipfile.lock (first run: a few minutes)"
	$(call pipenv,sync --dev)
	@touch $@

node_modules/.installed: package-lock.json
	@echo "setup: installing cdktf-cli and Node 22 from package-lock.json"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# main.py runs the way `cdktf synth` runs it (cdktf.json's "app", the output folder in
# CDKTF_OUTDIR; the stacks are byte-identical, tests/test_main.py): it checks the environment
# files and the operator waivers file first (bad input stops there, before the synthesis),
# synthesizes, stops jsii's Node process and runs the verify gate; the output folder is
# replaced only when the gate passes. Leaving the CLI out saves its Node processes (about
# 350 MB at the peak, issue 13) and passes main.py's exit status through.
synth: setup  ## synthesize every environment and verify it (offline)
	$(call gated,CDKTF_OUTDIR=$(OUTDIR) .venv/bin/python main.py)

verify: setup  ## run the verify gate again on the existing output
	$(call gated,$(VERIFY))

# Two pytest-xdist workers (issue 13): much of a serial run waits on one subprocess at a time
# (a synthesis, a Checkov scan, the cdktf CLI) or runs in-process on one core. --dist loadscope
# keeps each module's tests on one worker, so no module-scoped fixture (a mutation run, a
# described app's gate) is built twice; the session's matrix is built once for both
# (tests/conftest.py, built_once). TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= 2
test: setup  ## the test suite (what CI runs)
	$(call pipenv,run pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS))

bench: setup  ## measure speed and memory (issue 13 targets) into benchmarks/results.md; slow
	.venv/bin/python benchmarks/bench.py $(BENCH_ARGS)

lint: setup  ## ruff and mypy
	$(call pipenv,run ruff check .)
	$(call pipenv,run ruff format --check .)
	$(call pipenv,run mypy synth)

clean:  ## remove the output, reports and caches
	rm -rf $(OUTDIR) $(REPORTS) .groundwork .pytest_cache .mypy_cache .ruff_cache .hypothesis
