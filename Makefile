# Two entry points: `make run` (the main job on the embedded defaults) and `make test`.
# Both create the virtual environment in .venv on first use; nothing is installed system-wide.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bytecode bench clean catalogs docs docs-screenshots docs-serve

$(BIN)/scheduler: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,docs]'
	touch $@

# The package's bytecode, written once: where PYTHONDONTWRITEBYTECODE is set, every command would
# otherwise compile the program from source as it starts (about 0.4 s of each start).
bytecode: $(BIN)/scheduler
	@$(BIN)/python -m compileall -q scheduler

run: $(BIN)/scheduler bytecode
	$(BIN)/scheduler validate
	$(BIN)/scheduler run

# Mozilla's ical.js checks the feeds as a calendar client reads them (skipped where npm is missing).
tests/js/node_modules: tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/js --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the ical.js tests will be skipped"; fi

test: $(BIN)/scheduler bytecode tests/js/node_modules
	@scripts/install-browser
	$(BIN)/python -m pytest
	$(BIN)/mkdocs build --strict --quiet

# The manual (docs/, MkDocs) in site/. Its screenshots are written by the browser tests of the
# user guides (tests/integration/test_guide_screenshots.py): `make docs` runs them first.
docs-screenshots: $(BIN)/scheduler tests/js/node_modules
	@scripts/install-browser
	$(BIN)/python -m pytest -q tests/integration/test_guide_screenshots.py

docs: docs-screenshots
	$(BIN)/mkdocs build --strict

docs-serve: docs-screenshots
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

# After marking or changing strings in templates or code: the catalogs take the new message ids
# (translations kept, changed ones marked fuzzy), then translate what is new in each .po file.
# `make catalogs CATALOGS=web` does one domain.
CATALOGS ?= email digest web dashboard report
catalogs: $(BIN)/scheduler
	@for domain in $(CATALOGS); do \
	  $(BIN)/pybabel -q extract -F locale/$$domain.cfg --project obligation-scheduler --version 0.1 --copyright-holder "the obligation scheduler's authors" --msgid-bugs-address "" --no-wrap --sort-by-file -k _ -k ngettext:1,2 -o locale/$$domain.pot . && \
	  for lang in kk ru en; do \
	    if [ -f locale/$$lang/LC_MESSAGES/$$domain.po ]; then \
	      $(BIN)/pybabel -q update --no-wrap -i locale/$$domain.pot -d locale -D $$domain -l $$lang; \
	    else $(BIN)/pybabel -q init --no-wrap -i locale/$$domain.pot -d locale -D $$domain -l $$lang; fi; \
	  done; rm locale/$$domain.pot; \
	done

bench: $(BIN)/scheduler
	$(BIN)/python bench/all.py

clean:
	rm -rf $(VENV) var build *.egg-info tests/js/node_modules test-artifacts site docs/screenshots
