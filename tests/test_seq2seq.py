"""Seq2seq: data helpers, the generated tasks, Encoder/Decoder/Seq2Seq (padding end to end,
gradients), greedy decoding and beam search, small training runs, the dates example, bad input."""
import datetime
import json
import os

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.examples import dates_data as D
from tinygrad_seq.seqdata import (Vocab, batches, bucket_by_length, length_mask, make_batch,
                                  pad_sequences)


# ---------------------------------------------------------------- data helpers
def test_vocab_roundtrip_and_specials():
    v = Vocab("hello world")
    assert (v.pad_idx, v.bos_idx, v.eos_idx, v.unk_idx) == (0, 1, 2, 3)
    assert v.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert len(v) == 4 + len(set("hello world"))
    ids = v.encode("hold", bos=True, eos=True)
    assert ids.dtype == np.int64 and ids[0] == 1 and ids[-1] == 2
    assert v.decode(ids, join="") == "hold"
    assert v.encode("z")[0] == v.unk_idx and v.decode(v.encode("hz"), join="") == "h<unk>"
    # decode stops at eos and drops pads
    assert v.decode([v["h"], v.eos_idx, v["o"]], join="") == "h"
    assert v.decode([v["h"], 0, 0]) == ["h"]
    assert Vocab.from_json(v.to_json()).itos == v.itos
    assert Vocab.build(["ba", "ab"]).itos[4:] == ["a", "b"]


def test_pad_sequences_and_mask():
    arr, lens = pad_sequences([[1, 2, 3], [4], [5, 6]], pad_value=0)
    np.testing.assert_array_equal(arr, [[1, 2, 3], [4, 0, 0], [5, 6, 0]])
    np.testing.assert_array_equal(lens, [3, 1, 2])
    np.testing.assert_array_equal(length_mask(lens), arr != 0)
    arr, lens = pad_sequences([[1, 2, 3], [4]], pad_value=9, max_len=2)
    np.testing.assert_array_equal(arr, [[1, 2], [4, 9]])
    np.testing.assert_array_equal(lens, [2, 1])


def test_make_batch_shifts_target():
    v = Vocab("abc")
    b = make_batch(["ab", "c"], ["ba", "cc"], v, v)
    np.testing.assert_array_equal(b["src"], [[v["a"], v["b"]], [v["c"], 0]])
    np.testing.assert_array_equal(b["src_lengths"], [2, 1])
    np.testing.assert_array_equal(b["tgt_in"], [[1, v["b"], v["a"]], [1, v["c"], v["c"]]])
    np.testing.assert_array_equal(b["tgt_out"], [[v["b"], v["a"], 2], [v["c"], v["c"], 2]])
    with pytest.raises(ValueError, match="source sequence 1 is empty"):
        make_batch(["ab", ""], ["a", "b"], v, v)


def test_batches_and_buckets_cover_every_index_once():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 40, size=1003)
    for bs in (batches(1003, 64, rng=rng), bucket_by_length(lengths, 64, rng=rng, bucket_size=320)):
        idx = np.concatenate(bs)
        assert sorted(idx.tolist()) == list(range(1003))
        assert max(len(b) for b in bs) == 64
    assert len(batches(10, 4, drop_last=True)) == 2
    # buckets waste less padding than random batches
    def pad_cost(bs):
        return sum(len(b) * lengths[b].max() - lengths[b].sum() for b in bs)
    assert pad_cost(bucket_by_length(lengths, 64, rng=rng)) < 0.3 * pad_cost(batches(1003, 64, rng=rng))
    assert [b.tolist() for b in bucket_by_length([3, 1, 2], 2, shuffle=False)] == [[1, 2], [0]]


# ---------------------------------------------------------------- generated tasks
def test_dates_are_correct_and_splits_disjoint():
    rng = np.random.default_rng(0)
    train = D.random_dates(3000, rng, "train")
    val = D.random_dates(1000, rng, "val")
    test = D.random_dates(3000, rng, "test")
    days = [{t for _, t in split} for split in (train, val, test)]
    assert not days[0] & days[1] and not days[0] & days[2] and not days[1] & days[2]
    for src, iso in train[:200] + test[:200]:
        d = datetime.date.fromisoformat(iso)
        assert str(d.year) in src or f"{d.year % 100:02d}" in src
    for src, iso in train + test:
        assert 0 < len(src) <= 30 and set(src) <= set(D.SOURCE_CHARS) and set(iso) <= set(D.TARGET_CHARS)
    # the split is about 5% of the days
    assert abs((len(D._DAYS["val"]) + len(D._DAYS["test"])) / D.N_DAYS - D.HELDOUT_FRACTION) < 0.001
    with pytest.raises(ValueError, match="split must be"):
        D.random_dates(1, rng, "dev")


