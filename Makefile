# `make prove` and `make test` do all set-up themselves on a machine with only Python 3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TORCH  := $(VENV)/.conformance
PROVE_ARGS ?=

.PHONY: prove test conformance bench drift precision mutants venv clean

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
	@# The HTML report's browser test drives Debian's headless Chromium (tests/test_report_browser.py).
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
	  || echo "make test: chromium could not be installed; the browser test skips (fails if CI is set)"; \
	fi
	$(BIN)/python -m pytest -q -n auto --dist loadfile
	@# torch's CPU kernels round differently (AVX2 and AVX-512 fuse multiply-adds, the default
	@# kernel does not) and torch picks one by CPU: run the torch comparisons again under every
	@# other kernel this CPU can run (ATEN_CPU_CAPABILITY must be set before torch is imported).
	@# Left out there: the NumPy-only round trip and the kernel-independent rounding analysis.
	@# Where two other kernels run (an AVX-512 CPU), they run at the same time, each on its share
	@# of the cores (one core each on two: in one process, no workers), and print when both end.
	@native=$$($(BIN)/python -c "import torch; print(torch.backends.cpu.get_cpu_capability().lower())"); \
	flags=" $$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "; \
	has() { for flag; do case "$$flags" in *" $$flag "*) ;; *) return 1;; esac; done; }; \
	kernels=default; \
	if has avx2 fma; then kernels="$$kernels avx2"; fi; \
	if has avx512f avx512bw avx512vl avx512dq; then kernels="$$kernels avx512"; fi; \
	others=""; for kernel in $$kernels; do [ "$$kernel" = "$$native" ] || others="$$others $$kernel"; done; \
	set -- $$others; [ $$# -gt 0 ] || exit 0; \
	workers=$$(( $$(nproc 2>/dev/null || echo 1) / $$# )); [ $$workers -gt 1 ] || workers=0; \
	logs=$$(mktemp -d); pids=""; \
	for kernel in $$others; do \
	  ATEN_CPU_CAPABILITY=$$kernel $(BIN)/python -m pytest -q -p no:cacheprovider -n $$workers --dist loadfile \
	    tests/test_torch_backend.py tests/test_torch_conformance.py tests/test_torch_api.py \
	    -k "not round_trip and not tol_covers" > $$logs/$$kernel.log 2>&1 & pids="$$pids $$!"; \
	done; \
	status=0; for pid in $$pids; do wait $$pid || status=1; done; \
	for kernel in $$others; do echo "ATEN_CPU_CAPABILITY=$$kernel: the torch comparisons"; cat $$logs/$$kernel.log; done; \
	rm -rf $$logs; exit $$status

## conformance: print the worst error against torch.optim per optimizer and dtype
conformance: $(TORCH)
	$(BIN)/python tools/measure_conformance.py

## precision: the certified error of every optimizer's float32 and float64 step against the exact
##            real step, and the drift over 10^4 steps; writes reports/precision.{md,json,png}
precision: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[precision,bench,test]'
	$(BIN)/python tools/precision.py --out reports $(PRECISION_ARGS)

## bench: time every optimizer against torch.optim on real model shapes; writes reports/bench.{md,json,png}
##        (BENCH_ARGS="-k Adam --models 'MLP 1M' --rounds 3" for a part; add --merge to keep the other rows)
bench: $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python tools/bench.py --out reports $(BENCH_ARGS)

## drift: how far the recursive and closed forms of each LR schedule drift apart in float64
##        over 10⁶ steps (DRIFT_ARGS="--steps 1000" for fewer)
drift: $(STAMP)
	$(BIN)/python tools/schedule_drift.py $(DRIFT_ARGS)

## mutants: judge a sample of single-point AST mutants of optim/ by the proofs and the fast tests;
##          prints the kill rate and the survivors (MUTANTS_ARGS="--sample 40 --seed 1 --jobs 2")
mutants: $(TORCH)
	$(BIN)/python tools/mutants.py $(MUTANTS_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
