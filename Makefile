# sealtrail: `make run` serves the store with the demonstration cohort; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench clean-venv

$(BIN)/python:
	@echo "installing sealtrail into $(VENV) (the first time only; about a minute)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(VENV)/.installed $@

# init's and demo's outputs are held back and printed last, just before serving, so that the
# one-time passwords (the administrator's, then the demonstration staff's, on the first run) end
# the output instead of scrolling away under verify's and the progress lines (on stderr).
run: $(VENV)/.installed
	@initialised="$$($(BIN)/sealtrail init)" && \
	demonstrated="$$($(BIN)/sealtrail demo)" && \
	$(BIN)/sealtrail verify && \
	echo "serving http://$(HOST):$(PORT) (pages at /login, API docs at /docs); Ctrl-C stops" && \
	printf '%s\n' "$$initialised" "$$demonstrated" && \
	exec $(BIN)/sealtrail serve --host $(HOST) --port $(PORT) --log-level warning

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Two test processes a core: measured, the suite kept the cores busy only half of the time with
# one a core (tests wait on servers, browsers, PostgreSQL and subprocesses).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))

test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/append.py
	$(BIN)/python benchmarks/verify.py
	$(BIN)/python benchmarks/replay.py
	$(BIN)/python benchmarks/http_writes.py
	$(BIN)/python benchmarks/packet.py
