"""Fixes of the 19th review round: inference tensors as torch's (marked, their views and
detach too; in-place writes and requires_grad outside the block raise), grad-mode context
managers bind None."""
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _inference_probe(lib):
    with lib.inference_mode():
        x = lib.ones(3)
        v, c = x[1:], x.clone()
        lin = lib.nn.Linear(2, 2)
    out = {"x": x.is_inference(), "view": v.is_inference(), "clone_in": c.is_inference(),
           "weight": lin.weight.is_inference(), "weight_rg": lin.weight.requires_grad,
           "clone_out": x.clone().is_inference(), "op_out": (x + 1).is_inference(),
           "detach": x.detach().is_inference(), "reshape": x.reshape(3, 1).is_inference(),
           "plain": lib.ones(2).is_inference()}
    with lib.inference_mode(False):
        out["mode_false"] = lib.ones(2).is_inference()
    for name, fn in [("inplace", lambda: x.add_(1)), ("setitem", lambda: x.__setitem__(0, 5.0)),
                     ("requires_grad", lambda: x.requires_grad_()),
                     ("parameter", lambda: lib.nn.Parameter(x))]:
        try:
            fn()
            out[name] = "ok"
        except RuntimeError:
            out[name] = "RuntimeError"
    with lib.no_grad():
        try:
            x.mul_(2)
            out["inplace_no_grad"] = "ok"
        except RuntimeError:
            out["inplace_no_grad"] = "RuntimeError"
    with lib.inference_mode():
        x.mul_(2)   # inside the block: allowed
    z = lib.ones(3, requires_grad=True)
    (z + x).sum().backward()   # not saved for backward: allowed in both
    out["grad"] = z.grad.tolist()
    return out


def test_inference_tensors_as_torch():
    assert _inference_probe(ts) == _inference_probe(torch)


@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "inference_mode"])
def test_grad_mode_context_binds_none(name):
    with getattr(ts, name)() as bound:
        assert bound is None
    with ts.set_grad_enabled(False) as bound:
        assert bound is None
    assert ts.is_grad_enabled()


def test_variable_is_torchs():
    from tinygrad_seq.autograd import Variable
    from torch.autograd import Variable as TVariable
    import warnings
    for lib, V in ((ts, Variable), (torch, TVariable)):
        w = lib.ones(2, requires_grad=True)
        v = V(w * 2)
        assert isinstance(w, V) and not v.requires_grad and v.is_leaf
        t = lib.zeros(3)
        p = V(t, requires_grad=True)
        assert p is not t and p.requires_grad and not t.requires_grad
        p.data[0] = 5.0   # the same memory
        assert float(t[0]) == 5.0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            V(t, volatile=True)
        assert any("volatile" in str(c.message) for c in caught)
        with pytest.raises(TypeError):
            V([1.0, 2.0])


def test_setitem_drops_leading_ones_of_the_value():
    def run(lib):
        a = lib.zeros(4, dtype=lib.long)
        b = lib.tensor([[7], [8], [9]])
        a[2] = b[lib.tensor(1)]
        a[3] = lib.tensor([[5]])
        v = lib.tensor([2.5], requires_grad=True)
        f = lib.zeros(3).clone()
        f[1] = v * 2
        f.sum().backward()
        return a.tolist(), f.tolist(), v.grad.tolist()
    assert run(ts) == run(torch)


@pytest.mark.parametrize("make", [lambda lib: lib.nn.NLLLoss(size_average=True),
                                  lambda lib: lib.nn.BCELoss(reduce=False),
                                  lambda lib: lib.nn.functional.nll_loss(
                                      lib.zeros(2, 3).log_softmax(1), lib.tensor([0, 1]), size_average=False)])
