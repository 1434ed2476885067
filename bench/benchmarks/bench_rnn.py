"""asv: recurrent layers, forward and forward+backward, fused kernels vs the unfused cells.

Grid (issue 4): T in {50, 200}, B in {1, 16, 64}, H = input size in {64, 256, 512}, float32;
device "cpu" or "cuda" ("cuda" is skipped where no GPU is present). JIT compilation happens in
setup (one warm-up call), never in the timed region.
"""
import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import nn

LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _skip_without(device):
    if device == "cuda" and not ts.cuda_available():
        raise NotImplementedError("no GPU")


def _build(cell, T, B, H, fused, device):
    ts.manual_seed(0)
    layer = LAYERS[cell](H, H, fused=fused).to(device)
    rng = np.random.default_rng(0)
    x = ts.Tensor(rng.standard_normal((T, B, H)).astype(np.float32), device=device)
    return layer, x


def _fwd(layer, x):
    with ts.no_grad():
        out, _ = layer(x)
    out.numpy()  # waits for the device


def _fwd_bwd(layer, x):
    out, _ = layer(x)
    out.sum().backward()
    layer.weight_hh_l0.grad.numpy()
    layer.zero_grad()


class RecurrentLayer:
    params = (["rnn", "lstm", "gru"], [50, 200], [1, 16, 64], [64, 256, 512], [True, False], ["cpu", "cuda"])
    param_names = ["cell", "T", "B", "H", "fused", "device"]
    timeout = 300

    def setup(self, cell, T, B, H, fused, device):
        _skip_without(device)
        self.layer, self.x = _build(cell, T, B, H, fused, device)
        _fwd_bwd(self.layer, self.x)

    def time_forward(self, *args):
        _fwd(self.layer, self.x)

    def time_forward_backward(self, *args):
        _fwd_bwd(self.layer, self.x)

    def peakmem_forward_backward(self, *args):
        _fwd_bwd(self.layer, self.x)


class OneStep:
    """One-step calls (T=1: a decoder's or a sampler's step), as bench/step_vs_torch.py times them
    against PyTorch: no time loop to amortise a call's fixed costs over, two products per weight
    matrix; at B=1 a weight gradient is an outer product (blas_cpu.gemm_into)."""
    params = (["rnn", "lstm", "gru"], [1, 16, 64], [128, 256, 512], ["cpu", "cuda"])
    param_names = ["cell", "B", "H", "device"]

    def setup(self, cell, B, H, device):
        _skip_without(device)
        self.layer, self.x = _build(cell, 1, B, H, True, device)
        _fwd_bwd(self.layer, self.x)

    def time_forward(self, *args):
        _fwd(self.layer, self.x)

    def time_forward_backward(self, *args):
        _fwd_bwd(self.layer, self.x)


class QuickRecurrent:
    """The subset CI runs (`asv run --quick --bench Quick`) and `make bench-regress` / `make
    bench-history` track over commits: every cell, fused, on "cpu" and "cuda", at a tiny shape,
    at T=50, B=16, H=256 (where the step product and the thread split decide the time) and at a
    one-step call of B=1, H=512 (a decoder's step: its weight gradients are outer products)."""
    params = (["rnn", "lstm", "gru"], ["T10_B2_H16", "T50_B16_H256", "T1_B1_H512"], ["cpu", "cuda"])
    param_names = ["cell", "shape", "device"]

    def setup(self, cell, shape, device):
        _skip_without(device)
        T, B, H = (int(part[1:]) for part in shape.split("_"))
        self.layer, self.x = _build(cell, T, B, H, True, device)
        _fwd_bwd(self.layer, self.x)

    def time_forward_backward(self, cell, shape, device):
        _fwd_bwd(self.layer, self.x)

    def peakmem_forward_backward(self, cell, shape, device):
        _fwd_bwd(self.layer, self.x)
