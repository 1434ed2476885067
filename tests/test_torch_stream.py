"""torch's random stream: after manual_seed(s), every draw, module initialisation, sampler and
DataLoader shuffle equals torch 2.13's on the CPU (bit for bit; a float32 normal of 16 or more
elements within float32 rounding: torch computes it with AVX2 approximations)."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _params(m):
    return lambda L: L.cat([p.detach().reshape(-1) for p in m(L).parameters()])


CASES = {
    "rand": lambda L: L.rand(3, 4), "rand_f64": lambda L: L.rand(5, dtype=L.float64),
    "rand_f16": lambda L: L.rand(6, dtype=L.float16), "randn_small": lambda L: L.randn(5),
    "rrelu": lambda L: L.nn.functional.rrelu(L.linspace(-1, 1, 12), training=True),
    "randn_f16_tail": lambda L: (L.randn(20, dtype=L.float16), L.rand(3))[0],
    "randn_f16_tail_stream": lambda L: (L.randn(33, dtype=L.float16), L.rand(3))[1],
    "randn_f64": lambda L: L.randn(5, 8, dtype=L.float64), "randn_f64_small": lambda L: L.randn(3, dtype=L.float64),
    "randint": lambda L: L.randint(0, 7, (20,)), "randint_wide": lambda L: L.randint(-5, 2 ** 40, (4,)),
    "randperm": lambda L: L.randperm(50), "randperm_long": lambda L: L.randperm(5000),
    "randperm_compiled": lambda L: L.randperm(150_000),
    "multinomial_one": lambda L: L.multinomial(L.tensor([[0.1, 0.2, 0.3, 0.4], [1.0, 0, 0, 2]]), 1),
    "multinomial_norepl": lambda L: L.multinomial(L.tensor([0.1, 0.2, 0.3, 0.4, 0.0]), 3),
    "multinomial_repl": lambda L: L.multinomial(L.tensor([[0.1, 0.2, 0.3, 0.4], [1.0, 0, 0, 2]]), 20, True),
    "multinomial_f64": lambda L: L.multinomial(L.tensor([0.1, 0.2, 0.3, 0.4], dtype=L.float64), 30, True),
    "bernoulli_tensor": lambda L: L.bernoulli(L.full((30,), 0.4)),
    "bernoulli_p": lambda L: L.bernoulli(L.zeros(30), p=0.4),
    "bernoulli_inplace": lambda L: L.zeros(30).bernoulli_(0.4),
    "exponential": lambda L: L.zeros(10).exponential_(2.0), "geometric": lambda L: L.zeros(10).geometric_(0.3),
    "cauchy": lambda L: L.zeros(10).cauchy_(), "log_normal": lambda L: L.zeros(5, dtype=L.float64).log_normal_(),
    "normal_f64": lambda L: L.zeros(20, dtype=L.float64).normal_(1, 2),
    # long float64 draws: torch's C-library log / log1p / sin / cos / tan / exp, which numpy's SIMD
    # loops on AVX-512 machines miss by an ulp in a few percent of elements
    "randn_f64_long": lambda L: L.randn(1000, dtype=L.float64),
    "exponential_f64_long": lambda L: L.zeros(1000, dtype=L.float64).exponential_(2.0),
    "geometric_f64_long": lambda L: L.zeros(1000, dtype=L.float64).geometric_(0.3),
    "cauchy_f64_long": lambda L: L.zeros(1000, dtype=L.float64).cauchy_(),
    "log_normal_f64_long": lambda L: L.zeros(300, dtype=L.float64).log_normal_(),
    "normal_f64_scalar_pairs": lambda L: L.stack([L.zeros(3, dtype=L.float64).normal_() for _ in range(50)]),
    "uniform": lambda L: L.zeros(20).uniform_(-2, 3), "random": lambda L: L.zeros(10).random_(),
    "random_to": lambda L: L.zeros(10, dtype=L.int64).random_(5),
    "random_int64": lambda L: L.zeros(3, dtype=L.int64).random_(),
    "dropout": lambda L: L.nn.functional.dropout(L.ones(50), 0.3),
    "dropout_module": lambda L: L.nn.Dropout(0.5)(L.ones(4, 8)),
    "linear": _params(lambda L: L.nn.Linear(5, 3)), "lstm": _params(lambda L: L.nn.LSTM(3, 4, 2)),
    "gru_bi": _params(lambda L: L.nn.GRU(3, 4, bidirectional=True)), "rnn": _params(lambda L: L.nn.RNN(3, 4)),
    "lstm_proj": _params(lambda L: L.nn.LSTM(3, 4, proj_size=2)), "lstm_cell": _params(lambda L: L.nn.LSTMCell(3, 4)),
    "conv1d": _params(lambda L: L.nn.Conv1d(3, 4, 2)), "mha": _params(lambda L: L.nn.MultiheadAttention(8, 2)),
    "encoder_layer": _params(lambda L: L.nn.TransformerEncoderLayer(8, 2, 16)),
    "xavier": lambda L: L.nn.init.xavier_uniform_(L.empty(4, 5)),
    "kaiming_normal": lambda L: L.nn.init.kaiming_normal_(L.empty(3, 5)),
    "trunc_normal_narrow": lambda L: L.nn.init.trunc_normal_(L.empty(40, 5), 5.0, 1.0, 0.0, 1.0),
    "random_split": lambda L: L.tensor(L.utils.data.random_split(range(10), [7, 3])[0].indices),
    "subset_sampler": lambda L: L.tensor(list(L.utils.data.SubsetRandomSampler([5, 6, 7, 8]))),
    "weighted_sampler": lambda L: L.tensor(list(L.utils.data.WeightedRandomSampler([0.1, 0.9, 0.5], 6))),
    "stream_in_step": lambda L: (L.nn.LSTM(3, 4), L.nn.Linear(4, 2), L.rand(3))[2],
}
CLOSE = {   # float32 normals of 16 or more elements: torch's AVX2 log / sin / cos
    "randn": lambda L: L.randn(40), "embedding": lambda L: L.nn.Embedding(10, 4, padding_idx=0).weight.detach(),
    "normal_init": lambda L: L.nn.init.normal_(L.empty(4, 5), std=0.02),
    "normal_tensors": lambda L: L.normal(L.zeros(20), L.ones(20)), "trunc_normal": lambda L: L.nn.init.trunc_normal_(L.empty(4, 5)),
    "orthogonal": lambda L: L.nn.init.orthogonal_(L.empty(4, 5)),
}


def _both(fn, seed):
    torch.manual_seed(seed)
    ts.manual_seed(seed)
    return fn(torch).numpy(), fn(ts).numpy()


@pytest.mark.parametrize("seed", [0, 1234])
@pytest.mark.parametrize("name", sorted(CASES))
def test_draws_are_torchs(name, seed):
    want, got = _both(CASES[name], seed)
    assert want.dtype == got.dtype and np.array_equal(want, got)


@pytest.mark.parametrize("name", sorted(CLOSE))
def test_float32_normals_within_rounding(name):
    want, got = _both(CLOSE[name], 7)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)


def test_dataloader_shuffles_and_the_stream_after_them_are_torchs():
    def run(L):
        L.manual_seed(0)
        data = L.utils.data.TensorDataset(L.arange(10))
        out = []
        for _ in range(2):
            for (batch,) in L.utils.data.DataLoader(data, batch_size=4, shuffle=True):
                out += batch.tolist()
        gen = L.Generator().manual_seed(3)
        for (batch,) in L.utils.data.DataLoader(data, batch_size=3, shuffle=True, generator=gen):
            out += batch.tolist()
        for batch in L.utils.data.DataLoader(range(7), batch_size=2, sampler=L.utils.data.RandomSampler(
                range(7), replacement=True, num_samples=40)):
            out += batch.tolist()
        return out + L.rand(3).tolist()
    assert run(ts) == run(torch)


def test_a_seeded_training_step_is_torchs():
    def run(L):
        L.manual_seed(42)
        model = L.nn.Sequential(L.nn.Embedding(20, 8), L.nn.Dropout(0.2))
        lstm, head = L.nn.LSTM(8, 16, batch_first=True), L.nn.Linear(16, 20)
        opt = L.optim.Adam(list(model.parameters()) + list(lstm.parameters()) + list(head.parameters()), lr=0.01)
        x = L.randint(0, 20, (4, 6))
        out, _ = lstm(model(x))
        loss = L.nn.functional.cross_entropy(head(out).reshape(-1, 20), x.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item(), head.weight.detach().numpy().copy()
    (a, wa), (b, wb) = run(torch), run(ts)
    assert abs(a - b) < 1e-5 and np.allclose(wa, wb, atol=1e-5)


def test_generator_states_are_torchs():
    g, tg = ts.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    ts.rand(3, generator=g), torch.rand(3, generator=tg)
    assert g.get_state().numpy().tobytes() == tg.get_state().numpy().tobytes()
    assert g.get_state().shape == (5056,) and g.initial_seed() == tg.initial_seed() == 9


def _mcg31_reference(seed, n, p):
    # MKL's VSL_BRNG_MCG31 one step at a time (checked against MKL's own viRngBernoulli)
    x, out = seed % (2 ** 31 - 1) or 1, []
    for _ in range(n):
        out.append(x / (2 ** 31 - 1) < p)
        x = x * 1132489760 % (2 ** 31 - 1)
    return np.array(out)


@pytest.mark.parametrize("seed, n", [(0, 5), (12345, 1000), (2 ** 32 - 1, 37), (2 ** 31 - 1, 3)])
def test_mkl_bernoulli_is_mcg31_below_p(seed, n):
    from tinygrad_seq.torch_stream import mkl_bernoulli
    for p in (0.1, 0.5, 0.9):
        assert np.array_equal(mkl_bernoulli(seed, n, p), _mcg31_reference(seed, n, p))


def test_dropout_on_an_intel_cpu_draws_torchs_mkl_masks(monkeypatch):
    # torch on an Intel CPU: one random() word seeds MKL's stream (the machine here may be AMD,
    # so the path is forced and checked against the reference, not against this torch)
    from tinygrad_seq import torch_stream
    monkeypatch.setattr(torch_stream, "TORCH_USES_MKL_BERNOULLI", True)
    ts.manual_seed(5)
    mask = ts.nn.functional.dropout(ts.ones(300), 0.25).numpy() != 0
    seed = int(torch_stream.TorchStream(5).random32(1)[0])
    assert np.array_equal(mask, _mcg31_reference(seed, 300, 0.75))
    assert ts.rand(1).item() == torch_stream.TorchStream(5).uniform(2, 0, 1, np.float32)[1]   # one word used


LAYOUT_CASES = {
    "uniform_transposed": lambda L: L.zeros(6, 5).t().uniform_(-2, 3),
    "random_transposed": lambda L: L.zeros(6, 5).t().random_(0, 10),
    "bernoulli_transposed": lambda L: L.zeros(6, 5).t().bernoulli_(0.3),
    "exponential_transposed": lambda L: L.zeros(6, 5).t().exponential_(2.0),
    "normal_slice": lambda L: L.zeros(6, 5)[:, 1:4].normal_(1, 2),
    "normal_transposed_f64": lambda L: L.zeros(6, 5, dtype=L.float64).t().normal_(),
    "uniform_f64": lambda L: L.empty(100, dtype=L.float64).uniform_(-0.37, 0.37),
    "bernoulli_f64_probs": lambda L: L.bernoulli(L.full((8,), 0.6, dtype=L.float64)),
    "dropout_transposed": lambda L: L.nn.functional.dropout(L.ones(4, 7).t(), 0.3),
    "dropout1d": lambda L: L.nn.functional.dropout1d(L.ones(3, 6, 5), 0.4),
    "categorical": lambda L: L.distributions.Categorical(probs=L.tensor([0.1, 0.2, 0.3, 0.4])).sample((10,)),
    "multinomial_transposed": lambda L: L.multinomial(L.rand(3, 4).t(), 2),
    "lstm_f64_init": _params(lambda L: L.nn.LSTM(3, 4, dtype=L.float64)),
}


@pytest.mark.parametrize("name", sorted(LAYOUT_CASES))
def test_layouts_and_dtypes_draw_as_torch(name):
    want, got = _both(LAYOUT_CASES[name], 3)
    assert np.array_equal(want, got)


def test_dropout_after_a_batch_first_lstm_and_between_packed_layers_is_torchs():
    def run(L):
        L.manual_seed(1)
        lstm = L.nn.LSTM(5, 6, num_layers=2, dropout=0.4, batch_first=True)
        drop = L.nn.Dropout(0.3)
        out, _ = lstm(L.randn(3, 7, 5))
        packed = L.nn.utils.rnn.pack_padded_sequence(L.randn(7, 3, 5), [7, 5, 2])
        out2, (h, _) = L.nn.LSTM(5, 6, num_layers=2, dropout=0.4)(packed)
        return [drop(out).detach().numpy(), out2.data.detach().numpy(), h.detach().numpy(), L.rand(2).numpy()]
    for a, b in zip(run(torch), run(ts)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_rrelu_and_gumbel_draw_as_torch():
    def run(L):
        L.manual_seed(2)
        return [L.nn.functional.rrelu(L.linspace(-1, 1, 12), training=True).numpy(),
                L.nn.functional.gumbel_softmax(L.zeros(4, 6), tau=0.5).numpy(), L.rand(2).numpy()]
    for a, b in zip(run(torch), run(ts)):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_state_bytes_are_torchs_after_seeding_and_with_a_cached_normal():
    for lib in (ts, torch):
        lib.manual_seed(3)
    assert ts.get_rng_state().numpy().tobytes() == torch.get_rng_state().numpy().tobytes()
    ts.randn(1), torch.randn(1)   # a cached second normal
    assert ts.get_rng_state().numpy().tobytes() == torch.get_rng_state().numpy().tobytes()
    ts.set_rng_state(ts.tensor(torch.get_rng_state().numpy()))
    assert ts.randn(3, dtype=ts.float64).tolist() == torch.randn(3, dtype=torch.float64).tolist()
