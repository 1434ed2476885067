"""asv: the cell variants (generated fused kernels) beside the hand-written LSTM, forward +
backward, float32, CPU. The peephole LSTM's goal is within 1.15x of the LSTM at every shape
(issue 15); "lstm_generated" is the LSTM's own description through the generated kernel.

Grid: T = 50, B in {1, 16, 64}, H = input size in {64, 256}. Compilation happens in setup.
"""
import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import cell_library, nn
from tinygrad_seq.cellspec import CellSpec
from tinygrad_seq.nn.variants import LAYERS


def _layer(cell, H):
    if cell == "lstm_generated":
        base = cell_library.CELLS["lstm"]
        return nn.Recurrent(CellSpec("lstm_generated", base.gates, base.states, base.step, base.params), H, H)
    return LAYERS[cell](H, H)


class CellVariants:
    # the hand-written LSTM and GRU, then every described variant (cell_library.CLASSES)
    params = (["lstm", "lstm_generated", "gru"] + [k for k, c in cell_library.CLASSES.items() if not c.hand_written],
              [50], [1, 16, 64], [64, 256])
    param_names = ["cell", "T", "B", "H"]
    timeout = 300

    def setup(self, cell, T, B, H):
        ts.manual_seed(0)
        self.layer = _layer(cell, H)
        self.x = ts.Tensor(np.random.default_rng(0).standard_normal((T, B, H)).astype(np.float32))
        self.time_forward_backward()

    def time_forward_backward(self, *args):
        out, _ = self.layer(self.x)
        out.sum().backward()
        self.layer.zero_grad()

    def peakmem_forward_backward(self, *args):
        self.time_forward_backward()
