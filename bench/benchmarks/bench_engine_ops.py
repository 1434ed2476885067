"""asv: the engine's elementwise, row-wise and optimizer kernels at training sizes, torch alongside.

Forward + backward of one op on a [1600, 512] float32 leaf (a batch of 32 sequences of 50 steps
at width 512) with a dense upstream gradient; cross-entropy on [400, 10000] logits (a word LM's
output layer); the embedding on a 10000 x 512 table with 1600 indices; one optimizer step over
8 parameters of [512, 512]. lib "torch" runs the same calls with torch on as many threads as
Numba has (skipped where torch is not installed). Kernels: kernels/elementwise_cpu.py,
kernels/rows_cpu.py, kernels/optim_cpu.py.
"""
import numpy as np

import tinygrad_seq as ts

ROWS, WIDTH, VOCAB = 1600, 512, 10000

OPS = {
    "exp": lambda L, x: x.exp(),
    "sigmoid": lambda L, x: x.sigmoid(),
    "tanh": lambda L, x: x.tanh(),
    "relu": lambda L, x: x.relu(),
    "gelu": lambda L, x: L.nn.functional.gelu(x),
    "softmax": lambda L, x: L.nn.functional.softmax(x, dim=-1),
    "log_softmax": lambda L, x: L.nn.functional.log_softmax(x, dim=-1),
    "layer_norm": lambda L, x: L.nn.functional.layer_norm(x, (WIDTH,)),
}


def _lib(lib):
    if lib == "torch":
        try:
            import torch
        except ImportError:
            raise NotImplementedError("torch not installed") from None
        torch.set_num_threads(ts.get_num_threads())
        return torch
    return ts


class EngineOps:
    """Forward + backward of one op, [1600, 512] float32."""
    params = (list(OPS), ["tinygrad_seq", "torch"])
    param_names = ["op", "lib"]

    def setup(self, op, lib):
        L = _lib(lib)
        rng = np.random.default_rng(0)
        self.fn = OPS[op]
        self.L = L
        self.x = L.tensor(rng.standard_normal((ROWS, WIDTH)).astype(np.float32), requires_grad=True)
        self.g = L.tensor(rng.standard_normal((ROWS, WIDTH)).astype(np.float32))
        self.time_forward_backward(op, lib)

    def time_forward_backward(self, op, lib):
        self.x.grad = None
        self.fn(self.L, self.x).backward(self.g)


class LossAndEmbedding:
    """cross_entropy over [400, 10000] logits; an embedding lookup's forward + backward."""
    params = (["cross_entropy", "embedding"], ["tinygrad_seq", "torch"])
    param_names = ["op", "lib"]

    def setup(self, op, lib):
        L = _lib(lib)
        rng = np.random.default_rng(0)
        if op == "cross_entropy":
            logits = L.tensor(rng.standard_normal((400, VOCAB)).astype(np.float32), requires_grad=True)
            target = L.tensor(rng.integers(0, VOCAB, 400))
            self.leaf = logits
            self.run = lambda: L.nn.functional.cross_entropy(logits, target).backward()
        else:
            table = L.nn.Embedding(VOCAB, WIDTH)
            idx = L.tensor(rng.integers(0, VOCAB, ROWS))
            g = L.tensor(rng.standard_normal((ROWS, WIDTH)).astype(np.float32))
            self.leaf = table.weight
            self.run = lambda: table(idx).backward(g)
        self.time_forward_backward(op, lib)

    def time_forward_backward(self, op, lib):
        self.leaf.grad = None
        self.run()


class OptimizerStep:
    """One step over 8 parameters of [512, 512] float32 with gradients in place."""
    params = (["Adam", "AdamW", "SGD_momentum"], ["tinygrad_seq", "torch"])
    param_names = ["optimizer", "lib"]

    def setup(self, optimizer, lib):
        L = _lib(lib)
        rng = np.random.default_rng(0)
        params = [L.nn.Parameter(L.tensor(rng.standard_normal((512, 512)).astype(np.float32))) for _ in range(8)]
        for p in params:
            p.grad = L.tensor(rng.standard_normal((512, 512)).astype(np.float32))
        if optimizer == "SGD_momentum":
            self.opt = L.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
        else:
            self.opt = getattr(L.optim, optimizer)(params, lr=1e-3)
        self.opt.step()

    def time_step(self, optimizer, lib):
        self.opt.step()


class QuickEngineOps(EngineOps):
    """The subset CI runs and `make bench-regress` tracks: one kernel of each kind, ours only."""
    params = (["sigmoid", "softmax", "layer_norm"], ["tinygrad_seq"])


class CellDecoderSteps:
    """PyTorch's cells as a decoder calls them: 20 steps of nn.LSTMCell / GRUCell / RNNCell
    (B=32, H=256, float32), then one backward through all of them (nn/cell_fused_step.py: each
    step through the fused one-step kernels, the weights' gradients multiplied once)."""
    params = (["LSTMCell", "GRUCell", "RNNCell"], ["tinygrad_seq", "torch"])
    param_names = ["cell", "lib"]

    def setup(self, cell, lib):
        L = _lib(lib)
        rng = np.random.default_rng(0)
        L.manual_seed(0)
        self.cell = getattr(L.nn, cell)(256, 256)
        self.x = L.tensor(rng.standard_normal((20, 32, 256)).astype(np.float32), requires_grad=True)
        self.h0 = L.tensor(rng.standard_normal((32, 256)).astype(np.float32))
        self.lstm = cell == "LSTMCell"
        self.time_forward_backward(cell, lib)

    def time_forward_backward(self, cell, lib):
        state = (self.h0, self.h0) if self.lstm else self.h0
        loss = 0
        for t in range(20):
            state = self.cell(self.x[t], state)
            loss = loss + (state[0] if self.lstm else state).sum()
        loss.backward()
        self.cell.zero_grad()
        self.x.grad = None