def test_every_written_date_is_unambiguous():
    seen = {}
    for k in range(0, D.N_DAYS, 5):
        d = D.FIRST_DAY + datetime.timedelta(days=k)
        for f in range(D.N_FORMATS):
            s = D.render(d, f, 1)           # lower case: the coarsest of the three cases
            assert seen.setdefault(s, d) == d, f"{s!r} means both {seen[s]} and {d}"


def test_reversals():
    pairs = D.random_reversals(50, np.random.default_rng(0), 2, 5, 4)
    assert all(t == s[::-1] and 2 <= len(s) <= 5 and set(s) <= set("abcd") for s, t in pairs)


# ---------------------------------------------------------------- model
V_SRC, V_TGT = 11, 9


def tiny(rnn_type="lstm", attention="general", dtype=np.float32, layers=1, bidirectional=True, seed=0):
    ts.manual_seed(seed)
    m = nn.Seq2Seq(V_SRC, V_TGT, embed_size=5, hidden_size=6, num_layers=layers, rnn_type=rnn_type,
                   attention=attention, bidirectional=bidirectional)
    return m.to(dtype=dtype)


def rand_batch(B=4, S=7, T=5, seed=0):
    rng = np.random.default_rng(seed)
    lens = rng.integers(1, S + 1, size=B)
    lens[0] = S
    src = rng.integers(4, V_SRC, size=(B, S))
    src[np.arange(S)[None, :] >= lens[:, None]] = 0
    tgt_in = rng.integers(3, V_TGT, size=(B, T))
    tgt_in[:, 0] = 1
    return src, lens, tgt_in


@pytest.mark.parametrize("rnn_type,attention,layers,bidirectional", [
    ("lstm", "general", 1, True), ("gru", "bahdanau", 2, True), ("lstm", "concat", 2, False),
    ("gru", "dot", 1, False)])
def test_padding_end_to_end(rnn_type, attention, layers, bidirectional):
    """Each sequence of a padded batch gets the logits it gets alone, whatever the pad ids are."""
    if attention == "dot":
        m = nn.Seq2Seq(V_SRC, V_TGT, 5, 6, layers, rnn_type, "dot", bidirectional=False).double()
    else:
        m = tiny(rnn_type, attention, np.float64, layers, bidirectional)
    src, lens, tgt_in = rand_batch()
    logits, attn = m(src, lens, tgt_in)
    assert logits.shape == (4, 5, V_TGT) and attn.shape == (4, 5, 7)
    a = attn.numpy()
    assert np.all(a[np.broadcast_to(np.arange(7)[None, None, :] >= lens[:, None, None], a.shape)] == 0.0)
    np.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-12)
    junk = src.copy()
    junk[np.arange(7)[None, :] >= lens[:, None]] = 5
    np.testing.assert_array_equal(m(junk, lens, tgt_in)[0].numpy(), logits.numpy())
    for i in range(4):
        alone, _ = m(src[i:i + 1, :lens[i]], lens[i:i + 1], tgt_in[i:i + 1])
        np.testing.assert_allclose(alone.numpy()[0], logits.numpy()[i], rtol=1e-9, atol=1e-12)


def test_loss_ignores_pad_targets():
    m = tiny(dtype=np.float64)
    src, lens, tgt_in = rand_batch()
    tgt_out = np.roll(tgt_in, -1, axis=1)
    tgt_out[:, -1] = 2
    tgt_out[1, 2:] = 0
    logits, _ = m(src, lens, tgt_in)
    logits.retain_grad()
    loss = m.loss(logits, tgt_out)
    lp = logits.numpy() - np.log(np.exp(logits.numpy()).sum(-1, keepdims=True))
    valid = tgt_out != 0
    ref = -np.take_along_axis(lp, tgt_out[..., None], -1)[..., 0][valid].mean()
    np.testing.assert_allclose(loss.item(), ref, rtol=1e-12)
    loss.backward()
    assert np.all(logits.grad.numpy()[~valid] == 0.0)


