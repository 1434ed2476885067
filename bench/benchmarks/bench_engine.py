"""asv: the autograd engine's per-op overhead and backward sweep, with torch eager alongside.

Per-op overhead is forward + backward of one small op, (x * y).sum() or (x @ y).sum(), on
(n, n) float32 leaves: at n = 4 the array math is negligible and the time is graph bookkeeping.
The chain builds y = y * 1.0001 n times and times the backward sweep alone (retain_graph=True so
every repeat sweeps the same graph). lib "torch" runs the same code on torch tensors (skipped
where torch is not installed); bench/overhead_vs_torch.py prints the two side by side.
LayerCallOverhead times an nn.LSTM / GRU / RNN call with its kernels replaced by stubs that return
ready arrays: the engine's own cost of a layer call (bench/overhead_layer.py prints it).
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


# cell -> (layer class name, kernel module, gates)
LAYER_KERNELS = {"lstm": ("LSTM", "lstm_cpu", 4), "gru": ("GRU", "gru_cpu", 3), "rnn": ("RNN", "rnn_cpu", 1)}


def stub_layer_kernels(cell, T, B, H, dtype=np.float32):
    """Replace the cell's kernel entry points by stubs returning new arrays of their outputs'
    shapes (the recurrent Functions adopt gradients the kernels allocate); returns restore()."""
    import importlib

    _, module_name, gates = LAYER_KERNELS[cell]
    module = importlib.import_module(f"tinygrad_seq.kernels.{module_name}")
    states = 2 if cell == "lstm" else 1

    def forward(*args, **kwargs):
        return (np.empty((T, B, H), dtype),) + tuple(np.empty((B, H), dtype) for _ in range(states)) + ((),)

    def backward(*args, **kwargs):
        outs = [np.empty((T, B, H), dtype)] + [np.empty((B, H), dtype) for _ in range(states)]
        return tuple(outs + [np.empty((gates * H, H), dtype), np.empty((gates * H, H), dtype),
                             np.empty(gates * H, dtype), np.empty(gates * H, dtype)])

    names = (f"{cell}_forward", f"{cell}_backward")
    originals = [getattr(module, n) for n in names]
    for n, stub in zip(names, (forward, backward)):
        setattr(module, n, stub)

    def restore():
        for n, original in zip(names, originals):
            setattr(module, n, original)
    return restore


def layer_calls(cell, T, B, H):
    """(train_call, inference_call) of nn.<cell>(H, H) on x [T, B, H] with h_0 (and c_0) given:
    forward + backward with the leaves' gradients reset, and a forward under no_grad."""
    rng = np.random.default_rng(0)
    layer = getattr(ts.nn, LAYER_KERNELS[cell][0])(H, H)
    x = ts.tensor(rng.standard_normal((T, B, H)).astype(np.float32), requires_grad=True)
    h0 = ts.tensor(np.zeros((1, B, H), np.float32), requires_grad=True)
    c0 = ts.tensor(np.zeros((1, B, H), np.float32), requires_grad=True)
    dy = ts.tensor(rng.standard_normal((T, B, H)).astype(np.float32))
    state = (h0, c0) if cell == "lstm" else h0
    leaves = (x, h0, c0, *layer.parameters())

    def train_call():
        for p in leaves:
            p.grad = None
        y, _ = layer(x, state)
        y.backward(dy)

    def inference_call():
        with ts.no_grad():
            layer(x, state)

    return train_call, inference_call


class LayerCallOverhead:
    """A recurrent layer call with stubbed kernels (T=50, B=16, H=64): the engine alone."""
    params = (["lstm", "gru", "rnn"],)
    param_names = ["cell"]

    def setup(self, cell):
        self.restore = stub_layer_kernels(cell, 50, 16, 64)
        self.train_call, self.inference_call = layer_calls(cell, 50, 16, 64)

    def teardown(self, cell):
        self.restore()

    def time_forward_backward(self, cell):
        self.train_call()

    def time_forward_no_grad(self, cell):
        self.inference_call()


class LossRangeCheck:
    """binary_cross_entropy (which checks its input lies in [0, 1]) beside
    binary_cross_entropy_with_logits on a [32, 10] batch: the check's cost is the ratio of the two
    (about 1.02x when it was added; it was a timed test before, moved here: timings are not tests)."""
    params = [["binary_cross_entropy", "binary_cross_entropy_with_logits"]]
    param_names = ["loss"]

    def setup(self, loss):
        import tinygrad_seq.nn.functional as F
        rng = np.random.default_rng(0)
        p = ts.from_numpy(rng.random((32, 10)).astype(np.float32)).requires_grad_()
        t = ts.from_numpy(rng.random((32, 10)).astype(np.float32))
        fn = getattr(F, loss)
        self.call = lambda: fn(p, t)

    def time_forward(self, loss):
        self.call()


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
