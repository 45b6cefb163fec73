# sealtrail: `make run` serves the store with the demonstration cohort; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint compiled bench lock clean-venv

# The lock: every distribution installed at the version the suite was run with (make lock
# writes it, pip freeze of the test environment); every install below is held to it with -c,
# and sealtrail check-install compares the installation with it.
LOCK := constraints.txt

$(BIN)/python:
	@echo "installing sealtrail into $(VENV) (the first time only; about a minute)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	@$(BIN)/python -m pip install --quiet -c $(LOCK) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(LOCK) | $(BIN)/python
	@$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[test]'
	@touch $(VENV)/.installed $@

# After a change of pyproject.toml's dependencies: install unconstrained, then pin what came.
lock: | $(BIN)/python
	@$(BIN)/python -m pip install --quiet -e '.[test]'
	@{ echo "# The lock (make lock): pip freeze of the test environment. Every install of the"; \
	   echo "# Makefile is held to it (-c); sealtrail check-install compares with it."; \
	   echo "# python $$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"; \
	   $(BIN)/python -m pip freeze --exclude-editable; } > $(LOCK)
	@touch $(VENV)/.installed $(VENV)/.installed-test

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
# one a core (tests wait on servers, browsers, PostgreSQL and subprocesses). loadgroup: a module's
# tests that share a fixture made once a module stay on one worker (tests/conftest.py).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))
# The tests' stores, servers' homes and packets are made in memory (tmpfs) where the machine has
# one: every SQLite commit waits for fsync, ~7 ms on this disk, and thousands of them kept the
# workers waiting. A test kills processes, never the machine, so what it proves of durability
# holds the same on tmpfs. pytest numbers its folders there as under /tmp, so runs never collide.
TEST_TMPDIR ?= $(shell test -d /dev/shm -a -w /dev/shm && echo /dev/shm || echo $${TMPDIR:-/tmp})

# The run starts hundreds of Python processes (each `sealtrail` a test runs, each server worker);
# each compiled sealtrail's sources again where PYTHONDONTWRITEBYTECODE is set (pip compiled the
# libraries' at install): ~0.1 s of CPU a console command, ~0.2 s a server worker, measured.
# Compiled once here into __pycache__ (ignored by git), as Python itself writes them by default.
# Likewise pytest's own compiled test modules (their asserts rewritten): each test process
# rewrote all of them, 6.5 s of CPU of its 10.9 s collection; one collection here writes them
# (pytest reads them even where PYTHONDONTWRITEBYTECODE is set), on the core mypy leaves idle.
# Only a head start: what it finds wrong (a module that fails to import) the run itself reports.
SOURCES := api domain infrastructure projections signatures tests wsgi.py

test: $(VENV)/.installed-test
	@$(MAKE) --no-print-directory -j 2 lint compiled
	TMPDIR=$(TEST_TMPDIR) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

compiled: $(VENV)/.installed-test
	@$(BIN)/python -m compileall -q -j 0 $(SOURCES) >/dev/null
	@env -u PYTHONDONTWRITEBYTECODE TMPDIR=$(TEST_TMPDIR) \
	  $(BIN)/python -m pytest --collect-only -q -p no:cacheprovider >/dev/null 2>&1 || true

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/append.py
	$(BIN)/python benchmarks/verify.py
	$(BIN)/python benchmarks/replay.py
	$(BIN)/python benchmarks/http_writes.py
	$(BIN)/python benchmarks/packet.py
	$(BIN)/python benchmarks/console_startup.py