def test_gradcheck_tiny_model():
    m = tiny(dtype=np.float64)
    src, lens, tgt_in = rand_batch(B=2, S=4, T=3)
    tgt_out = np.roll(tgt_in, -1, axis=1)
    names = ["bridge_c.bias", "decoder.attention.linear.weight", "decoder.combine.weight", "decoder.out.bias",
             "decoder.rnn.bias_ih_l0", "encoder.rnn.bias_hh_l0_reverse"]
    params = dict(m.named_parameters())
    assert ts.gradcheck(lambda *ps: m.loss(m(src, lens, tgt_in)[0], tgt_out), [params[n] for n in names],
                        atol=1e-7, rtol=1e-5, n_projections=1)


def _torch_twin():
    import importlib.util
    path = os.path.join(os.path.dirname(__file__), "..", "bench", "seq2seq_vs_torch.py")
    spec = importlib.util.spec_from_file_location("seq2seq_vs_torch", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.torch_model_class()


@pytest.mark.parametrize("layers", [1, 2])
def test_matches_pytorch(layers):
    """Same weights in an equivalent PyTorch model: same logits, attention and gradients."""
    torch = pytest.importorskip("torch")
    m = tiny(dtype=np.float64, layers=layers)
    tm = _torch_twin()(V_SRC, V_TGT, 5, 6, layers).double()
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in m.state_dict().items()})
    src, lens, tgt_in = rand_batch()
    tgt_out = np.roll(tgt_in, -1, axis=1)
    tgt_out[2, 3:] = 0
    logits, attn = m(src, lens, tgt_in)
    m.loss(logits, tgt_out).backward()
    t_logits, t_attn = tm(torch.from_numpy(src), torch.from_numpy(lens), torch.from_numpy(tgt_in))
    torch.nn.functional.cross_entropy(t_logits.reshape(-1, V_TGT), torch.from_numpy(tgt_out).reshape(-1),
                                      ignore_index=0).backward()
    np.testing.assert_allclose(logits.numpy(), t_logits.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(attn.numpy(), t_attn.detach().numpy(), rtol=1e-10, atol=1e-12)
    t_params = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-8, atol=1e-12,
                                   err_msg=name)


def test_teacher_forcing_ratio():
    m = tiny()
    src, lens, tgt_in = rand_batch()
    full, _ = m(src, lens, tgt_in)
    np.testing.assert_allclose(m(src, lens, tgt_in, teacher_forcing_ratio=1.0)[0].numpy(), full.numpy())
    # ratio 0: every input after bos is the model's own previous argmax: greedy decoding
    free, attn = m(src, lens, tgt_in, teacher_forcing_ratio=0.0)
    g = m.greedy_decode(src, lens, max_len=5)
    own = free.numpy()
    own[:, :, [0, 1]] = -np.inf
    steps = g.tokens.shape[1]
    first_eos = np.array([min(list(np.nonzero(g.tokens[i] == 2)[0]) + [steps]) for i in range(4)])
    for i in range(4):
        n = min(first_eos[i] + 1, steps)
        np.testing.assert_array_equal(own[i, :n].argmax(-1), g.tokens[i, :n])
    with pytest.raises(ValueError, match="teacher_forcing_ratio"):
        m(src, lens, tgt_in, teacher_forcing_ratio=1.5)


# ---------------------------------------------------------------- decoding
def trained_reversal_model(steps=300, seed=0):
    # 300 steps: at 200, seed 0 ended at 91% on one float32 rounding path of the kernels (their
    # thread split changes the summation order) and at 99.8% on others; seeds 1-3 at 98-100%.
    # Measured at 300: 99-100% on both paths for seeds 0 and 1.
    ts.manual_seed(seed)
    rng = np.random.default_rng(seed)
    V = D.reversal_vocab(6)
    m = nn.Seq2Seq(len(V), len(V), 16, 32)
    opt = ts.optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(steps):
        b = make_batch(*zip(*D.random_reversals(32, rng, 3, 6, 6)), V, V)
        logits, _ = m(b["src"], b["src_lengths"], b["tgt_in"])
        loss = m.loss(logits, b["tgt_out"])
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(m.parameters(), 5.0)
        opt.step()
    return m, V


@pytest.fixture(scope="module")
def reversal():
    return trained_reversal_model()