def test_legacy_reduction_arguments_warn(make):
    import warnings
    messages = []
    for lib in (ts, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            make(lib)
        messages.append([str(c.message) for c in caught if "size_average" in str(c.message)])
    assert messages[0] == messages[1] and len(messages[0]) == 1


def test_index_select_error_types():
    for lib, Err in ((ts, RuntimeError), (torch, RuntimeError)):
        with pytest.raises(Err):
            lib.zeros(3, 4).index_select(0, lib.tensor([0.0, 1.0]))
        with pytest.raises(IndexError):
            lib.zeros(3, 4).index_select(0, lib.tensor([[0, 1]]))


@pytest.mark.parametrize("lengths", [([6], [2]), ([-1], [2]), ([5], [-1])])
def test_ctc_length_errors_are_runtime_errors(lengths):
    for lib in (ts, torch):
        with pytest.raises(RuntimeError):
            lib.nn.functional.ctc_loss(lib.zeros(5, 1, 4).log_softmax(2), lib.tensor([[1, 2]]), *lengths)
        with pytest.raises(RuntimeError):   # float length tensors
            lib.nn.functional.ctc_loss(lib.zeros(5, 1, 4).log_softmax(2), lib.tensor([[1, 2]]),
                                       lib.tensor([5.0]), lib.tensor([2.0]))


def _recurrent_node_names(lib, dtype):
    out = []
    for kind in ("LSTM", "GRU", "RNN"):
        for layers, bi in ((1, False), (2, True)):
            layer = getattr(lib.nn, kind)(2, 3, num_layers=layers, bidirectional=bi).to(dtype)
            x = lib.ones(3, 2, 2, dtype=dtype)
            for mode in ("plain", "packed", "unsorted"):
                inp = x if mode == "plain" else lib.nn.utils.rnn.pack_padded_sequence(
                    x, [3, 2] if mode == "packed" else [2, 3], enforce_sorted=mode == "packed")
                o, h = layer(inp)
                states = h if kind == "LSTM" else (h,)
                data = o if mode == "plain" else o.data
                out.append((kind, layers, mode, data.grad_fn.name(), [s.grad_fn.name() for s in states],
                            repr(states[0]).split("grad_fn=")[1]))
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_recurrent_layer_node_names_are_torchs(dtype):
    assert _recurrent_node_names(ts, getattr(ts, dtype)) == _recurrent_node_names(torch, getattr(torch, dtype))


def test_packing_node_names_are_torchs():
    def names(lib):
        x = lib.ones(3, 2, 2, requires_grad=True)
        got = []
        for sorted_, lens in ((True, [3, 2]), (False, [2, 3])):
            p = lib.nn.utils.rnn.pack_padded_sequence(x, lens, enforce_sorted=sorted_)
            got.append(p.data.grad_fn.name())
            for bf in (False, True):
                got.append(repr(lib.nn.utils.rnn.pad_packed_sequence(p, batch_first=bf)[0].grad_fn).split(" ")[0])
        got.append(lib.nn.utils.rnn.pad_sequence([x[0], x[1][:1]], batch_first=True).grad_fn.name())
        return got
    assert names(ts) == names(torch)


def _module_node_names(lib):
    nn = lib.nn
    x3, x2 = lib.ones(2, 3, 4, requires_grad=True), lib.ones(3, 4, requires_grad=True)
    made = [nn.Linear(4, 2)(lib.ones(4, requires_grad=True)), nn.Linear(4, 2, bias=False)(lib.ones(4, requires_grad=True)),
            lib.bmm(x3, x3.transpose(1, 2)), x3 @ x3.transpose(1, 2), lib.matmul(x3, lib.ones(4)),
            nn.functional.scaled_dot_product_attention(x3, x3, x3), nn.BatchNorm1d(3).eval()(x3),
            nn.MaxPool1d(2)(x3), nn.AvgPool1d(2)(x3), nn.AdaptiveAvgPool1d(1)(x3), nn.MaxPool1d(2)(x2),
            nn.ConvTranspose1d(3, 2, 2)(x3), nn.PReLU()(x3), nn.EmbeddingBag(5, 3)(lib.tensor([[1, 2]])),
            nn.CrossEntropyLoss(label_smoothing=0.1)(x2, lib.tensor([0, 1, 2])),
            nn.GRU(4, 3, batch_first=True)(x3)[0], nn.RNN(4, 3, batch_first=True)(x3)[0],
            nn.LSTM(4, 3, batch_first=True)(x3)[0]]
    return [t.grad_fn.name() for t in made]


def test_module_node_names_are_torchs():
    assert _module_node_names(ts) == _module_node_names(torch)


def _load_errors(lib):
    m = lib.nn.Linear(3, 4)
    seq = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.LSTM(4, 2))
    out = []
    for target, sd in ((m, {"weight": lib.zeros(4, 3)}),
                       (m, {"weight": lib.zeros(4, 3), "bias": lib.zeros(4), "x": lib.zeros(1)}),
                       (m, {"weight": lib.zeros(4, 4), "bias": lib.zeros(4)}),
                       (m, {"weight": lib.zeros(4, 4), "x": lib.zeros(1)}),
                       (seq, {"0.weight": lib.zeros(4, 3)})):
        for strict in (True, False):
            try:
                out.append(str(target.load_state_dict(sd, strict=strict)))
            except RuntimeError as e:
                out.append(str(e))
    return out


def test_load_state_dict_errors_are_torchs():
    # torch's text; a size mismatch adds the two shapes as tuples (API.md: names both shapes)
    ours, theirs = _load_errors(ts), _load_errors(torch)
    assert [o.split(" (checkpoint (")[0] for o in ours] == [t.rstrip(".") if "size mismatch" in t else t
                                                          for t in theirs]
    assert "(checkpoint (4, 4), model (4, 3))." in ours[4]


