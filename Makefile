# One test command: `make test`. It creates .venv if missing and installs everything the tests need.
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: test test-fast test-cudasim bench bench-asv bench-check bench-machine bench-history bench-html bench-regress compare demo install clean

$(VPY):
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip setuptools wheel

# compileall: the modules' bytecode, as a non-editable pip install leaves it (an editable install
# does not compile, and where PYTHONDONTWRITEBYTECODE is set every import would compile the source:
# import 0.44 s instead of 0.17 s, bench/cold_start.py)
$(STAMP): pyproject.toml | $(VPY)
	$(VPY) -m pip install -q -e ".[dev]"
	$(VPY) -m compileall -q tinygrad_seq kernels >/dev/null
	touch $(STAMP)

install: $(STAMP)

# the whole suite: CPU tests, then the CUDA-marked tests again in Numba's CUDA simulator (two
# pytest-xdist workers: the simulator runs a kernel launch in Python, seconds per training step,
# on one core each), then a quick asv run of a small benchmark subset so broken benchmarks fail CI
CUDASIM_WORKERS ?= 2

test: $(STAMP)
	$(VPY) -m pytest -q -p no:cacheprovider tests
	NUMBA_ENABLE_CUDASIM=1 $(VPY) -m pytest -q -p no:cacheprovider -n $(CUDASIM_WORKERS) -m cuda tests
	$(MAKE) --no-print-directory bench-check

test-fast: $(STAMP)
	$(VPY) -m pytest -q -x -p no:cacheprovider tests -m "not slow and not mpi"

# --dry-run: CI's quick run checks that the benchmarks work and keeps no results; no calibration
# (kernels/tuning.py) inside make test
bench-check: $(STAMP)
	cd bench && export TINYGRAD_SEQ_TUNE=off && ../$(VPY) -m asv machine --yes --machine ci >/dev/null && \
	  ../$(VPY) -m asv check --python=same && \
	  ../$(VPY) -m asv run --python=same --quick --dry-run --show-stderr --machine ci --bench "$(ASV_QUICK)"

ASV_QUICK ?= Quick

bench: $(STAMP)
	$(VPY) bench/compare_torch.py

# asv results are kept per machine under bench/results/asv/<machine>/ (committed): the machine
# is named and described (CPU model, LLVM's name for the core, vector ISA, L2/L3 sizes) from lscpu by bench/asv_machine.py
ASV := cd bench && ../$(VPY) -m asv
MACHINE = $(shell $(VPY) bench/asv_machine.py --name)
# bench-history: the last N commits (HEAD~N..HEAD), the suite matching BENCH (a regex of names)
N ?= 3
PYVER = $(shell $(VPY) -c "import sys; print('%d.%d' % sys.version_info[:2])")
BENCH ?= Quick

bench-machine: $(STAMP)
	$(VPY) bench/asv_machine.py --register >/dev/null

bench-asv: bench-machine
	$(ASV) run --python=same --show-stderr --machine $(MACHINE)

bench-history: bench-machine
	$(ASV) run --show-stderr --machine $(MACHINE) -E virtualenv:$(PYVER) --bench "$(BENCH)" --skip-existing-commits HEAD~$(N)..HEAD

bench-html: $(STAMP)
	$(ASV) publish && echo "open bench/html/index.html"

# fails (exit 1) when a Quick benchmark of HEAD is more than 10% slower than in HEAD~1
bench-regress: bench-machine
	$(ASV) continuous --show-stderr --machine $(MACHINE) -E virtualenv:$(PYVER) --factor 1.1 --bench "$(ASV_QUICK)" HEAD~1 HEAD

compare: $(STAMP)
	$(VPY) -m tinygrad_seq.compare

# one BLAS thread unless told otherwise: OpenBLAS's spinning threads make the small per-step GEMMs
# up to 25x slower when the 2 cores are shared with anything else
demo: $(STAMP)
	OPENBLAS_NUM_THREADS=$(or $(OPENBLAS_NUM_THREADS),1) $(VPY) -m tinygrad_seq charlm train

clean:
	rm -rf $(VENV) build *.egg-info bench/.asv bench/html
