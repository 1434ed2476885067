"""Round 40 (2026-12-07): what the op-chain fuzzer, the transformer and speech programs and the
per-op overhead audit found, each beside torch 2.13."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def _err(fn):
    try:
        fn()
    except Exception as e:   # noqa: BLE001 - the class and text are what is compared
        return type(e), str(e)
    return None, None


def _same_error(f_torch, f_ours):
    (tc, tm), (oc, om) = _err(f_torch), _err(f_ours)
    assert tc is not None and oc is not None and issubclass(oc, tc), (tc, oc, om)
    assert om == tm


# ------------------------------------------------------------ the op-chain fuzzer's findings
def test_single_operand_einsum_is_a_view_in_place_writes_reach_the_operand():
    for eq in ("ij->ji", "ii->i", "ij->ij", "b...->...b"):
        grads = []
        for lib in (torch, ts):
            x = lib.tensor([[1., 2.], [3., 4.]], dtype=lib.float64, requires_grad=True)
            v0 = x * 1
            lib.einsum(eq, v0).neg_()
            v0.pow(2).sum().backward()
            grads.append((v0.detach().numpy().copy(), x.grad.numpy().copy(), v0.grad_fn.name()))
        np.testing.assert_array_equal(grads[0][0], grads[1][0])
        np.testing.assert_array_equal(grads[0][1], grads[1][1])
        assert grads[0][2] == grads[1][2] == "torch::autograd::CopySlices"


def test_single_operand_einsum_keeps_torchs_node_and_gradients():
    for eq in ("ii", "ij->j", "ii->i", "ij"):
        out = []
        for lib in (torch, ts):
            x = lib.tensor([[1., 2.], [3., 4.]], dtype=lib.float64, requires_grad=True)
            y = lib.einsum(eq, x * 1)
            (y * y).sum().backward()
            out.append((y.grad_fn.name(), x.grad.numpy().copy()))
        assert out[0][0] == out[1][0]
        np.testing.assert_allclose(out[0][1], out[1][1])


@pytest.mark.parametrize("peek", ["item", "detach", "tolist", "str"])
def test_reading_a_0d_result_keeps_double_backward_through_m_times_m(peek):
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    m = x.sum()
    y = m * m
    getattr(m, peek)() if peek != "str" else str(m)
    g, = ts.autograd.grad(y, [x], create_graph=True)
    g.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_item_assignment_into_a_0d_reduction():
    for make in (lambda L: L.ones(3).sum(), lambda L: L.ones(3).mean(), lambda L: L.dot(L.ones(2), L.ones(2))):
        a = make(ts)
        a[...] = 2.0
        assert a.item() == 2.0


def test_item_assignment_shape_errors_are_torchs():
    for idx, shape in (((slice(None), 0), (2,)), ((slice(None), slice(0, 2)), (3, 3)), (0, (2, 4)),
                       ("mask", (2,)), ("bool3", (5,))):
        def run(L, idx=idx, shape=shape):
            a = L.zeros(3, 4)
            i = a > 0 if idx == "mask" else L.tensor([True, False, True]) if idx == "bool3" else idx
            a[i] = L.ones(*shape)
        _same_error(lambda: run(torch), lambda: run(ts))
    def through_view(L):   # a view of a tensor that requires grad: index_put recorded
        a = L.ones(2, 2, dtype=L.float64, requires_grad=True) * 1
        a[..., ::2][L.tensor([0, 1])] = L.ones(3, dtype=L.float64)
    _same_error(lambda: through_view(torch), lambda: through_view(ts))


@pytest.mark.parametrize("op", ["atan", "erf", "cosh", "sinh", "asinh", "atan2", "div_const", "lerp"])
def test_no_inplace_error_where_torchs_node_saved_nothing_written(op):
    """torch's atan / erf / sinh ... save their input only, h / c its divisor only, lerp with a
    number weight nothing: a write to the output (or input) after is no error there."""
    for lib in (torch, ts):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        h = x * 1
        if op == "div_const":
            y = h / 3.0
            h.add_(1)
        elif op == "lerp":
            y = h.lerp(lib.zeros(3, dtype=lib.float64), 0.5)
            h.add_(1)
        elif op == "atan2":
            y = lib.atan2(h, lib.ones(3, dtype=lib.float64))
            y.mul_(2)
        else:
            y = getattr(lib, op)(h)
            y.mul_(2)
        y.sum().backward()
    # and torch's error where the saved tensor itself was written (tan saves its result)
    for lib in (torch, ts):
        x = lib.tensor([0.5, 1.0], dtype=lib.float64, requires_grad=True)
        y = lib.tan(x * 1)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


@pytest.mark.parametrize("f", ["div_c", "rdiv", "maximum", "minimum", "amax_div"])
def test_create_graph_gradient_requires_grad_as_torchs(f):
    out = []
    for lib in (torch, ts):
        x = lib.tensor([1., 2., -0.5], requires_grad=True)
        c = lib.tensor([0.5, 3.0, 1.0])
        y = {"div_c": lambda: x / c, "rdiv": lambda: x / 3, "maximum": lambda: lib.maximum(x, c),
             "minimum": lambda: lib.minimum(x, c), "amax_div": lambda: x.amax() / c}[f]()
        g, = lib.autograd.grad((y * 1.5).sum(), [x], create_graph=True)
        out.append((g.requires_grad, g.detach().numpy().copy()))
    assert out[0][0] == out[1][0]
    np.testing.assert_allclose(out[0][1], out[1][1])


def test_double_backward_after_in_place_writes_torch_accepts():
    # (a) the write came before the view was used; (b) the written tensor was not saved (h * 2)
    for build in ("view_then_write", "mul_scalar", "mul_const"):
        res = []
        for lib in (torch, ts):
            x = lib.tensor([1., -2., 3.], dtype=lib.float64, requires_grad=True)
            h = x * 1
            if build == "view_then_write":
                v = h.view(-1)
                h.mul_(2)
                y = v.sin() * v
            else:
                h = x * x
                y = h * 2 if build == "mul_scalar" else h * lib.tensor([1., 2., 3.], dtype=lib.float64)
                h.add_(1)
            g, = lib.autograd.grad(y.sum(), [x], create_graph=True)
            g.sum().backward()
            res.append(x.grad.numpy().copy())
        np.testing.assert_allclose(res[1], res[0], rtol=1e-12)


def test_unflatten_infers_minus_one_from_the_dim_and_reshape_errors_are_torchs():
    assert ts.zeros(4, 0).unflatten(0, (2, -1)).shape == (2, 2, 0)
    assert ts.zeros(4, 0).unflatten(1, (2, -1)).shape == (4, 2, 0)
    for sh in [(-1, -1), (4, -1), (4, 2), (0, -1), (-2, 3), (2, -3)]:
        for name in ("reshape", "view"):
            _same_error(lambda: getattr(torch.zeros(6), name)(*sh), lambda: getattr(ts.zeros(6), name)(*sh))
    _same_error(lambda: torch.zeros(4, 0).reshape(2, -1, 0), lambda: ts.zeros(4, 0).reshape(2, -1, 0))


# ------------------------------------------------------------ views and joins, made cheaper
def test_expand_errors_are_torchs_last_dim_first():
    for src, sh in [((32,), (3, -1, 51)), ((32,), (-1, 3, 32)), ((2, 3), (4, 3)), ((2, 3), (3,)),
                    ((3,), (-2, 3)), ((1, 3), (2, -2))]:
        _same_error(lambda: torch.ones(src).expand(*sh), lambda: ts.ones(src).expand(*sh))
    assert ts.ones(3).expand(0, 3).shape == (0, 3)


def test_expand_is_a_writable_view_with_torchs_strides():
    base = ts.zeros(1, 3)
    v = base.expand(1, 3)
    v[0, 1] = 5
    assert base.tolist() == [[0., 5., 0.]]
    for shape, to in (((1, 4), (3, 4)), ((3, 1), (3, 4)), ((4,), (2, 3, 4))):
        assert ts.zeros(*shape).expand(*to).stride() == torch.zeros(*shape).expand(*to).stride()
    x = ts.tensor([[1., 2., 3.]], requires_grad=True)
    (x.expand(4, 3) * ts.arange(12.).reshape(4, 3)).sum().backward()
    assert x.grad.tolist() == [[18., 22., 26.]]


def test_where_broadcasts_in_its_node():
    for other in (0.0, "row", "tensor"):
        grads = []
        for lib in (torch, ts):
            x = lib.tensor([[1., -2., 3.], [-4., 5., -6.]], dtype=lib.float64, requires_grad=True)
            y = lib.tensor([10., 20., 30.], dtype=lib.float64, requires_grad=True)
            o = 0.0 if other == 0.0 else y if other == "row" else y[None].expand(2, 3) * 1
            out = lib.where(x > 0, x, o)
            (out * lib.arange(6., dtype=lib.float64).reshape(2, 3)).sum().backward()
            grads.append((out.detach().numpy().copy(), x.grad.numpy().copy(),
                          None if y.grad is None else y.grad.numpy().copy()))
        for a, b in zip(*grads):
            np.testing.assert_array_equal(a, b)


def test_pieces_errors_and_names_are_torchs():
    x = ts.zeros(2, 3)
    for call in (lambda L: L.zeros(2, 3).select(1, 5), lambda L: L.tensor(1.).select(0, 0),
                 lambda L: L.zeros(2, 3).select(0, -3)):
        _same_error(lambda: call(torch), lambda: call(ts))
    xg = ts.zeros(4, 2, requires_grad=True) * 1
    assert [p.grad_fn.name() for p in xg.unbind(0)] == ["UnbindBackward0"] * 4
    assert [p.grad_fn.name() for p in xg.split([1, 3])] == ["SplitWithSizesBackward0"] * 2
    assert [p.grad_fn.name() for p in xg.chunk(2)] == ["SplitBackward0"] * 2
    assert x.narrow(1, 1, 2).shape == (2, 2) and x.select(1, -1).shape == (2,)


def test_stack_and_cat_keep_dtype_rules_and_layouts():
    a = ts.ones(2, 3, dtype=ts.float32)
    b = ts.ones(2, 3, dtype=ts.float64)
    assert ts.stack([a, b]).dtype == ts.float64 and ts.cat([a, b]).dtype == ts.float64
    cl = ts.randn(2, 3, 4, 5).contiguous(memory_format=ts.channels_last)
    tl = torch.tensor(cl.numpy()).contiguous(memory_format=torch.channels_last)
    assert ts.stack([cl, cl]).stride() == torch.stack([tl, tl]).stride()
    assert ts.stack([ts.tensor(1.), ts.tensor(2.)]).tolist() == [1.0, 2.0]
    assert ts.stack([ts.zeros(3).t()] * 2, 0).shape == (2, 3)
    _same_error(lambda: torch.stack([torch.zeros(2), torch.zeros(3)]), lambda: ts.stack([ts.zeros(2), ts.zeros(3)]))


# ------------------------------------------------------------ transformers and warnings
def test_transformer_checks_src_and_tgt_before_the_encoder_runs():
    for lib in (torch, ts):
        lib.manual_seed(0)
        tf = lib.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
        calls = []
        tf.encoder.register_forward_hook(lambda *a: calls.append(1))
        for s, t, msg in (((5, 2, 8), (4, 3, 8), "the batch number of src and tgt must be equal"),
                          ((5, 2, 8), (4, 2, 6), "the feature number of src and tgt must be equal to d_model")):
            with pytest.raises(RuntimeError) as e:
                tf(lib.randn(*s), lib.randn(*t))
            assert str(e.value) == msg and not calls


def test_encoder_layer_activation_flag_is_torchs():
    F = ts.nn.functional
    codes = [ts.nn.TransformerEncoderLayer(8, 2, 16, activation=a).activation_relu_or_gelu
             for a in ("relu", "gelu", F.gelu, ts.nn.GELU(), ts.nn.SiLU())]
    assert codes == [1, 2, 2, 2, 0]


def test_nested_tensor_prototype_warning_once():
    enc = ts.nn.TransformerEncoder(ts.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 1).eval()
    x = ts.randn(2, 3, 8)
    kpm = ts.tensor([[False, False, True], [False, False, False]])
    from tinygrad_seq.nn import transformer
    transformer._nested_said.clear()
    with warnings.catch_warnings(record=True) as w, ts.no_grad():
        warnings.simplefilter("always")
        y = enc(x, src_key_padding_mask=kpm)
        enc(x, src_key_padding_mask=kpm)
    said = [m for m in w if "nested tensors is in prototype stage" in str(m.message)]
    assert len(said) == 1 and y[0, 2].abs().sum().item() == 0.0


def test_attention_dtype_and_mask_messages_are_torchs():
    def sdpa(L, k_dtype=None, mask_dtype=None):
        q = L.zeros(1, 2, 4, 8)
        k = q if k_dtype is None else q.to(k_dtype)
        m = None if mask_dtype is None else L.ones(4, 4, dtype=mask_dtype)
        L.nn.functional.scaled_dot_product_attention(q, k, q, attn_mask=m)
    _same_error(lambda: sdpa(torch, torch.float64), lambda: sdpa(ts, ts.float64))
    _same_error(lambda: sdpa(torch, mask_dtype=torch.long), lambda: sdpa(ts, mask_dtype=ts.int64))
    _same_error(lambda: sdpa(torch, mask_dtype=torch.float64), lambda: sdpa(ts, mask_dtype=ts.float64))
    def mha(L):
        L.manual_seed(0)
        m = L.nn.MultiheadAttention(8, 2)
        m(L.zeros(4, 3, 8), L.zeros(5, 3, 8), L.zeros(5, 3, 8), attn_mask=L.zeros(3, 3))
    _same_error(lambda: mha(torch), lambda: mha(ts))


def test_deprecated_weight_norm_warns_at_the_librarys_line():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ts.nn.utils.weight_norm(ts.nn.Conv1d(2, 2, 3))
    said = [m for m in w if issubclass(m.category, FutureWarning)]
    assert len(said) == 1 and said[0].filename.endswith("weight_norm.py")
