"""asv: one training step of PyTorch's word_language_model on the CPU (Embedding -> 2-layer LSTM
-> Linear to the vocabulary, cross entropy, backward, clip_grad_norm_(0.25), SGD), the issue's
shape: vocabulary 10,000, emsize 64, hidden 256, bptt 35, batch 20. The hidden state is
carried and detached between steps, as in the example. bench/lm_vs_torch.py times the same
step against PyTorch.
"""
import numpy as np

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as F
from tinygrad_seq import nn


class _LM(nn.Module):
    def __init__(self, V, E, H, L):
        super().__init__()
        self.encoder = nn.Embedding(V, E)
        self.rnn = nn.LSTM(E, H, L)
        self.decoder = nn.Linear(H, V)

    def forward(self, x, hidden):
        out, hidden = self.rnn(self.encoder(x), hidden)
        return self.decoder(out).view(-1, self.decoder.out_features), hidden


class _LMStep:
    def _setup(self, V, E, H, T, B):
        ts.manual_seed(0)
        self.model = _LM(V, E, H, 2)
        self.opt = ts.optim.SGD(self.model.parameters(), lr=20.0)
        rng = np.random.default_rng(0)
        data = rng.integers(0, V, (T + 1, B))
        self.x, self.y = ts.tensor(data[:-1]), ts.tensor(data[1:]).view(-1)
        self.hidden = None
        self._step()                                  # JIT compilation happens here, not timed

    def _step(self):
        h = None if self.hidden is None else tuple(t.detach() for t in self.hidden)
        self.opt.zero_grad()
        logits, self.hidden = self.model(self.x, h)
        loss = F.cross_entropy(logits, self.y)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), 0.25)
        self.opt.step()
        return loss.item()


class WordLMTrainStep(_LMStep):
    timeout = 300

    def setup(self):
        self._setup(10000, 64, 256, 35, 20)

    def time_train_step(self):
        self._step()

    def peakmem_train_step(self):
        self._step()


class QuickWordLM(_LMStep):
    """The tiny subset CI runs (`asv run --quick --bench Quick`)."""
    def setup(self):
        self._setup(50, 8, 16, 5, 4)

    def time_train_step(self):
        self._step()
