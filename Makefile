# One test command: `make test`. It creates .venv if missing and installs everything the tests need.
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: test test-fast test-cudasim bench bench-asv compare demo install clean

$(VPY):
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip setuptools wheel

$(STAMP): pyproject.toml | $(VPY)
	$(VPY) -m pip install -q -e ".[dev]"
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

bench-check: $(STAMP)
	cd bench && ../$(VPY) -m asv machine --yes --machine ci >/dev/null && \
	  ../$(VPY) -m asv check --python=same && \
	  ../$(VPY) -m asv run --python=same --quick --show-stderr --machine ci --bench "$(ASV_QUICK)"

ASV_QUICK ?= Quick

bench: $(STAMP)
	$(VPY) bench/compare_torch.py

bench-asv: $(STAMP)
	cd bench && ../$(VPY) -m asv machine --yes && ../$(VPY) -m asv run --python=same --show-stderr

compare: $(STAMP)
	$(VPY) -m tinygrad_seq.compare

# one BLAS thread unless told otherwise: OpenBLAS's spinning threads make the small per-step GEMMs
# up to 25x slower when the 2 cores are shared with anything else
demo: $(STAMP)
	OPENBLAS_NUM_THREADS=$(or $(OPENBLAS_NUM_THREADS),1) $(VPY) -m tinygrad_seq charlm train

clean:
	rm -rf $(VENV) build *.egg-info bench/.asv bench/html