def test_reversal_trains_to_95_percent_token_accuracy(reversal):
    m, V = reversal
    pairs = D.random_reversals(300, np.random.default_rng(123), 3, 6, 6)
    b = make_batch(*zip(*pairs), V, V)
    T = b["tgt_out"]
    r = m.greedy_decode(b["src"], b["src_lengths"], max_len=T.shape[1])
    pred = np.full(T.shape, -1)
    n = min(T.shape[1], r.tokens.shape[1])
    pred[:, :n] = r.tokens[:, :n]
    acc = (pred == T)[T != 0].mean()
    assert acc >= 0.95, acc
    # attention of a reversal model looks at the mirrored position
    first = r.attention[np.arange(len(pairs)), 0].argmax(-1)
    assert np.mean(first == b["src_lengths"] - 1) > 0.9


def test_beam_size_one_is_greedy(reversal):
    m, V = reversal
    for src_pairs, max_len in ((D.random_reversals(12, np.random.default_rng(5), 3, 6, 6), 8),
                               (D.random_reversals(6, np.random.default_rng(6), 3, 6, 6), 3)):
        b = make_batch(*zip(*src_pairs), V, V)
        g = m.greedy_decode(b["src"], b["src_lengths"], max_len=max_len)
        beams = m.beam_search(b["src"], b["src_lengths"], beam_size=1, max_len=max_len)
        for i, hyps in enumerate(beams):
            assert len(hyps) == 1
            np.testing.assert_array_equal(hyps[0].tokens, g.tokens[i, :g.lengths[i]])
            np.testing.assert_allclose(hyps[0].attention, g.attention[i, :g.lengths[i]], rtol=1e-6)
    # an untrained model too (no eos within max_len for some rows)
    m2 = tiny()
    src, lens, _ = rand_batch()
    g = m2.greedy_decode(src, lens, max_len=6)
    for i, hyps in enumerate(m2.beam_search(src, lens, beam_size=1, max_len=6)):
        np.testing.assert_array_equal(hyps[0].tokens, g.tokens[i, :g.lengths[i]])


def teacher_forced_log_prob(m, src, lens, tokens):
    """Sum of log p(token) under teacher forcing, with pad and bos excluded as decoding does."""
    tgt_in = np.concatenate([[m.bos_idx], tokens[:-1]])[None]
    with ts.no_grad():
        m.eval()
        logits, attn = m(src, lens, tgt_in)
    lg = logits.numpy()[0].astype(np.float64)
    lg[:, [m.pad_idx, m.bos_idx]] = -np.inf
    lp = lg - lg.max(-1, keepdims=True)
    lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
    return lp[np.arange(len(tokens)), tokens].sum(), attn.numpy()[0]


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_beam_search_hypotheses_sorted_and_scored(length_penalty):
    m = tiny(dtype=np.float64, seed=3)
    src, lens, _ = rand_batch(B=3)
    res = m.beam_search(src, lens, beam_size=4, max_len=6, length_penalty=length_penalty)
    assert len(res) == 3
    for i, hyps in enumerate(res):
        assert 1 <= len(hyps) <= 4
        scores = [h.score for h in hyps]
        assert scores == sorted(scores, reverse=True)
        for h in hyps:
            assert 1 <= len(h.tokens) <= 6 and h.attention.shape == (len(h.tokens), 7)
            assert np.all(h.tokens[:-1] != m.eos_idx)
            lp, attn = teacher_forced_log_prob(m, src[i:i + 1], lens[i:i + 1], h.tokens)
            np.testing.assert_allclose(h.log_prob, lp, rtol=1e-9)
            np.testing.assert_allclose(h.score, lp / len(h.tokens) ** length_penalty, rtol=1e-9)
            np.testing.assert_allclose(h.attention, attn, rtol=1e-9, atol=1e-12)
        assert len({tuple(h.tokens) for h in hyps}) == len(hyps)


def test_beam_search_finds_at_least_the_greedy_score(reversal):
    """With length_penalty 0 a beam's best finished hypothesis scores at least the greedy one,
    which is among the paths the beam explores. A trained model, in float64, so that every greedy
    row ends (and the comparison is exact)."""
    trained, V = reversal
    m = nn.Seq2Seq(len(V), len(V), 16, 32)
    m.load_state_dict(trained.state_dict())
    m = m.to(dtype=np.float64)
    pairs = D.random_reversals(8, np.random.default_rng(5), 3, 6, 6)
    b = make_batch(*zip(*pairs), V, V)
    src, lens = b["src"], b["src_lengths"]
    g = m.greedy_decode(src, lens, max_len=10)
    beams = m.beam_search(src, lens, beam_size=4, max_len=10, length_penalty=0.0)
    assert len(beams) == len(pairs)
    for i, hyps in enumerate(beams):
        n = g.lengths[i]
        assert 2 <= n <= 10 and g.tokens[i, n - 1] == m.eos_idx    # the greedy row ended
        lp, _ = teacher_forced_log_prob(m, src[i:i + 1], lens[i:i + 1], g.tokens[i, :n])
        assert hyps[0].tokens[-1] == m.eos_idx
        assert hyps[0].score >= lp - 1e-9, (i, hyps[0].score, lp)
    m.decoder.out.bias.array[m.eos_idx] -= 50.0   # now nothing ends before max_len: no finished beam
    assert all(h[0].tokens[-1] != m.eos_idx for h in m.beam_search(src, lens, 4, 3, length_penalty=0.0))


