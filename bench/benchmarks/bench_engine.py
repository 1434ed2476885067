"""asv: the autograd engine's per-op overhead and backward sweep, with torch eager alongside.

Per-op overhead is forward + backward of one small op, (x * y).sum() or (x @ y).sum(), on
(n, n) float32 leaves: at n = 4 the array math is negligible and the time is graph bookkeeping.
The chain builds y = y * 1.0001 n times and times the backward sweep alone (retain_graph=True so
every repeat sweeps the same graph). lib "torch" runs the same code on torch tensors (skipped
where torch is not installed); bench/overhead_vs_torch.py prints the two side by side.
"""
import numpy as np

import tinygrad_seq as ts


def _lib(lib):
    if lib == "torch":
        try:
            import torch
        except ImportError:
            raise NotImplementedError("torch not installed") from None
        torch.set_num_threads(1)
        return lambda a: torch.tensor(a, requires_grad=True)
    return lambda a: ts.Tensor(a, requires_grad=True)


def _pair(lib, n, seed=0):
    rng = np.random.default_rng(seed)
    make = _lib(lib)
    return (make(rng.standard_normal((n, n)).astype(np.float32)),
            make(rng.standard_normal((n, n)).astype(np.float32)))


OPS = {"mul": lambda x, y: x * y, "matmul": lambda x, y: x @ y}


def _step(op, x, y):
    OPS[op](x, y).sum().backward()
    x.grad = y.grad = None


class PerOpOverhead:
    """Forward + backward of one op on small leaves."""
    params = (["mul", "matmul"], [4, 64], ["tinygrad_seq", "torch"])
    param_names = ["op", "n", "lib"]

    def setup(self, op, n, lib):
        self.x, self.y = _pair(lib, n)
        _step(op, self.x, self.y)

    def time_forward_backward(self, op, n, lib):
        _step(op, self.x, self.y)

    def time_forward(self, op, n, lib):
        OPS[op](self.x, self.y)


def _chain(x, n):
    y = x
    for _ in range(n):
        y = y * 1.0001
    return y.sum()


class ChainBackward:
    """Backward of an n-node chain (the sweep alone; building it is setup)."""
    params = ([1_000, 10_000], ["tinygrad_seq", "torch"])
    param_names = ["n", "lib"]
    timeout = 120

    def setup(self, n, lib):
        self.x = _lib(lib)(np.ones(4, np.float32))
        self.root = _chain(self.x, n)
        self.root.backward(retain_graph=True)

    def time_backward(self, n, lib):
        self.root.backward(retain_graph=True)

    def peakmem_build_and_backward(self, n, lib):
        _chain(self.x, n).backward()


class QuickEngine:
    """Two fast benchmarks for CI (`make bench-check` runs --bench Quick)."""

    def setup(self):
        self.x, self.y = _pair("tinygrad_seq", 4)
        self.root = _chain(self.x, 200)
        self.root.backward(retain_graph=True)

    def time_mul_forward_backward(self):
        _step("mul", self.x, self.y)

    def time_chain_200_backward(self):
        self.root.backward(retain_graph=True)
