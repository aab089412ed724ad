# One command each: `make demo` runs the embedded default, `make test` runs every check.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck pytest bench clean screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/contractsync demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The console's screenshots: the browser tests write them into a temporary folder, then they are
# copied into docs/screenshots/ (the tracked tree changes only when you ask for it).
ifndef SCREENSHOT_DIR
SCREENSHOT_DIR := $(shell mktemp -d -u /tmp/contractsync-screenshots.XXXXXX)
endif
screenshots: $(STAMP)
	mkdir -p $(SCREENSHOT_DIR) docs/screenshots
	CONTRACTSYNC_SCREENSHOTS=$(SCREENSHOT_DIR) $(BIN)/pytest -q -p no:cacheprovider -m browser tests/e2e
	cp $(SCREENSHOT_DIR)/*.png docs/screenshots/
	@echo "screenshots copied from $(SCREENSHOT_DIR) to docs/screenshots/"
