"""Findings of the user-mistake audit against torch 2.13: what a program that misuses the API
gets (a numpy target, a list of indices, ts.cat(a, b), x[0, 1, 2] on a matrix, a batched hidden
state for an unbatched input, ...) is torch's exception type, with torch's text where it names the
mistake."""
import re
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn as tnn
import tinygrad_seq.nn.functional as TF
from tinygrad_seq import user_warning

torch = pytest.importorskip("torch")


def rs(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


def torch_exc(fn):
    try:
        fn()
    except Exception as e:   # noqa: BLE001
        return type(e), str(e)
    return None, None


def assert_as_torch(fn, exact=True):
    """fn(torch) and fn(ts) raise the same exception type; exact: ours starts with torch's text."""
    et, tm = torch_exc(lambda: fn(torch))
    assert et is not None
    with pytest.raises(et) as info:
        fn(ts)
    if exact:
        assert str(info.value).startswith(tm), (str(info.value), tm)


# 1 ---------------------------------------------------------------- BCE target outside [0, 1]
@pytest.mark.parametrize("target", [[0.0, 1.0, 2.0, -1.0], [0.0, 1.0, float("nan"), 0.5]], ids=["range", "nan"])
def test_bce_target_outside_0_1_raises(target):
    p = 1 / (1 + np.exp(-rs(4)))
    t = np.array(target, np.float32)
    et, tm = torch_exc(lambda: torch.nn.BCELoss()(torch.tensor(p), torch.tensor(t)))
    assert et is RuntimeError and tm == "all elements of target should be between 0 and 1"
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        tnn.BCELoss()(ts.tensor(p), ts.tensor(t))
    with pytest.raises(RuntimeError, match="target"):
        TF.binary_cross_entropy(ts.tensor(p), ts.tensor(t))


def test_bce_in_range_target_unchanged():
    p, t = 1 / (1 + np.exp(-rs(4))), np.array([0.0, 1.0, 0.25, 1.0], np.float32)
    want = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t)).item()
    assert TF.binary_cross_entropy(ts.tensor(p), ts.tensor(t)).item() == pytest.approx(want, rel=1e-6)


# 2 ---------------------------------------------------------------- losses with a non-Tensor target
_X2, _X1 = rs(2, 3), rs(2)
_LOSS_CALLS = {
    "ce_numpy": lambda m: m.nn.CrossEntropyLoss()(m.tensor(_X2), np.array([0, 1])),
    "ce_list": lambda m: m.nn.functional.cross_entropy(m.tensor(_X2), [0, 1]),
    "nll_numpy": lambda m: m.nn.NLLLoss()(m.tensor(_X2), np.array([0, 1])),
    "nll_float": lambda m: m.nn.functional.nll_loss(m.tensor(_X2), 1.0),
}
_POINTWISE_CALLS = {
    "mse_numpy": lambda m: m.nn.MSELoss()(m.tensor(_X1), np.ones(2, np.float32)),
    "mse_list": lambda m: m.nn.MSELoss()(m.tensor(_X1), [1.0, 1.0]),
    "mse_float": lambda m: m.nn.MSELoss()(m.tensor(_X1), 1.0),
    "l1_list": lambda m: m.nn.L1Loss()(m.tensor(_X1), [1.0, 1.0]),
    "bcewl_numpy": lambda m: m.nn.BCEWithLogitsLoss()(m.tensor(_X1), np.ones(2, np.float32)),
    "bcewl_int": lambda m: m.nn.BCEWithLogitsLoss()(m.tensor(_X1), 1),
}


@pytest.mark.parametrize("case", list(_LOSS_CALLS))
def test_class_loss_refuses_non_tensor_target(case):
    assert_as_torch(_LOSS_CALLS[case])


@pytest.mark.parametrize("case", list(_POINTWISE_CALLS))
def test_pointwise_loss_refuses_non_tensor_target(case):
    # torch's own text is an accident of target.size ("'int' object is not callable" for an
    # array); ours names the argument: the type is torch's
    assert_as_torch(_POINTWISE_CALLS[case], exact=False)
    with pytest.raises(Exception, match="argument 'target'"):
        _POINTWISE_CALLS[case](ts)


