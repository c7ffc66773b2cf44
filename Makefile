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
	@echo; echo "Reviews that need an answer:"
	@$(BIN)/reviewmon --config $(CONFIG) inbox --limit 8
	@echo
	@$(BIN)/reviewmon --config $(CONFIG) users first-owner owner
	$(BIN)/reviewmon --config $(CONFIG) serve

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info reviewmon.db*
