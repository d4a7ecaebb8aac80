# `make prove` and `make test` do all set-up themselves on a machine with only Python 3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TORCH  := $(VENV)/.conformance
PROVE_ARGS ?=

.PHONY: prove test conformance bench venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# torch is the reference of the conformance tests, installed for them only.
$(TORCH): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,conformance,fast]'
	touch $(TORCH)

venv: $(STAMP)

## prove: prove every theorem and write reports/proofs.{md,json,html};
##        with FILE=my_theorems.py, prove that file's theorems into reports/my_theorems/
prove: $(STAMP)
	$(BIN)/python -m proofs $(FILE) --out reports$(if $(FILE),/$(basename $(notdir $(FILE)))) $(PROVE_ARGS)

## test: run the test suite, torch.optim conformance included
test: $(TORCH)
	$(BIN)/python -m pytest -q

## conformance: print the worst error against torch.optim per optimizer and dtype
conformance: $(TORCH)
	$(BIN)/python tools/measure_conformance.py

## bench: time every optimizer against torch.optim; writes reports/bench.{md,json}
bench: $(TORCH)
	$(BIN)/python tools/bench.py --out reports

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
