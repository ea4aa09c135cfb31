# The two commands: `make run` (set up, index, serve) and `make test` (set up, run every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-installed-stamp

.PHONY: run test setup test-setup system-deps index rebuild status standins bench clean

# What the site needs to run: `make run` installs nothing more.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# The test tools (pytest, selenium, schemathesis, hypothesis, ...), for `make test` only.
$(TEST_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

setup: $(STAMP)

test-setup: $(TEST_STAMP)

# Debian packages the tests need (OCR, browser, nginx); installs only what is missing.
system-deps:
	bash scripts/install-system-deps.sh

index: setup
	$(BIN)/python -m indexer update

# Options for the server, e.g. make run ARGS="--port 8080 --host 0.0.0.0".
ARGS ?=
run: setup index
	$(BIN)/python -m webapp --watch $(ARGS)

test: test-setup system-deps
	$(BIN)/python -m pytest

rebuild: setup
	$(BIN)/python -m indexer rebuild

status: setup
	$(BIN)/python -m indexer status

# Regenerate the stand-in PDFs of the archive from archive/standins.toml.
standins: setup
	$(BIN)/python archive/make_standins.py

bench: test-setup
	$(BIN)/python bench/run.py --quick

clean:
	rm -rf $(VENV) instance
