# Two entry points: `make run` (the main job on the embedded defaults) and `make test`.
# Both create the virtual environment in .venv on first use; nothing is installed system-wide.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench clean

$(BIN)/scheduler: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/scheduler
	$(BIN)/scheduler validate
	$(BIN)/scheduler run

# Mozilla's ical.js checks the feeds as a calendar client reads them (skipped where npm is missing).
tests/js/node_modules: tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/js --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the ical.js tests will be skipped"; fi

test: $(BIN)/scheduler tests/js/node_modules
	@scripts/install-browser
	$(BIN)/python -m pytest

bench: $(BIN)/scheduler
	$(BIN)/python bench/all.py

clean:
	rm -rf $(VENV) var build *.egg-info tests/js/node_modules test-artifacts
