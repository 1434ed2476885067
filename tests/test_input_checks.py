"""Bad input a careless user gives: each gets an error naming the problem, never a silent wrong
result (found by an audit of the README's features, 2026-12-03)."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn
from tinygrad_seq.nn.utils.rnn import pack_padded_sequence

from test_cli import corpus, inproc  # noqa: F401  (the fixture and the in-process runner)


def test_lengths_with_a_packed_sequence_is_refused():
    lstm = nn.LSTM(3, 4)
    packed = pack_padded_sequence(ts.randn(6, 3, 3), [6, 2, 3], enforce_sorted=False)
    with pytest.raises(ValueError, match="PackedSequence"):
        lstm(packed, lengths=[1, 1, 1])


def test_two_dimensional_lengths_are_refused():
    with pytest.raises(ValueError, match=r"1-D .*\(2, 2\)"):
        nn.LSTM(3, 4)(ts.randn(6, 4, 3), lengths=[[6, 2], [3, 1]])
    assert nn.GRU(3, 4)(ts.randn(5, 3), lengths=5)[0].shape == (5, 4)   # unbatched: one length


@pytest.mark.parametrize("cls", [nn.GRUCell, nn.RNNCell])
def test_a_single_state_cell_given_a_tuple_says_so(cls):
    with pytest.raises(TypeError, match="one Tensor"):
        cls(4, 5)(ts.randn(2, 4), (ts.randn(2, 5),))


def test_load_state_dict_of_a_non_dict_names_it():
    with pytest.raises(TypeError, match="expected a dict.*got list"):
        nn.LSTM(3, 4).load_state_dict([1, 2])


@pytest.mark.parametrize("kwargs, message", [
    (dict(pad_idx=2, eos_idx=2), "pad_idx"),
    (dict(bos_idx=99), "bos_idx = 99 is not a token of the target vocabulary"),
    (dict(attention="multihead"), "'bahdanau' or one of Luong's"),
    (dict(attention="dot"), "bidirectional=False"),
])
def test_seq2seq_settings_that_cannot_work_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.Seq2Seq(10, 15, 8, 16, **kwargs)


def test_seq2seq_decoding_arguments_are_checked():
    model = nn.Seq2Seq(10, 15, 8, 16)
    src, lens = np.ones((2, 4), np.int64) * 3, [4, 3]
    with pytest.raises(ValueError, match="n_best"):
        model.beam_search(src, lens, beam_size=2, max_len=3, n_best=0)
    with pytest.raises(ValueError, match="length_penalty"):
        model.beam_search(src, lens, beam_size=2, max_len=3, length_penalty=float("nan"))
    with pytest.raises(ValueError, match=r"tgt_in .* at least one step, got shape \(2, 0\)"):
        model(src, lens, np.zeros((2, 0), np.int64))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        nn.BahdanauAttention(4, 6, 0)


def test_user_cell_errors_name_the_problem():
    def narrow(cell, x, s):
        g = cell.linear(x, cell.weight_ih) + cell.linear(s.h, cell.weight_hh)
        return g.tanh().mean(dim=-1, keepdim=True)
    spec = nn.CellSpec("narrow_state", gates=1, states=("h",), step=narrow)
    with pytest.raises(ValueError, match="not an H-wide value"):
        nn.Recurrent(spec, 3, 4)
    bad_init = nn.ParamSpec("w", ("H",), init=lambda shape: np.ones(shape))
    with pytest.raises(TypeError, match=r"init\(shape, hidden_size\)"):
        bad_init.initial(3, 4, 1, np.float32)


def test_resumed_seq2seq_keeps_its_task_and_model(capsys, tmp_path):
    out = str(tmp_path)
    small = ["--steps", "2", "--hidden", "16", "--embed", "8", "--eval-every", "2", "--val-size", "4",
             "--test-size", "4", "--pool", "50", "--out", out]
    code, _, err = inproc(capsys, "seq2seq", "--task", "reverse", *small)
    assert code == 0, err
    ckpt = str(tmp_path / "seq2seq_reverse.npz")
    code, _, err = inproc(capsys, "seq2seq", "--resume", ckpt, "--hidden", "32", "--steps", "3", "--out", out)
    assert code == 1 and "--hidden 32 differs from 16" in err
    # flags left at their defaults take the checkpoint's: the reverse task, 16 units
    code, out_text, err = inproc(capsys, "seq2seq", "--resume", ckpt, *small[2:6], "--steps", "3", *small[6:])
    assert code == 0, err
    assert "reverse: held-out exact match" in out_text


def test_resumed_charlm_keeps_its_model_and_corpus(capsys, tmp_path, corpus):  # noqa: F811
    out = str(tmp_path)
    small = ["--text", corpus, "--hidden-size", "16", "--embed-dim", "8", "--batch-size", "4", "--bptt", "8",
             "--eval-every", "0", "--sample-length", "0", "--no-plot", "--quiet", "--out", out]
    code, _, err = inproc(capsys, "charlm", "train", "--steps", "2", "--max-chars", "2000", *small)
    assert code == 0, err
    ckpt = str(tmp_path / "charlm.npz")
    code, _, err = inproc(capsys, "charlm", "train", "--resume", ckpt, "--steps", "3", "--hidden-size", "32",
                          "--out", out, "--no-plot", "--quiet")
    assert code == 1 and "--hidden-size 32 differs from 16" in err
    # the corpus settings come back too: no --max-chars or --text needed to resume
    code, _, err = inproc(capsys, "charlm", "train", "--resume", ckpt, "--steps", "3", "--eval-every", "0",
                          "--sample-length", "0", "--out", out, "--no-plot", "--quiet")
    assert code == 0, err


@pytest.mark.parametrize("args, message", [
    (["gradflow", "--scales", "nan"], "positive finite"),
    (["gradflow", "--scales", "1,inf"], "positive finite"),
    (["gradflow", "--steps", "1"], "at least 2"),
    (["gradflow", "--seed", "-1"], "--seed"),
    (["seq2seq", "--seed", "-1"], "--seed"),
    (["seq2seq", "--attention", "dot"], "--attention"),
])
def test_cli_flags_out_of_range_are_argparse_errors(capsys, args, message):
    code, _, err = inproc(capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_an_unfused_step_that_fails_names_its_cell():
    def step(cell, x, s):
        g = cell.linear(x, cell.weight_ih, cell.bias_ih) + cell.linear(s.h, cell.weight_hh, cell.bias_hh)
        return (g * cell.p[3]).tanh()   # p has 2 rows
    params = [nn.ParamSpec("weight_ih", ("G*H", "I")), nn.ParamSpec("weight_hh", ("G*H", "H")),
              nn.ParamSpec("bias_ih", ("G*H",), bias=True), nn.ParamSpec("bias_hh", ("G*H",), bias=True),
              nn.ParamSpec("p", ("2", "H"))]
    layer = nn.Recurrent(nn.CellSpec("bad_row", gates=1, states=("h",), step=step, params=params), 3, 4)
    with pytest.warns(UserWarning, match="cannot be fused"):
        with pytest.raises(IndexError, match=r"cell bad_row: the step fails on input \(2, 3\).*index 3"):
            layer(ts.randn(5, 2, 3))


def test_parameter_of_integer_data_names_the_legacy_size_form():
    # a hand-written cell's nn.Parameter(torch.Tensor(4 * H)): ts.Tensor(n) is data (API.md), so
    # the error's note says so and names the way to n uninitialised floats
    import tinygrad_seq as ts
    # torch's message word for word (tests compare it), the hint a note the traceback shows
    with pytest.raises(RuntimeError) as error:
        ts.nn.Parameter(ts.Tensor(20))
    assert str(error.value) == "Only Tensors of floating point and complex dtype can require gradients"
    assert "nn.Parameter(ts.empty(n))" in error.value.__notes__[0] and "shape ()" in error.value.__notes__[0]
    with pytest.raises(RuntimeError) as error:
        ts.nn.Parameter(ts.Tensor([1, 2]))
    assert "int64 tensor of shape (2,)" in error.value.__notes__[0]
    assert ts.nn.Parameter(ts.empty(20)).shape == (20,)
    assert ts.nn.Parameter(ts.Tensor([1, 2]), requires_grad=False).dtype == np.int64   # torch allows this
