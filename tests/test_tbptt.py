"""Truncated BPTT utilities: batchify, tbptt_chunks, detach_state."""
import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import Tensor, nn
from tinygrad_seq.data import batchify, detach_state, tbptt_chunks


def _graph_nodes(t):
    """All autograd nodes (ctx) reachable backwards from tensor t, as {id: node}; holding the
    nodes keeps their ids from being reused while the test compares them."""
    seen, stack = {}, [t._ctx] if t._ctx is not None else []
    while stack:
        ctx = stack.pop()
        if id(ctx) in seen:
            continue
        seen[id(ctx)] = ctx
        stack += [p._ctx for p in getattr(ctx, "parents", ()) if p._ctx is not None]
    return seen


def test_batchify_columns_are_contiguous_segments():
    s = batchify(np.arange(23), 4)
    assert s.shape == (5, 4) and s.dtype == np.int64
    np.testing.assert_array_equal(s[:, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(s[:, 3], [15, 16, 17, 18, 19])


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_batchify_rejects_bad_batch(bad):
    with pytest.raises(ValueError):
        batchify(np.arange(10), bad)


def test_batchify_rejects_float_tokens_and_short_streams():
    with pytest.raises(TypeError):
        batchify(np.zeros(10), 2)
    with pytest.raises(ValueError):
        batchify(np.arange(3), 2)


def test_chunks_cover_the_stream_with_shifted_targets():
    s = batchify(np.arange(40), 2)            # (20, 2)
    chunks = list(tbptt_chunks(s, 7))
    assert len(chunks) == len(tbptt_chunks(s, 7)) == 3
    assert [x.shape[0] for x, _ in chunks] == [7, 7, 5]   # 19 predictable steps
    xs = np.concatenate([x for x, _ in chunks])
    ys = np.concatenate([y for _, y in chunks])
    np.testing.assert_array_equal(xs, s[:-1])
    np.testing.assert_array_equal(ys, s[1:])


def test_chunks_of_a_tensor_stay_tensors():
    s = Tensor(batchify(np.arange(30), 3))
    x, y = next(iter(tbptt_chunks(s, 4)))
    assert isinstance(x, Tensor) and x.shape == (4, 3) and x.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), s.numpy()[1:5])


def test_chunks_reject_bad_k():
    with pytest.raises(ValueError):
        tbptt_chunks(np.zeros((5, 2), np.int64), 0)


def test_detach_state_handles_tensor_tuple_list_none():
    a = Tensor(np.ones(3, np.float32), requires_grad=True) * 2
    assert a._ctx is not None
    d = detach_state(a)
    assert d._ctx is None and not d.requires_grad
    np.testing.assert_array_equal(d.numpy(), a.numpy())
    h, c = detach_state((a, a * 3))
    assert h._ctx is None and c._ctx is None
    lst = detach_state([a, (a, a)])
    assert isinstance(lst, list) and lst[1][0]._ctx is None
    assert detach_state(None) is None
    with pytest.raises(TypeError):
        detach_state(3)


def test_lstm_state_carried_across_chunks_without_history():
    ts.manual_seed(0)
    emb, lstm, head = nn.Embedding(11, 5), nn.LSTM(5, 8), nn.Linear(8, 11)
    stream = batchify(np.random.default_rng(0).integers(0, 11, 200), 4)
    state, prev_nodes, prev_state_vals = None, {}, None
    for i, (x, y) in enumerate(tbptt_chunks(stream, 10)):
        state = detach_state(state)
        if state is not None:
            h, c = state
            # the carried state keeps its values but has no gradient history
            assert h._ctx is None and c._ctx is None and not h.requires_grad and not c.requires_grad
            np.testing.assert_array_equal(h.numpy(), prev_state_vals[0])
        out, state = lstm(emb(Tensor(x)), state)
        loss = F.cross_entropy(head(out).reshape(-1, 11), Tensor(y).reshape(-1))
        nodes = _graph_nodes(loss)
        assert not (nodes.keys() & prev_nodes.keys()), "this chunk's graph reaches the previous chunk"
        loss.backward()
        lstm.zero_grad()
        prev_nodes = {**nodes, **_graph_nodes(state[0]), **_graph_nodes(state[1])}
        prev_state_vals = (state[0].numpy().copy(), state[1].numpy().copy())
        if i == 3:
            break


def test_carried_state_changes_the_result():
    """The state carries information: the second chunk's output differs from a fresh start."""
    ts.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    x = Tensor(np.random.default_rng(1).standard_normal((12, 2, 3)).astype(np.float32))
    _, st = lstm(x[:6])
    carried, _ = lstm(x[6:], detach_state(st))
    fresh, _ = lstm(x[6:])
    full, _ = lstm(x)
    np.testing.assert_allclose(carried.numpy(), full.numpy()[6:], rtol=1e-5, atol=1e-6)
    assert not np.allclose(carried.numpy(), fresh.numpy())


def test_without_detach_the_graph_reaches_back():
    """Control for the test above: the check does see a graph that crosses chunks."""
    ts.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    x = Tensor(np.random.default_rng(1).standard_normal((8, 2, 3)).astype(np.float32))
    out1, st = lstm(x[:4])
    first = _graph_nodes(out1.sum())
    out2, _ = lstm(x[4:], st)
    assert first.keys() & _graph_nodes(out2.sum()).keys()
    out3, _ = lstm(x[4:], detach_state(st))
    assert not (first.keys() & _graph_nodes(out3.sum()).keys())
