# `make prove` and `make test` do all set-up themselves on a machine with only Python 3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROVE_ARGS ?=

.PHONY: prove test venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

## prove: prove every theorem (or those of FILE=...) and write reports/proofs.{md,json}
prove: $(STAMP)
	$(BIN)/python -m proofs $(FILE) --out reports $(PROVE_ARGS)

## test: run the test suite
test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
