"""tinygrad_seq: PyTorch's API for recurrent sequence models on a from-scratch autograd engine,
with fused Numba CPU kernels and numba.cuda GPU kernels for the recurrent inner loop."""
import importlib

from tinygrad_seq.autograd import enable_grad, is_grad_enabled, no_grad  # noqa: F401
from tinygrad_seq.creation import (arange, cat, full, ones, ones_like, rand, randint, randn,  # noqa: F401
                                   stack, tensor, where, zeros, zeros_like)
from tinygrad_seq.device import cuda_available  # noqa: F401
from tinygrad_seq.gradcheck import GradcheckError, gradcheck  # noqa: F401
from tinygrad_seq.random import manual_seed  # noqa: F401
from tinygrad_seq.serialization import load, save  # noqa: F401
from tinygrad_seq.tensor import Tensor  # noqa: F401
from tinygrad_seq.threads import get_num_threads, set_num_threads  # noqa: F401
from tinygrad_seq import functional, nn  # noqa: F401

float32, float64, int64 = "float32", "float64", "int64"
__version__ = "0.1.0"

_LAZY = ("optim", "data", "distributed", "autograd", "utils")


def __getattr__(name):
    # optim, data and distributed load on first use (distributed needs mpi4py)
    if name in _LAZY:
        return importlib.import_module(f"tinygrad_seq.{name}")
    raise AttributeError(f"module 'tinygrad_seq' has no attribute {name!r}")