# 3 ---------------------------------------------------------------- embedding index types
@pytest.mark.parametrize("idx", [[1, 2], np.array([1, 2])], ids=["list", "ndarray"])
def test_embedding_refuses_non_tensor_indices(idx):
    assert_as_torch(lambda m: m.nn.Embedding(10, 3)(idx))
    assert_as_torch(lambda m: m.nn.functional.embedding(idx, m.ones(10, 3)))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "float32", "bool"])
def test_embedding_refuses_other_index_dtypes(dtype):
    i = np.array([1, 0], dtype)
    assert_as_torch(lambda m: m.nn.Embedding(10, 3)(m.tensor(i)))


def test_embedding_int32_indices_still_work():
    w = rs(10, 3)
    got = TF.embedding(ts.tensor(np.array([1, 2], np.int32)), ts.tensor(w)).numpy()
    np.testing.assert_array_equal(got, w[[1, 2]])


# 4 ---------------------------------------------------------------- Linear given a non-Tensor
def test_linear_after_lstm_in_sequential_is_typeerror():
    x = rs(5, 3, 10)
    torch.manual_seed(0)
    assert_as_torch(lambda m: m.nn.Sequential(m.nn.LSTM(10, 20), m.nn.Linear(20, 2))(m.tensor(x)))


def test_linear_on_packed_sequence_is_typeerror():
    def run(m):
        p = m.nn.utils.rnn.pack_padded_sequence(m.tensor(rs(5, 3, 2)), [5, 3, 2])
        out, _ = m.nn.LSTM(2, 4)(p)
        m.nn.Linear(4, 2)(out)
    assert_as_torch(run)


@pytest.mark.parametrize("arg", [rs(4, 3), [[1.0, 2.0, 3.0]]], ids=["ndarray", "list"])
def test_linear_on_non_tensor_is_typeerror(arg):
    assert_as_torch(lambda m: m.nn.Linear(3, 2)(arg))


# 5 ---------------------------------------------------------------- cat / stack misuse
@pytest.mark.parametrize("op", ["cat", "stack"])
def test_join_without_list_brackets_is_typeerror(op):
    a, b = rs(2, 3), rs(2, 3, seed=1)
    assert_as_torch(lambda m: getattr(m, op)(m.tensor(a), m.tensor(b)))


@pytest.mark.parametrize("op", ["cat", "stack"])
@pytest.mark.parametrize("other", [[1.0, 2.0], np.ones(2, np.float32)], ids=["list", "ndarray"])
def test_join_with_a_non_tensor_element_is_typeerror(op, other):
    assert_as_torch(lambda m: getattr(m, op)([m.tensor(rs(2)), other]))
    assert_as_torch(lambda m: getattr(m, op)([other, m.tensor(rs(2))]))


@pytest.mark.parametrize("op", ["cat", "stack"])
def test_join_of_a_generator_is_torchs_type_error(op):   # torch takes a tuple or a list only
    parts = [rs(2), rs(2, seed=1)]
    assert_as_torch(lambda m: getattr(m, op)(m.tensor(p) for p in parts))


# 6 ---------------------------------------------------------------- pad_sequence of lists
@pytest.mark.parametrize("seqs", [lambda m: [[1, 2], [3]], lambda m: [m.ones(2), [3]]], ids=["lists", "mixed"])
def test_pad_sequence_of_lists_is_typeerror(seqs):
    assert_as_torch(lambda m: m.nn.utils.rnn.pad_sequence(seqs(m)))


# 7 ---------------------------------------------------------------- too many indices
@pytest.mark.parametrize("key", [(0, 1, 2), (slice(None), slice(None), 0), (Ellipsis, 0, 0, 0), (None, 0, 1, 2)],
                         ids=["ints", "slices", "ellipsis", "none"])
def test_too_many_indices_message(key):
    x = np.zeros((3, 4), np.float32)
    assert_as_torch(lambda m: m.tensor(x)[key])


def test_full_indexing_still_works():
    x = rs(3, 4)
    t = ts.tensor(x)
    assert t[None, 1, 2].numpy() == x[None, 1, 2]
    np.testing.assert_array_equal(t[..., 1].numpy(), x[..., 1])
    np.testing.assert_array_equal(t[ts.tensor(x > 0)].numpy(), x[x > 0])


