# One command to run the app, one to pass the tests. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-fast test-deps lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-nodeps.txt | $(BIN)/python
	$(BIN)/pip install -r requirements.txt
	$(BIN)/pip install --no-deps -r requirements-nodeps.txt
	touch $@

$(VENV)/.test-installed: requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install -r requirements-test.txt
	# Debian packages for the browser test and the PostgreSQL log-store test (root, as on CI).
	command -v chromium >/dev/null && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || \
	  { apt-get update -q && apt-get install -y -q chromium postgresql; }
	touch $@

install: $(VENV)/.installed

test-deps: $(VENV)/.test-installed

## Serve the chat on http://127.0.0.1:7860 with the embedded defaults (builds the index on first start).
demo: install
	$(BIN)/python app.py

## The linter and the formatter check (ruff.toml). Part of `make test`; `make format` formats the code.
lint: test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: test-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## The whole suite: the linter, fast tests with fakes, end-to-end tests with the real models, the browser tests.
test: lint
	$(BIN)/python -m pytest

## Only the linter and the fast tests (fakes, tiny data): about a minute.
test-fast: lint
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf var .pytest_cache
