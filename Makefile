# Groundwork's entry points. Each target first sets up whatever is missing (idempotently:
# a second run installs nothing), then acts.
#   make synth   synthesize every environment and run the verify gate (offline)
#   make test    the test suite (what CI runs)

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

# Pipfile names its index as ${PYPI_INDEX_URL}: take pip's configured index, else pip's default.
PYPI_INDEX_URL ?= $(or $(PIP_INDEX_URL),$(shell $(PYTHON) -m pip config get global.index-url 2>/dev/null),$(shell $(PYTHON) -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)'))
export PYPI_INDEX_URL

OUTDIR ?= cdktf.out
REPORTS ?= reports
PYTEST_ARGS ?=
VERIFY = .tools/bin/pipenv run python -m synth verify $(OUTDIR) --require-coverage \
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

.PHONY: setup synth verify test lint clean

setup: .venv/.synced node_modules/.installed

# pipenv itself, only if absent: a private virtualenv avoids touching the system Python.
.tools/bin/pipenv:
	@if command -v pipenv >/dev/null 2>&1; then mkdir -p $(@D) && ln -sf "$$(command -v pipenv)" $@; \
	else echo "setup: installing pipenv $(PIPENV_VERSION) into .tools/" && \
	  { $(PYTHON) -m venv .tools || { echo "setup: '$(PYTHON) -m venv' failed; on Debian/Ubuntu run: apt-get install python3-venv" >&2; exit 1; }; } && \
	  .tools/bin/pip install --quiet "pipenv==$(PIPENV_VERSION)"; fi

.venv/.synced: Pipfile.lock | .tools/bin/pipenv
	@echo "setup: installing Python packages from Pipfile.lock (first run: a few minutes)"
	.tools/bin/pipenv sync --dev
	@touch $@

node_modules/.installed: package-lock.json
	@echo "setup: installing cdktf-cli and Node 22 from package-lock.json"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# cdktf synth runs main.py through pipenv (cdktf.json), then the gate checks the output. The
# environment files are checked first: cdktf's CLI reports any failure of main.py as exit 1,
# so bad input (exit 2) is told apart before it runs.
synth: setup
	$(call gated,.tools/bin/pipenv run python -m synth environments)
	$(call gated,npx cdktf synth --output $(OUTDIR))
	$(call gated,$(VERIFY))

verify: setup
	$(call gated,$(VERIFY))

test: setup
	.tools/bin/pipenv run pytest $(PYTEST_ARGS)

lint: setup
	.tools/bin/pipenv run ruff check .
	.tools/bin/pipenv run ruff format --check .
	.tools/bin/pipenv run mypy synth

clean:
	rm -rf $(OUTDIR) $(REPORTS) .pytest_cache .mypy_cache .ruff_cache .hypothesis
