"""Differences found by porting PyTorch 2.13's test/nn/test_packed_sequence.py and the recurrent
tests of test/test_nn.py: cells of hidden_size 0 (torch builds and runs them; only the layers
refuse 0), pack_padded_sequence's "Cannot pack empty tensors." checked first, pad_sequence's
RuntimeError for a non-iterable, and the layers' sequence-length-0 message (torch's test
asserts its text). Each test compares with torch run in the same process."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402
import tinygrad_seq.nn.utils.rnn as ts_rnn  # noqa: E402

t_rnn = torch.nn.utils.rnn


def _error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 (the test compares the kind of error)
        return e
    return None


# ------------------------------------------------------------------ 2. cells of hidden_size 0
ZERO_CELLS = [lambda nn: nn.RNNCell(10, 0, nonlinearity="relu"),
              lambda nn: nn.RNNCell(10, 0, nonlinearity="tanh"),
              lambda nn: nn.GRUCell(10, 0)]


@pytest.mark.parametrize("make", ZERO_CELLS, ids=["rnn_relu", "rnn_tanh", "gru"])
def test_cell_zero_hidden_size(make):
    # torch's test_RNN_cell_forward_zero_hidden_size
    assert tuple(make(torch.nn)(torch.randn(3, 10), torch.randn(3, 0)).shape) == (3, 0)
    assert tuple(make(ts.nn)(ts.randn(3, 10), ts.randn(3, 0)).shape) == (3, 0)


def test_lstmcell_zero_hidden_size():
    h, c = ts.nn.LSTMCell(10, 0)(ts.randn(3, 10), (ts.randn(3, 0), ts.randn(3, 0)))
    assert tuple(h.shape) == (3, 0) and tuple(c.shape) == (3, 0)


def test_zero_hidden_size_cell_gradients_match_torch():
    shapes = {}
    for L in (torch, ts):
        cell = L.nn.LSTMCell(10, 0)
        x = L.randn(3, 10, requires_grad=True)
        h0 = L.randn(3, 0, requires_grad=True)
        h, c = cell(x, (h0, L.randn(3, 0)))
        (h.sum() + c.sum()).backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 10), np.float32))
        shapes[L] = [tuple(h0.grad.shape)] + [tuple(p.grad.shape) for p in cell.parameters()]
    assert shapes[ts] == shapes[torch]


def test_zero_hidden_size_unbatched_and_default_state():
    for L in (torch, ts):
        assert tuple(L.nn.GRUCell(10, 0, bias=False)(L.randn(10)).shape) == (0,), L.__name__


def test_layers_still_refuse_hidden_size_zero():
    for L in (torch, ts):
        with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
            L.nn.LSTM(5, 0)


def test_cell_negative_hidden_size_refused():
    with pytest.raises(ValueError, match="hidden_size must be a non-negative integer"):
        ts.nn.GRUCell(10, -1)


# ------------------------------------------------------------------ 3. packing an empty tensor
def test_pack_padded_sequence_empty_tensor_error():
    e_torch = _error_of(lambda: t_rnn.pack_padded_sequence(torch.randn(0, 0), []))
    e = _error_of(lambda: ts_rnn.pack_padded_sequence(ts.randn(0, 0), []))
    assert isinstance(e_torch, RuntimeError) and "empty tensor" in str(e_torch)
    assert isinstance(e, RuntimeError), repr(e)
    assert str(e) == str(e_torch) == "Cannot pack empty tensors."


def test_pack_padded_sequence_empty_tensor_checked_first():
    # torch's test: lengths of 4 dimensions, yet the empty input is what it names
    e_torch = _error_of(lambda: t_rnn.pack_padded_sequence(torch.randn([0, 1, 10]), torch.randn([11, 14, 14, 2]), True))
    e = _error_of(lambda: ts_rnn.pack_padded_sequence(ts.randn([0, 1, 10]), ts.randn([11, 14, 14, 2]), True))
    assert "empty tensor" in str(e_torch)
    assert isinstance(e, RuntimeError) and "empty tensor" in str(e), repr(e)


# ------------------------------------------------------------------ 4. pad_sequence of a non-iterable
@pytest.mark.parametrize("value", [5, None])
def test_pad_sequence_non_iterable(value):
    e_torch = _error_of(lambda: t_rnn.pad_sequence(value))
    e = _error_of(lambda: ts_rnn.pad_sequence(value))
    assert isinstance(e_torch, RuntimeError)
    assert isinstance(e, RuntimeError), repr(e)
    assert "Expected iterable for input sequences, but got arg of type" in str(e)
    assert str(e) == str(e_torch)


def test_pad_sequence_iterable_check_comes_before_padding_side():
    for R in (t_rnn, ts_rnn):
        with pytest.raises(RuntimeError, match="Expected iterable"):
            R.pad_sequence(5, padding_side="middle")


# ------------------------------------------------------------------ 5. sequence length 0
@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_rnn_seq_len_zero_message(mode, bidirectional):
    # torch's test_error_RNN_seq_len_zero asserts this regex
    for L in (torch, ts):
        rnn = getattr(L.nn, mode)(5, 6, bidirectional=bidirectional)
        with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0 in RNN"):
            rnn(L.ones(0, 10, 5))