def test_tensor_of_a_tensor_warns_as_torch():
    import warnings
    got = []
    for lib in (ts, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.tensor(lib.ones(2))
            lib.as_tensor(lib.ones(2))
            lib.tensor([1.0, 2.0])
        got.append([str(c.message) for c in caught])
    assert got[0] == got[1] and len(got[0]) == 1


def test_dtype_class():
    assert isinstance(ts.float32, ts.dtype) and isinstance(ts.ones(2, dtype=ts.int64).dtype, ts.dtype)


def _loss_and_resampling_node_names(lib):
    F = lib.nn.functional
    x2, x3 = lib.ones(3, 4, requires_grad=True), lib.ones(2, 3, 4, requires_grad=True)
    x4 = lib.ones(1, 2, 4, 4, requires_grad=True)
    made = [F.cross_entropy(x2, lib.tensor([0, 1, 2]), reduction="none"),
            F.cross_entropy(x2, lib.ones(3, 4) / 4), F.cross_entropy(x3, lib.zeros(2, 4, dtype=lib.long)),
            F.cross_entropy(x2, lib.tensor([0, 1, 2]), reduction="none", label_smoothing=0.1),
            F.nll_loss(x2, lib.tensor([0, 1, 2]), reduction="none"),
            x2.lerp(lib.zeros(3, 4), 0.3), x2.lerp(lib.zeros(3, 4), lib.full((3, 4), 0.3)),
            F.interpolate(x3, scale_factor=2), F.interpolate(x3, scale_factor=2, mode="linear"),
            F.interpolate(x4, scale_factor=2), F.interpolate(x4, scale_factor=2, mode="bilinear"),
            F.interpolate(x3, size=4, mode="linear")]
    return [t.grad_fn.name() for t in made]


def test_loss_and_resampling_node_names_are_torchs():
    assert _loss_and_resampling_node_names(ts) == _loss_and_resampling_node_names(torch)


def test_views_of_normal_tensors_taken_in_inference_mode_are_normal():
    for lib in (ts, torch):
        x = lib.ones(2, 3)
        with lib.inference_mode():
            row, d, v = x[0], x.detach(), x.view(6)
        assert not (row.is_inference() or d.is_inference() or v.is_inference())
        row.add_(1)
        d.add_(1)
        v.add_(1)
        assert x.tolist() == [[4.0, 4.0, 4.0], [3.0, 3.0, 3.0]]


def test_review_edge_fixes():
    sd = {k: v for k, v in ts.nn.BatchNorm1d(3).state_dict().items() if k != "num_batches_tracked"}
    assert str(ts.nn.BatchNorm1d(3).load_state_dict(sd)) == "<All keys matched successfully>"
    assert ts.nn.functional.embedding_bag(ts.tensor([1, 2, 4]), ts.randn(10, 3), ts.tensor([0]),
                                          include_last_offset=True).shape == (0, 3)
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        ts.nn.functional.ctc_loss(ts.zeros(5, 1, 4).log_softmax(2), ts.tensor([[1, 2]]), [5], [2], blank=4)
    x, tx = ts.tensor([[3.0, -4.0], [1.0, 2.0]]), torch.tensor([[3.0, -4.0], [1.0, 2.0]])
    for p in (2, 3, 1, float("inf")):
        assert abs(x.norm(p, dim=()).item() - tx.norm(p, dim=()).item()) < 1e-5
        assert abs(ts.linalg.vector_norm(x, p, dim=()).item() - torch.linalg.vector_norm(tx, p, dim=()).item()) < 1e-5
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = ts.nn.Parameter(ts.ones(3))
        p.grad = ts.full((3,), 1e30)
        assert ts.nn.utils.clip_grad_norm_([p], 1.0).item() == float("inf")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ts.nn.functional.kl_div(ts.zeros(2, 3), ts.ones(2, 3) / 3, size_average=True)
    assert len(caught) == 1


def _matmul_and_attention_node_names(lib):
    F = lib.nn.functional
    r = lambda *s: lib.ones(*s, requires_grad=True)   # noqa: E731
    made = [r(*a) @ lib.ones(*b) for a, b in [((3,), (3, 2)), ((2, 3), (4, 3, 2)), ((1, 2, 3), (4, 3, 2)),
                                              ((4, 2, 3), (3, 2)), ((4, 2, 3), (3,)), ((4, 2, 3), (1, 3, 2)),
                                              ((5, 4, 2, 3), (4, 3, 2)), ((4, 2, 3), (4, 3, 2))]]
    q = r(2, 3, 4, 5)
    made += [F.scaled_dot_product_attention(q, q, q), F.scaled_dot_product_attention(q, q, q, is_causal=True),
             F.scaled_dot_product_attention(q[0], q[0], q[0]), lib.nn.Linear(5, 2, bias=False)(r(2, 3, 5))]
    return [t.grad_fn.name() for t in made]


def test_matmul_and_attention_node_names_are_torchs():
    assert _matmul_and_attention_node_names(ts) == _matmul_and_attention_node_names(torch)
