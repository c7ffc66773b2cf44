# Executable documentation of the development workflow. A fresh clone needs only:
#   make run    set up, migrate, poll the sample source and show what came in
#   make test   set up and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= config.example.toml

.PHONY: install run test bench clean

$(BIN)/reviewmon: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/reviewmon

run: install
	$(BIN)/reviewmon --config $(CONFIG) migrate
	$(BIN)/reviewmon --config $(CONFIG) poll --verbose
	@echo; echo "Negative reviews (newest first):"
	@$(BIN)/reviewmon --config $(CONFIG) reviews list --negative --limit 10
	@echo; echo "Drafted replies waiting for an owner:"
	@$(BIN)/reviewmon --config $(CONFIG) drafts list --status drafted --limit 10
	@echo; echo "Weekly trend:"
	@$(BIN)/reviewmon --config $(CONFIG) trends
	@echo; echo "Next: reviewmon --config $(CONFIG) drafts show ID | drafts approve ID | drafts edit ID --text '...'"

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info reviewmon.db*