# 8 ---------------------------------------------------------------- unbatched vs batched hx
_H3, _H2 = np.zeros((1, 3, 16), np.float32), np.zeros((3, 16), np.float32)
_HIDDEN_CALLS = {
    "gru_2d_input_3d_h": lambda m: m.nn.GRU(8, 16)(m.tensor(rs(3, 8)), m.tensor(_H3)),
    "rnn_2d_input_3d_h": lambda m: m.nn.RNN(8, 16)(m.tensor(rs(3, 8)), m.tensor(_H3)),
    "gru_3d_input_2d_h": lambda m: m.nn.GRU(8, 16)(m.tensor(rs(5, 3, 8)), m.tensor(_H2)),
    "lstm_3d_input_2d_h": lambda m: m.nn.LSTM(8, 16)(m.tensor(rs(5, 3, 8)), (m.tensor(_H2), m.tensor(_H2))),
    "lstm_2d_input_3d_h": lambda m: m.nn.LSTM(8, 16)(m.tensor(rs(3, 8)), (m.tensor(_H3), m.tensor(_H3))),
    "lstm_three_hidden": lambda m: m.nn.LSTM(8, 16)(m.tensor(rs(5, 3, 8)), (m.tensor(_H3),) * 3),
}


@pytest.mark.parametrize("case", list(_HIDDEN_CALLS))
def test_rnn_hidden_dims_message_as_torch(case):
    assert_as_torch(_HIDDEN_CALLS[case])


def test_seq2seq_decoder_step_without_unsqueeze():
    emb, gru = tnn.Embedding(10, 8), tnn.GRU(8, 16)
    with pytest.raises(RuntimeError, match=re.escape("For unbatched 2-D input, hx should also be 2-D but got 3-D")):
        gru(emb(ts.tensor(np.array([1, 2, 3]))), ts.zeros(1, 3, 16))


# 9 ---------------------------------------------------------------- RuntimeError where torch raises it
_RUNTIME_CALLS = {
    "where_no_broadcast": lambda m: m.where(m.tensor(np.ones(3, bool)), m.tensor(rs(3)), m.tensor(rs(4))),
    "expand_fewer_dims": lambda m: m.tensor(rs(2, 3)).expand(3),
    "chunk_zero": lambda m: m.tensor(rs(5)).chunk(0),
    "chunk_negative": lambda m: m.tensor(rs(5)).chunk(-1),
    "clamp_no_bounds": lambda m: m.tensor(rs(3)).clamp(),
    "free_clamp_no_bounds": lambda m: m.clamp(m.tensor(rs(3))),
    "stack_empty": lambda m: m.stack([]),
    "embedding_negative_num": lambda m: m.nn.Embedding(-1, 4),
    "embedding_negative_dim": lambda m: m.nn.Embedding(4, -2),
    "pack_2d_lengths": lambda m: m.nn.utils.rnn.pack_padded_sequence(
        m.tensor(rs(5, 3, 2)), m.tensor(np.array([[5, 3, 2]]))),
}


@pytest.mark.parametrize("case", list(_RUNTIME_CALLS))
def test_error_is_runtimeerror_as_torch(case):
    assert_as_torch(_RUNTIME_CALLS[case], exact=case != "expand_fewer_dims")


def test_expand_fewer_dims_message():
    # torch's text names the tensor's type (torch.FloatTensor{[2, 3]}); the rest is its own
    _, tm = torch_exc(lambda: torch.zeros(2, 3).expand(3))
    with pytest.raises(RuntimeError) as info:
        ts.zeros(2, 3).expand(3)
    assert str(info.value).split("): ", 1)[1] == tm.split("): ", 1)[1]


def test_cat_empty_is_valueerror_as_torch():
    assert_as_torch(lambda m: m.cat([]))


# 10 --------------------------------------------------------------- one_hot of other than int64
@pytest.mark.parametrize("dtype", ["int32", "uint8", "float32"])
def test_one_hot_refuses_other_than_int64(dtype):
    assert_as_torch(lambda m: m.nn.functional.one_hot(m.tensor(np.array([0, 1], dtype)), 3))


