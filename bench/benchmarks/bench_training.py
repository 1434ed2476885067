"""asv: one training step of PyTorch's word_language_model on the CPU (Embedding -> 2-layer LSTM
-> Linear to the vocabulary, cross entropy, backward, clip_grad_norm_(0.25), SGD(lr=20)), the
issue's shape: vocabulary 10,000, emsize 64, hidden 256, bptt 35, batch 20. The hidden state is
carried and detached between steps, as in the example.

The model and the step are written once against a torch-like namespace (build_lm, lm_trainer)
and run on tinygrad_seq and on torch (lib; torch is skipped where it is not installed) at 1 and
2 threads. bench/lm_vs_torch.py uses the same definitions and interleaves the two libraries.
"""
import numpy as np

from .common import namespace, use_threads

V, E, H, T, B = 10000, 64, 256, 35, 20


def build_lm(L, V, E, H, layers=2):
    """Embedding(V, E) -> LSTM(E, H, layers) -> Linear(H, V); forward gives (T*B, V) logits."""
    nn = L.nn

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(V, E)
            self.rnn = nn.LSTM(E, H, layers)
            self.decoder = nn.Linear(H, V)

        def forward(self, x, hidden):
            out, hidden = self.rnn(self.encoder(x), hidden)
            return self.decoder(out).view(-1, V), hidden

    return RNNModel()


def lm_trainer(L, model, lr=20.0, clip=0.25):
    """step(x, y) -> loss: the example's training step, the hidden state carried (detached)."""
    opt = L.torch.optim.SGD(model.parameters(), lr=lr)
    state = {"hidden": None}

    def step(x, y):
        h = state["hidden"]
        if h is not None:
            h = tuple(t.detach() for t in h)
        opt.zero_grad()
        logits, h = model(x, h)
        loss = L.F.cross_entropy(logits, y.view(-1))
        loss.backward()
        L.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        state["hidden"] = h
        return loss

    return step


def lm_batches(L, V, T, B, n=8, seed=0):
    """n (input (T, B), target (T, B)) pairs of random token ids, the same for both libraries."""
    rng = np.random.default_rng(seed)
    return [(L.torch.tensor(b[:-1]), L.torch.tensor(b[1:])) for b in
            (rng.integers(0, V, (T + 1, B)) for _ in range(n))]


class _LMStep:
    def _setup(self, lib, threads, V, E, H, T, B):
        L = namespace(lib)
        use_threads(L, threads)
        L.torch.manual_seed(0)
        self.step = lm_trainer(L, build_lm(L, V, E, H))
        self.x, self.y = lm_batches(L, V, T, B, n=1)[0]
        self.step(self.x, self.y).item()              # JIT compilation happens here, not timed

    def _run(self):
        return self.step(self.x, self.y).item()


class WordLMTrainStep(_LMStep):
    params = ([1, 2], ["tinygrad_seq", "torch"])
    param_names = ["threads", "lib"]
    timeout = 300

    def setup(self, threads, lib):
        self._setup(lib, threads, V, E, H, T, B)

    def time_train_step(self, threads, lib):
        self._run()

    def peakmem_train_step(self, threads, lib):
        self._run()


class QuickWordLM(_LMStep):
    """The tiny subset CI runs (`asv run --quick --bench Quick`); torch too, so CI runs the
    shared step on both libraries."""
    params = (["tinygrad_seq", "torch"],)
    param_names = ["lib"]

    def setup(self, lib):
        self._setup(lib, 1, 50, 8, 16, 5, 4)

    def time_train_step(self, lib):
        self._run()