def test_decoding_stops_at_eos_and_respects_max_len(reversal):
    m, V = reversal
    pairs = D.random_reversals(20, np.random.default_rng(9), 3, 6, 6)
    b = make_batch(*zip(*pairs), V, V)
    g = m.greedy_decode(b["src"], b["src_lengths"], max_len=20)
    assert g.tokens.shape[1] <= 20
    for i, (s, t) in enumerate(pairs):
        n = g.lengths[i]
        assert g.tokens[i, n - 1] == V.eos_idx and np.all(g.tokens[i, :n - 1] != V.eos_idx)
        assert np.all(g.tokens[i, n:] == V.pad_idx) and np.all(g.attention[i, n:] == 0)
    # the batch stops once every row has ended: no step past the longest output
    assert g.tokens.shape[1] == g.lengths.max()
    for max_len in (1, 2, 3):
        g = m.greedy_decode(b["src"], b["src_lengths"], max_len=max_len)
        assert g.tokens.shape[1] <= max_len and np.all(g.lengths <= max_len)
        for hyps in m.beam_search(b["src"], b["src_lengths"], beam_size=3, max_len=max_len):
            assert all(1 <= len(h.tokens) <= max_len for h in hyps)
    for hyps in m.beam_search(b["src"], b["src_lengths"], beam_size=3, max_len=20):
        assert hyps[0].tokens[-1] == V.eos_idx


def test_decoding_keeps_training_mode():
    m = tiny()
    src, lens, _ = rand_batch()
    m.train()
    m.greedy_decode(src, lens, 3)
    m.beam_search(src, lens, 2, 3)
    assert m.training and m.decoder.training


