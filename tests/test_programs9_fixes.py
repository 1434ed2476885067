"""Found by running nanoGPT / minGPT / makemore / gpt.py / char-rnn / word_language_model unchanged
against torch 2.13 (round 9): `keepdims=` on reductions, an "infinite" RandomSampler, roll by a
multiple of the size returns a new tensor, torch.backends.cuda's flags, the optimizers'
implementation keywords in their signatures (nanoGPT's `'fused' in inspect.signature(...)`)."""
import inspect
import itertools

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


# 1. makemore lecture / nn-zero-to-hero: P.sum(1, keepdims=True) (numpy spelling, torch accepts it)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "amax", "std", "logsumexp"])
def test_reduction_keepdims_alias(name):
    x = np.arange(6, dtype=np.float32).reshape(2, 3) + 1
    r_t = getattr(torch.tensor(x), name)(1, keepdims=True)
    r_t = r_t[0] if isinstance(r_t, tuple) else r_t
    r_s = getattr(ts.tensor(x), name)(1, keepdims=True)   # ts: TypeError unexpected keyword 'keepdims'
    r_s = r_s[0] if isinstance(r_s, tuple) else r_s
    assert tuple(r_s.shape) == tuple(r_t.shape) == (2, 1)
    np.testing.assert_allclose(r_s.numpy(), r_t.numpy(), rtol=1e-6)


def test_free_function_sum_keepdims_alias():
    x = np.ones((2, 3), np.float32)
    assert tuple(ts.sum(ts.tensor(x), 1, keepdims=True).shape) == tuple(torch.sum(torch.tensor(x), 1, keepdims=True).shape)


# 2. minGPT Trainer / makemore InfiniteDataLoader: RandomSampler(replacement=True, num_samples=int(1e10))
def test_random_sampler_huge_num_samples_is_lazy():
    st = torch.utils.data.RandomSampler(range(10), replacement=True, num_samples=int(1e12))
    first_t = list(itertools.islice(iter(st), 5))
    ss = ts.utils.data.RandomSampler(range(10), replacement=True, num_samples=int(1e12))
    first_s = list(itertools.islice(iter(ss), 5))   # ts: MemoryError (draws all num_samples up front)
    assert len(first_s) == len(first_t) == 5 and all(0 <= i < 10 for i in first_s)


def test_dataloader_with_infinite_sampler_first_batch():
    data = [(np.float32(i), i) for i in range(10)]
    ds = ts.utils.data.DataLoader(data, batch_size=4,
        sampler=ts.utils.data.RandomSampler(data, replacement=True, num_samples=int(1e12)))
    x, y = next(iter(ds))
    assert tuple(x.shape) == (4,)


# 3. makemore MLP.forward: idx = torch.roll(idx, 1, 1); idx[:, 0] = vocab_size  (idx has 1 column
#    at the first generate step) -> ts's roll returns the input itself, the write corrupts the caller's idx
def test_roll_by_multiple_of_size_returns_new_tensor():
    for lib in (torch, ts):
        idx = lib.zeros(3, 1, dtype=lib.long)
        r = lib.roll(idx, 1, 1)
        r[:, 0] = 27
        assert idx.tolist() == [[0], [0], [0]], lib.__name__


def test_roll_zero_shift_method_returns_copy():
    x = ts.arange(6).view(2, 3)
    r = x.roll(3, 1)
    r[0, 0] = -1
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_makemore_mlp_greedy_generate_matches_torch():
    def run(lib):
        nn = lib.nn
        rng = np.random.default_rng(0)
        V, E, B = 5, 3, 4
        wte = nn.Embedding(V + 1, E); lin = nn.Linear(B * E, V)
        with lib.no_grad():
            wte.weight.copy_(lib.from_numpy(rng.standard_normal((V + 1, E)).astype(np.float32)))
            lin.weight.copy_(lib.from_numpy(rng.standard_normal((V, B * E)).astype(np.float32)))
            lin.bias.zero_()
        def fwd(idx):
            embs = []
            for k in range(B):
                embs.append(wte(idx)); idx = lib.roll(idx, 1, 1); idx[:, 0] = V
            return lin(lib.cat(embs, -1))
        idx = lib.zeros(1, 1, dtype=lib.long)
        with lib.no_grad():
            for _ in range(4):
                logits = fwd(idx if idx.size(1) <= B else idx[:, -B:])[:, -1, :]
                idx = lib.cat((idx, logits.argmax(-1, keepdim=True)), 1)
        return idx.tolist()
    assert run(ts) == run(torch)


# 4. nanoGPT train.py / sample.py: torch.backends.cuda.matmul.allow_tf32 = True (runs on every machine)
def test_backends_cuda_matmul_allow_tf32():
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cuda.matmul.allow_tf32
    ts.backends.cuda.matmul.allow_tf32 = True   # ts: AttributeError: no attribute 'cuda'
    assert ts.backends.cuda.matmul.allow_tf32 is True


def test_backends_cuda_sdp_flags():
    assert ts.backends.cuda.flash_sdp_enabled() == torch.backends.cuda.flash_sdp_enabled()


# 5. nanoGPT configure_optimizers: 'fused' in inspect.signature(torch.optim.AdamW).parameters
@pytest.mark.parametrize("opt", ["AdamW", "Adam", "SGD"])
def test_optimizer_signature_lists_implementation_keywords(opt):
    pt = inspect.signature(getattr(torch.optim, opt)).parameters
    ps = inspect.signature(getattr(ts.optim, opt)).parameters
    for kw in ("fused", "foreach"):
        assert (kw in ps) == (kw in pt), kw
