# Executable documentation of the development workflow. A fresh clone needs only:
#   make run    set up, migrate, poll the sample source and show what came in
#   make test   set up and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= config.example.toml

.PHONY: install bytecode run test bench fit-text-model clean

$(BIN)/reviewmon: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/reviewmon

# Our own modules' bytecode, made ahead (only what changed): where PYTHONDONTWRITEBYTECODE
# is set, every start of `reviewmon` (each cron poll, each test that runs the command)
# would otherwise compile them again, about a second on a small machine.
bytecode: install
	@$(BIN)/python -m compileall -q service connectors

run: bytecode
	$(BIN)/reviewmon --config $(CONFIG) migrate
	$(BIN)/reviewmon --config $(CONFIG) poll --verbose
	@echo; echo "Reviews that need an answer:"
	@$(BIN)/reviewmon --config $(CONFIG) inbox --limit 8
	@echo
	@$(BIN)/reviewmon --config $(CONFIG) users first-owner owner
	$(BIN)/reviewmon --config $(CONFIG) serve

# Three test processes, each taking whole files (their module fixtures, such as a browser, are
# set up once): about 6 minutes on a 2-core machine instead of 10. TEST_WORKERS=0 runs in one.
TEST_WORKERS ?= 3

test: bytecode
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

bench: bytecode
	$(BIN)/python bench/run_all.py

# Refit service/reading/text_model.json on the tune split of ../shared/data/reviews (about a
# minute; the same data gives the same file byte for byte).
fit-text-model: install
	$(BIN)/python bench/fit_text_model.py

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info demo.db*