# 11 --------------------------------------------------------------- ts.sum of a list
@pytest.mark.parametrize("arg", [lambda m: [m.tensor(rs(2)), m.tensor(rs(2))], lambda m: (m.tensor(rs(2)),),
                                 lambda m: rs(2)], ids=["list", "tuple", "ndarray"])
def test_sum_of_non_tensor_is_typeerror(arg):
    assert_as_torch(lambda m: m.sum(arg(m)))


# 12 --------------------------------------------------------------- list of ndarrays warns once
def test_tensor_from_list_of_ndarrays_warns_once(monkeypatch):
    user_warning._said_once.discard("tensor_from_ndarray_list")
    data = [np.ones(2, np.float32), np.zeros(2, np.float32)]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = ts.tensor(data)
        ts.tensor(data)
    msgs = [str(x.message) for x in w if "list of numpy.ndarrays" in str(x.message)]
    assert len(msgs) == 1 and msgs[0].startswith("Creating a tensor from a list of numpy.ndarrays is extremely slow.")
    assert w[0].filename == __file__   # the warning points at the caller's line
    np.testing.assert_array_equal(out.numpy(), np.stack(data))


def test_tensor_from_list_of_numbers_does_not_warn(monkeypatch):
    user_warning._said_once.discard("tensor_from_ndarray_list")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ts.tensor([np.float32(1.0), np.float32(2.0)])
        ts.tensor([[1.0, 2.0], [3.0, 4.0]])


# 13 --------------------------------------------------------------- RNNCell with an unknown nonlinearity
def test_rnncell_bad_nonlinearity_constructs_and_fails_at_call():
    torch.nn.RNNCell(10, 20, nonlinearity="sigmoid")      # torch constructs it
    cell = tnn.RNNCell(10, 20, nonlinearity="sigmoid")
    assert_as_torch(lambda m: m.nn.RNNCell(10, 20, nonlinearity="sigmoid")(m.tensor(rs(3, 10))))
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: sigmoid"):
        cell(ts.tensor(rs(3, 10)))


def test_rnn_layer_bad_nonlinearity_still_refused_at_construction():
    assert_as_torch(lambda m: m.nn.RNN(10, 20, nonlinearity="sigmoid"))


def _other_type_cases():
    rs = lambda *s: np.random.default_rng(0).standard_normal(s).astype(np.float32)  # noqa: E731
    h = lambda m: m.zeros(1, 3, 20)  # noqa: E731
    return {
        "lstm_hx_single_tensor": lambda m: m.nn.LSTM(10, 20)(m.tensor(rs(5, 3, 10)), h(m)),
        "gru_hx_tuple": lambda m: m.nn.GRU(10, 20)(m.tensor(rs(5, 3, 10)), (h(m), h(m))),
        "grucell_hx_tuple": lambda m: m.nn.GRUCell(10, 20)(m.tensor(rs(3, 10)), (m.zeros(3, 20), m.zeros(3, 20))),
        "lstm_numpy_input": lambda m: m.nn.LSTM(10, 20)(rs(5, 3, 10)),
        "lstm_c0_none": lambda m: m.nn.LSTM(10, 20)(m.tensor(rs(5, 3, 10)), (h(m), None)),
        "pad_packed_on_tensor": lambda m: m.nn.utils.rnn.pad_packed_sequence(m.tensor(rs(5, 3, 2))),
        "from_pretrained_1d": lambda m: m.nn.Embedding.from_pretrained(m.tensor(rs(10))),
        "mha_wrong_embed_dim": lambda m: m.nn.MultiheadAttention(8, 2)(*[m.tensor(rs(5, 2, 6))] * 3),
        "tensor_of_strings": lambda m: m.tensor(["a", "b"]),
        "sgd_group_without_params": lambda m: m.optim.SGD([{"lr": 0.1}], lr=0.1),
    }


@pytest.mark.parametrize("case", list(_other_type_cases()))
def test_error_is_also_torchs_type(case):
    # ours keeps its own (clearer) type and message and is torch's type as well
    fn = _other_type_cases()[case]
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)):
        fn(ts)
