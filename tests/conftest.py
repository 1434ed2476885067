"""Shared test setup. CUDA-marked tests run only in Numba's CUDA simulator
(NUMBA_ENABLE_CUDASIM=1, set by `make test` for its second pass) or on a real GPU."""
import os

import numpy as np
import pytest

SIM = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"


def _gpu_present():
    if SIM:
        return True
    if os.environ.get("TINYGRAD_SEQ_TEST_GPU", "0") != "1":
        return False  # probing the driver is slow; opt in on GPU machines
    from tinygrad_seq import cuda_available
    return cuda_available()


def pytest_collection_modifyitems(config, items):
    have_gpu = _gpu_present()
    skip = pytest.mark.skip(reason="needs a GPU or NUMBA_ENABLE_CUDASIM=1")
    for item in items:
        if "cuda" in item.keywords and not have_gpu:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed():
    import tinygrad_seq as ts
    ts.manual_seed(0)
    np.random.seed(0)
    yield


# The kernels' calibration (kernels/tuning.py) never runs inside the suite: defaults only, no
# wisdom file read or written; tests/test_tuning.py turns it on where it tests it.
os.environ.setdefault("TINYGRAD_SEQ_TUNE", "off")
# ... and where a test turns it on, the suite's parallel workers must not keep its decisions off
# disk as measured beside other jobs (test_tuning.py sets this back where it tests that rule)
os.environ.setdefault("TINYGRAD_SEQ_TUNE_CALIBRATE_MAX_OTHERS", "inf")