# ---------------------------------------------------------------- training the dates task
def test_date_model_overfits_a_tiny_set():
    ts.manual_seed(0)
    pairs = D.random_dates(8, np.random.default_rng(0))
    sv, tv = D.date_vocabs()
    b = make_batch(*zip(*pairs), sv, tv)
    m = nn.Seq2Seq(len(sv), len(tv), 16, 32)
    opt = ts.optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(120):
        logits, _ = m(b["src"], b["src_lengths"], b["tgt_in"])
        loss = m.loss(logits, b["tgt_out"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    g = m.greedy_decode(b["src"], b["src_lengths"], max_len=12)
    assert [tv.decode(t, join="") for t in g.tokens] == [t for _, t in pairs]


def test_example_main_writes_checkpoint_and_heatmap(tmp_path, capsys):
    from tinygrad_seq.examples import seq2seq_dates as E
    rc = E.main(["--steps", "3", "--batch-size", "8", "--hidden", "8", "--embed", "4", "--pool", "64",
                 "--val-size", "10", "--test-size", "10", "--out", str(tmp_path), "--quiet"])
    assert rc == 0
    assert "held-out exact match" in capsys.readouterr().out
    path = os.path.join(tmp_path, "seq2seq_dates.npz")
    ck = ts.load(path)   # one file: weights, settings, vocabularies, optimizer state, progress
    assert ck["metrics"]["steps"] == 3 and ck["config"]["hidden_size"] == 8 and ck["progress"]["step"] == 3
    assert ck["optimizer"]["state.0.step"] == 3
    model, task = E.load_checkpoint(path)
    assert all(np.array_equal(a, b) for a, b in zip(model.state_dict().values(), ck["model"].values()))
    assert not [f for f in os.listdir(tmp_path) if f.endswith((".json", ".tmp"))]
    pytest.importorskip("matplotlib")
    assert os.path.getsize(os.path.join(tmp_path, "seq2seq_dates_attention.png")) > 1000


def test_example_two_file_checkpoints_still_load(tmp_path):
    """The layout before one-file checkpoints: <stem>.npz weights + <stem>.json settings."""
    from tinygrad_seq.examples import seq2seq_dates as E
    task = E.Task("reverse")
    m = nn.Seq2Seq(len(task.src_vocab), len(task.tgt_vocab), 4, 8)
    stem = os.path.join(tmp_path, "old")
    np.savez(stem + ".npz", **m.state_dict())
    with open(stem + ".json", "w") as f:
        json.dump({"task": "reverse", "config": m.config, "metrics": {},
                   "src_vocab": json.loads(task.src_vocab.to_json()),
                   "tgt_vocab": json.loads(task.tgt_vocab.to_json())}, f)
    model, t2 = E.load_checkpoint(stem)
    assert t2.name == "reverse"
    np.testing.assert_array_equal(model.decoder.out.weight.numpy(), m.decoder.out.weight.numpy())


def test_example_without_matplotlib(tmp_path, capsys, monkeypatch):
    import builtins
    from tinygrad_seq.examples import seq2seq_dates as E
    real_import = builtins.__import__

    def no_mpl(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_mpl)
    assert E.main(["--task", "reverse", "--steps", "2", "--batch-size", "4", "--hidden", "8", "--pool", "16",
                   "--val-size", "4", "--test-size", "4", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "matplotlib is not installed" in out
    assert not os.path.exists(os.path.join(tmp_path, "seq2seq_reverse_attention.png"))
    assert os.path.exists(os.path.join(tmp_path, "seq2seq_reverse.npz"))


# ---------------------------------------------------------------- bad input
def test_bad_input_raises_clear_errors():
    m = tiny()
    src, lens, tgt_in = rand_batch()
    with pytest.raises(ValueError, match="src has batch size 4 but tgt_in has batch size 3"):
        m(src, lens, tgt_in[:3])
    with pytest.raises(ValueError, match="src has batch size 4 but src_lengths has 3 entries"):
        m(src, lens[:3], tgt_in)
    bad = lens.copy()
    bad[2] = 0
    with pytest.raises(ValueError, match=r"src_lengths\[2\] = 0 is out of range"):
        m(src, bad, tgt_in)
    with pytest.raises(ValueError, match="src_lengths\\[2\\] = 0"):
        m.greedy_decode(src, bad, 5)
    with pytest.raises(ValueError, match="src_lengths\\[2\\] = 0"):
        m.beam_search(src, bad, 2, 5)
    bad[2] = 8
    with pytest.raises(ValueError, match="out of range 1..7"):
        m(src, bad, tgt_in)
    with pytest.raises(TypeError, match="integer token ids"):
        m(src.astype(np.float32), lens, tgt_in)
    with pytest.raises(ValueError, match="src must be"):
        m(src[0], lens[:1], tgt_in[:1])
    with pytest.raises(ValueError, match="max_len"):
        m.greedy_decode(src, lens, 0)
    with pytest.raises(ValueError, match="beam_size"):
        m.beam_search(src, lens, 0, 5)
    with pytest.raises(ValueError, match="rnn_type"):
        nn.Seq2Seq(5, 5, rnn_type="transformer")
    with pytest.raises(ValueError, match="tgt_out has shape"):
        m.loss(m(src, lens, tgt_in)[0], tgt_in[:, :2])


# ---------------------------------------------------------------- cuda (GPU or NUMBA_ENABLE_CUDASIM=1)
@pytest.mark.cuda
def test_cuda_matches_cpu():
    m = tiny()
    mc = tiny().to("cuda")
    mc.load_state_dict(m.state_dict())
    src, lens, tgt_in = rand_batch(B=2, S=4, T=3)
    a, wa = m(src, lens, tgt_in)
    b, wb = mc(src, lens, tgt_in)
    assert b.device == "cuda"
    np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(wb.numpy(), wa.numpy(), rtol=1e-4, atol=1e-6)
    m.loss(a, tgt_in).backward()
    mc.loss(b, tgt_in).backward()
    for (name, p), q in zip(m.named_parameters(), mc.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)
    g1, g2 = m.greedy_decode(src, lens, 3), mc.greedy_decode(src, lens, 3)
    np.testing.assert_array_equal(g1.tokens, g2.tokens)
    for h1, h2 in zip(m.beam_search(src, lens, 2, 3), mc.beam_search(src, lens, 2, 3)):
        np.testing.assert_array_equal(h1[0].tokens, h2[0].tokens)
