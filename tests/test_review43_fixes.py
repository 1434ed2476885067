"""Found by this stop's review and API.md audit, each beside torch 2.13: Tensor(ndarray) copies
its data (torch.tensor's signature, API.md), lengths= dropout between layers draws as torch's
pack_padded_sequence(enforce_sorted=False), copy_ from a transposed alias is refused, an output
of unbind / split read after its base was written in place is refused, clone keeps strides."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import Tensor, nn, optim

torch = pytest.importorskip("torch")
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402


def test_tensor_from_ndarray_optimizer_step_does_not_touch_caller_array():
    w0 = np.ones((2, 2), np.float32)
    p = Tensor(w0, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert w0[0, 0] == 1.0 and p.detach().numpy()[0, 0] == pytest.approx(0.8)


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64, np.bool_])
def test_tensor_from_ndarray_copies(dt):
    a = np.zeros(3, dt)
    t = Tensor(a)
    t.fill_(1)
    assert a.tolist() == [0, 0, 0] and t.dtype == a.dtype


def test_from_numpy_still_shares():
    a = np.zeros(3, np.float32)
    ts.from_numpy(a).add_(1)
    assert a.tolist() == [1, 1, 1]


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lengths_training_dropout_matches_torch_packed(kind, bidirectional):
    t = getattr(torch.nn, kind)(3, 5, num_layers=3, dropout=0.5, batch_first=True, bidirectional=bidirectional)
    c = getattr(nn, kind)(3, 5, num_layers=3, dropout=0.5, batch_first=True, bidirectional=bidirectional)
    c.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 6, 3)).astype(np.float32)
    lengths = [6, 2, 4, 5]
    torch.manual_seed(1)
    out, _ = t(pack_padded_sequence(torch.tensor(x), torch.tensor(lengths), batch_first=True, enforce_sorted=False))
    want, _ = pad_packed_sequence(out, batch_first=True, total_length=6)
    ts.manual_seed(1)
    got, _ = c(Tensor(x), lengths=lengths)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-5)
    assert float(ts.rand(())) == pytest.approx(float(torch.rand(())))   # the stream stays in step


def test_copy_from_transposed_self_is_refused_as_torch():
    for L in (torch, ts):
        x = L.arange(4.).reshape(2, 2)
        with pytest.raises(RuntimeError, match="refer to a single memory location"):
            x.copy_(x.t())
        x.copy_(x)   # the very same elements: allowed
        y = L.arange(4.)
        y[2:].copy_(y[:2])   # disjoint parts of one tensor: allowed
        assert y.tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize("make", [lambda y: y.unbind(0), lambda y: y.split(1), lambda y: y.chunk(2),
                                  lambda y: y.split([1, 1])])
def test_multi_output_view_read_after_its_base_was_written_is_refused(make):
    messages = []
    for L in (torch, ts):
        x = L.ones(2, 3, requires_grad=True)
        y = x * 2
        pieces = make(y)
        y.add_(1)
        with pytest.raises(RuntimeError, match="is a view and its base or another view of its base has been "
                                               "modified inplace") as e:
            pieces[1].sum().backward()
        messages.append(str(e.value))
        with pytest.raises(RuntimeError, match="Output 1 of"):
            pieces[1].grad_fn
    assert messages[0] == messages[1]


def test_multi_output_view_used_before_the_write_still_differentiates():
    grads = []
    for L in (torch, ts):
        x = L.ones(2, 3, requires_grad=True)
        y = x * 2
        v = y.unbind(0)[1] * 3
        y.add_(1)
        v.sum().backward()
        grads.append(np.asarray(x.grad.tolist()))
    np.testing.assert_array_equal(grads[1], grads[0])


@pytest.mark.parametrize("shape,perm", [((32, 8), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((2, 1, 3), (1, 2, 0))])
def test_clone_of_a_permuted_tensor_keeps_torchs_strides(shape, perm):
    want = torch.ones(shape).permute(perm).clone().stride()
    got = ts.ones(*shape).permute(*perm).clone()
    assert got.stride() == want and got.tolist() == torch.ones(shape).permute(perm).tolist()


def test_a_tensor_attribute_is_not_a_buffer_unless_made_by_buffer():
    m = nn.Module()
    m.t = ts.ones(2)
    m.b = nn.Buffer(ts.ones(2))
    m.b2 = m.b
    assert [n for n, _ in m.named_buffers(remove_duplicate=False)] == ["b", "b2"] and "t" not in dict(m.named_buffers())


def test_tensor_of_a_tensor_shares_its_memory_as_torch_Tensor():
    for L in (torch, ts):
        t = L.ones(3)
        L.Tensor(t).add_(1)
        assert t.tolist() == [2.0, 2.0, 2.0]
    a = np.ones(3, np.float32)
    ts.Tensor(ts.from_numpy(a)).add_(1)
    assert a.tolist() == [2.0, 2.0, 2.0]


class _Reflected:
    """An operand of a type neither library knows, with the reflected operators."""
    def __radd__(self, o): return "radd"
    def __rand__(self, o): return "rand"
    def __ror__(self, o): return "ror"
    def __rmatmul__(self, o): return "rmatmul"
    def __rlshift__(self, o): return "rlshift"
    def __rmul__(self, o): return "rmul"


@pytest.mark.parametrize("op", [
    lambda L: L.ones(2).bool() & _Reflected(), lambda L: L.ones(2).bool() | _Reflected(),
    lambda L: L.ones(2) @ _Reflected(), lambda L: L.ones(2).long() << _Reflected()])
def test_operators_hand_an_unknown_operand_back_to_python(op):
    assert op(ts) == op(torch)


@pytest.mark.parametrize("name", ["__iadd__", "__imul__", "__iand__"])
def test_augmented_assignment_with_an_unknown_operand_falls_back_as_torch(name):
    results = []
    for L in (torch, ts):
        t = L.ones(2).bool() if name == "__iand__" else L.ones(2)
        results.append(getattr(t, name)(_Reflected()))
    assert results[0] is NotImplemented and results[1] is NotImplemented
    u = ts.ones(2)
    u += _Reflected()
    assert u == "radd"


def test_named_forms_still_refuse_an_unknown_operand():
    for L in (torch, ts):
        for call in (lambda: L.ones(2).matmul(_Reflected()), lambda: L.ones(2).bool().bitwise_and(_Reflected()),
                     lambda: L.ones(2).add_(_Reflected())):
            with pytest.raises(TypeError):
                call()
