"""Round 36's findings (vision, recommendation, meta-learning and docstring programs beside torch
2.13), each against torch: result layouts of pools / norms / grid_sample / shuffles / pads, view
of a channels-last tensor, Module.to(memory_format=), interpolate's tensor sizes, grid_sample of
non-finite grids, histc's bins, float32 sums over outer axes, silent float-to-int casts, and the
warnings torch gives (meshgrid without indexing, index_reduce, torch.jit)."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as TF

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _inputs4(lib):
    lib.manual_seed(0)
    x = lib.randn(2, 3, 5, 6)
    return {"nchw": x, "cl": x.contiguous(memory_format=lib.channels_last),
            "perm": lib.randn(2, 5, 6, 3).permute(0, 3, 1, 2), "t23": lib.randn(2, 3, 6, 5).transpose(2, 3)}


def _inputs3(lib):
    lib.manual_seed(0)
    return {"ncl": lib.randn(2, 3, 7), "t12": lib.randn(2, 7, 3).transpose(1, 2),
            "perm": lib.randn(7, 2, 3).permute(1, 2, 0)}


OPS4 = {
    "avg_pool2d": lambda F, lib, x: F.avg_pool2d(x, 2),
    "avg_pool2d_pad": lambda F, lib, x: F.avg_pool2d(x, 3, 1, 1),
    "avg_pool2d_ceil": lambda F, lib, x: F.avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False),
    "adaptive_avg_34": lambda F, lib, x: F.adaptive_avg_pool2d(x, (3, 4)),
    "lp_pool2d": lambda F, lib, x: F.lp_pool2d(x, 2, 2),
    "interp_area": lambda F, lib, x: F.interpolate(x, size=(3, 3), mode="area"),
    "pad_circular": lambda F, lib, x: F.pad(x, (1, 1, 2, 0), mode="circular"),
    "pad_reflect": lambda F, lib, x: F.pad(x, (1, 1, 2, 0), mode="reflect"),
    "instance_norm": lambda F, lib, x: F.instance_norm(x),
    "batch_norm": lambda F, lib, x: F.batch_norm(x, None, None, training=True),
    "pixel_shuffle": lambda F, lib, x: F.pixel_shuffle(lib.cat([x, x, x, x], 1), 2),
    "pixel_unshuffle": lambda F, lib, x: F.pixel_unshuffle(x[:, :, :4, :4], 2),
    "channel_shuffle": lambda F, lib, x: F.channel_shuffle(lib.cat([x, x], 1), 2),
    "grid_sample": lambda F, lib, x: F.grid_sample(x, lib.linspace(-1, 1, 64).reshape(2, 4, 4, 2),
                                                    align_corners=False),
    "conv2d": lambda F, lib, x: F.conv2d(x, lib.ones(4, 3, 3, 3)),
}

OPS3 = {
    "batch_norm": lambda F, lib, x: F.batch_norm(x, None, None, training=True),
    "BatchNorm1d": lambda F, lib, x: lib.nn.BatchNorm1d(3)(x),
    "instance_norm": lambda F, lib, x: F.instance_norm(x),
    "group_norm": lambda F, lib, x: F.group_norm(x, 3),
    "avg_pool1d": lambda F, lib, x: F.avg_pool1d(x, 2),
    "max_pool1d": lambda F, lib, x: F.max_pool1d(x, 2),
    "max_pool1d_idx": lambda F, lib, x: F.max_pool1d(x, 2, return_indices=True)[1],
    "max_pool1d_idx_values": lambda F, lib, x: F.max_pool1d(x, 2, return_indices=True)[0],
    "adaptive_avg1d": lambda F, lib, x: F.adaptive_avg_pool1d(x, 3),
    "adaptive_max1d": lambda F, lib, x: F.adaptive_max_pool1d(x, 3),
    "lp_pool1d": lambda F, lib, x: F.lp_pool1d(x, 2, 2),
    "interp_area": lambda F, lib, x: F.interpolate(x, size=3, mode="area"),
    "interp_linear": lambda F, lib, x: F.interpolate(x, size=11, mode="linear"),
}


def _layouts(ops, inputs, name, kind):
    out = []
    for lib, FF in ((torch, F), (ts, TF)):
        y = ops[name](FF, lib, inputs(lib)[kind])
        out.append((tuple(y.shape), tuple(y.stride()), np.asarray(y.detach().numpy(), np.float64)))
    (ts_, tst, tv), (os_, ost, ov) = out
    assert (os_, ost) == (ts_, tst), f"{name} {kind}: torch {tst}, ours {ost}"
    np.testing.assert_allclose(ov, tv, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["nchw", "cl", "perm", "t23"])
@pytest.mark.parametrize("name", sorted(OPS4))
def test_4d_results_laid_out_as_torch(name, kind):
    _layouts(OPS4, _inputs4, name, kind)


@pytest.mark.parametrize("kind", ["ncl", "t12", "perm"])
@pytest.mark.parametrize("name", sorted(OPS3))
def test_3d_results_laid_out_as_torch(name, kind):
    _layouts(OPS3, _inputs3, name, kind)


def test_dropout_after_avg_pool_draws_torchs_mask():
    masks = []
    for lib, FF in ((torch, F), (ts, TF)):
        lib.manual_seed(0)
        y = FF.avg_pool2d(lib.randn(2, 3, 4, 4), 2)
        lib.manual_seed(1)
        masks.append((FF.dropout(y, 0.5) != 0).numpy())
    np.testing.assert_array_equal(masks[1], masks[0])


def test_view_of_channels_last_raises_as_torchs():
    for lib in (torch, ts):
        c = lib.randn(1, 3, 4, 4).contiguous(memory_format=lib.channels_last)
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            c.view(1, 12, 4)
        assert tuple(c.view(1, 3, 4, 4).shape) == (1, 3, 4, 4)
        assert tuple(c.reshape(1, 12, 4).shape) == (1, 12, 4)


def test_module_to_memory_format():
    for lib in (torch, ts):
        m = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4), lib.nn.Linear(2, 2))
        m = m.to(memory_format=lib.channels_last)
        assert tuple(m[0].weight.stride()) == (27, 1, 9, 3)
        assert tuple(m[2].weight.stride()) == (2, 1)
        assert isinstance(m[0].weight, lib.nn.Parameter)


def test_interpolate_size_of_integer_tensors():
    x = ts.randn(1, 2, 3, 3)
    assert TF.interpolate(x, size=(ts.tensor(5), 4)).shape == (1, 2, 5, 4)
    assert TF.interpolate(x, size=[ts.tensor([5]), 4]).shape == (1, 2, 5, 4)
    with pytest.raises(TypeError):
        TF.interpolate(x, size=(ts.tensor(5.0), 4))


@pytest.mark.parametrize("padding_mode", ["border", "reflection", "zeros"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_of_non_finite_grids_as_torch(padding_mode, mode, align_corners):
    vals = [float("nan"), float("inf"), -float("inf"), 0.3]
    grid = [[[[a, b] for a in vals for b in vals]]]
    out = []
    for lib, FF in ((torch, F), (ts, TF)):
        x = lib.arange(16.0).view(1, 1, 4, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out.append(FF.grid_sample(x, lib.tensor(grid), mode=mode, padding_mode=padding_mode,
                                      align_corners=align_corners).numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-6)


def test_histc_bins_as_torchs():
    for make, args in [(lambda lib: lib.arange(100, dtype=lib.float64) / 100, (10, 0, 1)),
                       (lambda lib: lib.linspace(-3, 3, 61), (6, -3, 3)),
                       (lambda lib: lib.tensor([0.99999994]), (6, -3, 3)),
                       (lambda lib: lib.rand(5000) * 7 - 2, (7, -2.5, 4.1)),
                       (lambda lib: lib.randn(3000), (100, 0, 0)),
                       (lambda lib: lib.tensor([float("nan"), 1.0, 2.0]), (4, 0, 3))]:
        res = []
        for lib in (torch, ts):
            lib.manual_seed(0)
            res.append(lib.histc(make(lib), *args).numpy())
        np.testing.assert_array_equal(res[1], res[0])


def test_float32_sums_over_outer_axes_near_torchs():
    for lib_make in [lambda lib: lib.full((4000, 2), 0.1).sum(0), lambda lib: lib.full((4000, 2), 0.1).mean(0),
                     lambda lib: lib.full((4000,), 0.1).cumsum(0)[-1:], lambda lib: lib.full((3000, 2, 2), 0.1).sum(0),
                     lambda lib: lib.full((300, 5), 0.1).sum(0), lambda lib: lib.full((5, 300, 2), 0.3).sum(1)]:
        t, o = (lib_make(lib).numpy() for lib in (torch, ts))
        np.testing.assert_allclose(o, t, rtol=5e-6)
    rng = np.random.default_rng(0)
    a = rng.random((300, 5, 7)).astype(np.float32)
    for axis in (0, 1, 2):
        for arr in (a, a.transpose(2, 0, 1)):
            o = ts.tensor(arr).sum(axis)
            ref = arr.astype(np.float64).sum(axis)
            np.testing.assert_allclose(o.numpy(), ref, rtol=1e-6)
            assert o.is_contiguous()


def test_nonfinite_to_integer_is_silent():
    x = ts.tensor([float("nan"), float("inf"), 1e30, -2.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [x.long(), x.int(), x.to(ts.uint8), x.type(ts.LongTensor)]
    want = [x_.numpy() for x_ in (lambda t: [t.long(), t.int(), t.to(torch.uint8), t.type(torch.LongTensor)])(
        torch.tensor([float("nan"), float("inf"), 1e30, -2.5]))]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w)


def test_meshgrid_without_indexing_warns_once_as_torchs(monkeypatch):
    from tinygrad_seq import user_warning
    monkeypatch.setattr(user_warning, "_said_once", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a, b = ts.meshgrid(ts.arange(2), ts.arange(3))
        ts.meshgrid(ts.arange(2), ts.arange(3))
        ts.meshgrid(ts.arange(2), ts.arange(3), indexing="xy")
        ts.cartesian_prod(ts.arange(2), ts.arange(2))
    said = [str(w.message) for w in caught if "meshgrid" in str(w.message)]
    assert said == ["torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument."]
    assert a.shape == (2, 3) and caught[0].filename == __file__


def test_index_reduce_beta_warning(monkeypatch):
    from tinygrad_seq import user_warning
    monkeypatch.setattr(user_warning, "_said_once", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = ts.zeros(3, 2)
        x.index_reduce_(0, ts.tensor([0, 0]), ts.ones(2, 2), "prod")
        x.index_reduce(0, ts.tensor([0, 0]), ts.ones(2, 2), "amax")
    assert [str(w.message) for w in caught] == ["index_reduce() is in beta and the API may change at any time."]


def test_jit_entry_points_deprecated_as_torchs():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = ts.jit.script(lambda a: a)
        ts.jit.trace(ts.nn.Linear(2, 2), ts.randn(1, 2))
    assert f(3) == 3
    assert [(w.category, str(w.message)) for w in caught] == [
        (DeprecationWarning, f"`torch.jit.{n}` is deprecated. Please switch to `torch.compile` or `torch.export`.")
        for n in ("script", "trace")]


@pytest.mark.parametrize("dim", [0, 1])
def test_index_writes_outside_the_graph_as_torchs(dim):
    """The writes into a buffer outside the graph go straight to the rows written (index_scatter_writes.
    _write_rows): values, repeats, versions and views of the buffer as torch's."""
    results = []
    for lib in (torch, ts):
        lib.manual_seed(0)
        big = lib.zeros(6, 7, 5)
        bank = big[1:5].transpose(0, 1) if dim else big[1:5]   # a view: the writes reach big
        n = bank.shape[dim]
        i = lib.tensor([0, 2, 2, n - 1])
        shape = list(bank.shape)
        shape[dim] = 4
        v = lib.randn(*shape)
        out = []
        bank.index_add_(dim, i, v)
        bank.index_add_(dim, i, v, alpha=0.5)
        out.append(big.clone())
        bank.index_copy_(dim, lib.tensor([0, 1, 3, n - 1]), v)
        out.append(big.clone())
        idx = lib.randint(0, n, tuple(shape))
        bank.scatter_add_(dim, idx, v)
        out.append(big.clone())
        bank.scatter_(dim, idx, v * 0 + 2)
        out.append(big.clone())
        rows = lib.tensor([1, 1, 3])
        bank.index_put_((rows,), lib.ones(bank.shape[1:]), accumulate=True)
        bank.index_put_((rows, lib.tensor([0, 0, 2])), lib.tensor(3.0), accumulate=True)
        out.append(big.clone())
        results.append(([o.numpy() for o in out], bank._version, big._version))
    (t_out, t_v, t_bv), (o_out, o_v, o_bv) = results
    for a, b in zip(t_out, o_out):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
    assert (o_v, o_bv) == (t_v, t_bv)


def test_index_writes_in_the_graph_unchanged():
    res = []
    for lib in (torch, ts):
        lib.manual_seed(0)
        w = lib.randn(5, 3, requires_grad=True)
        buf = w * 1.0
        v = lib.randn(2, 3, requires_grad=True)
        buf.index_add_(0, lib.tensor([1, 1]), v)
        buf.index_put_((lib.tensor([0, 4]),), v * 2, accumulate=True)
        buf.sum().backward()
        res.append([buf.detach().numpy(), w.grad.numpy(), v.grad.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-6)


def test_save_keeps_counter_and_defaultdict(tmp_path):
    import collections
    counts = collections.Counter("aabbbc")
    dd = collections.defaultdict(list)
    dd["a"].append(1)
    ts.save({"pop": counts, "dd": dd, "od": collections.OrderedDict(x=1), "plain": {"k": 2}}, tmp_path / "c.pt")
    back = ts.load(tmp_path / "c.pt")
    assert type(back["pop"]) is collections.Counter and back["pop"].most_common(1) == [("b", 3)]
    assert type(back["dd"]) is collections.defaultdict and back["dd"]["new"] == [] and back["dd"]["a"] == [1]
    assert type(back["od"]) is collections.OrderedDict and type(back["plain"]) is dict


def test_hermitian_pinv_and_rank_refuse_non_square_as_torch():
    for fn in (lambda L: L.linalg.pinv(L.randn(6, 3), hermitian=True),
               lambda L: L.linalg.matrix_rank(L.randn(6, 3), hermitian=True)):
        for lib in (torch, ts):
            with pytest.raises(RuntimeError, match="square matrices"):
                fn(lib)


def test_mode_of_a_zero_d_tensor_checks_dim():
    with pytest.raises(IndexError, match="Dimension out of range"):
        ts.mode(ts.tensor(7), 1)
    assert [int(t) for t in ts.mode(ts.tensor(7), -1)] == [7, 0]


@pytest.mark.parametrize("name", ["exp", "sigmoid", "tanh", "relu", "softmax"])
def test_double_backward_after_the_input_of_an_output_saving_op_was_written(name):
    res = []
    for lib in (torch, ts):
        a = lib.tensor([0.1, -0.4, 0.7], requires_grad=True)
        f = {"exp": lib.exp, "sigmoid": lib.sigmoid, "tanh": lib.tanh, "relu": lib.relu,
             "softmax": lambda z: z.softmax(0)}[name]
        b = a * 1.5
        c = f(b)          # saves its result, not b: a later write to b is legal
        b.add_(1.0)
        g, = lib.autograd.grad((c * c).sum(), a, create_graph=True)
        g2, = lib.autograd.grad(g.sum(), a)
        res.append(g2.numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-5, atol=1e-6)


def test_gru_checks_input_against_weights_before_states():
    with pytest.raises(ValueError, match=r"RNN input dtype \(torch.float64\) does not match weight dtype"):
        ts.nn.GRU(1, 2)(ts.zeros(3, 1, 1, dtype=ts.float64), ts.zeros(1, 1, 2))
    with pytest.raises(RuntimeError, match="not the same dtype"):
        ts.nn.GRU(1, 2)(ts.zeros(3, 1, 1), ts.zeros(1, 1, 2, dtype=ts.float64))


def test_cuda_without_a_gpu_is_torchs_assertion_error():
    if ts.cuda.is_available():
        pytest.skip("a GPU (or the simulator) is present")
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        ts.zeros(1).cuda()


def test_machine_description_spawns_no_process(monkeypatch):
    """The first kernel call reads the machine: platform.processor() ran `uname -p` through
    subprocess, whose catch_warnings cleared the warning registries ("once" warnings repeated)."""
    import platform
    from tinygrad_seq.kernels import machine_cpu
    monkeypatch.setattr(platform, "processor", lambda: (_ for _ in ()).throw(AssertionError("spawned")))
    assert machine_cpu._read_machine()["cpu_model"]


def _weight_write_case(lib, make, which, x_grad, h_grad, steps, double):
    """'ok' or 'raise': a weight or bias written under no_grad between forward and backward."""
    nn = lib.nn
    lib.manual_seed(0)
    m = make(nn)
    m = m.double() if double else m
    dtype = lib.float64 if double else lib.float32
    if "Cell" in type(m).__name__:
        x = lib.randn(3, 5, dtype=dtype, requires_grad=x_grad)
        h = lib.randn(3, 8, dtype=dtype, requires_grad=h_grad)
        out = m(x, (h, h * 1) if isinstance(m, nn.LSTMCell) else h)
        out = out[0] if isinstance(out, tuple) else out
    else:
        out = m(lib.randn(steps, 3, 5, dtype=dtype, requires_grad=x_grad))[0]
    with lib.no_grad():
        getattr(m, which).add_(0.1)
    try:
        out.sum().backward()
        return "ok"
    except RuntimeError:
        return "raise"


@pytest.mark.parametrize("make", [lambda nn: nn.LSTMCell(5, 8), lambda nn: nn.GRUCell(5, 8),
                                  lambda nn: nn.RNNCell(5, 8), lambda nn: nn.LSTM(5, 8),
                                  lambda nn: nn.GRU(5, 8), lambda nn: nn.RNN(5, 8)])
def test_weights_written_before_backward_raise_where_torchs_do(make):
    """torch's cells and CPU GRU / RNN (and float64 LSTM) keep W_ih only for dx and W_hh only
    past one step or for a state's gradient; its float32 LSTM layer (oneDNN) keeps all."""
    got = []
    cell = "Cell" in type(make(ts.nn)).__name__
    for lib in (torch, ts):
        row = []
        for which in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            for x_grad in (False, True):
                for h_grad, steps, double in ([(False, 1, False), (True, 1, False)] if cell else
                                              [(False, 1, False), (False, 3, False), (False, 1, True),
                                               (False, 3, True)]):
                    row.append(_weight_write_case(lib, make, which if cell else which + "_l0", x_grad, h_grad,
                                                  steps, double))
        got.append(row)
    assert got[1] == got[0]


def test_rnn_modules_pickle():
    import pickle
    for m in (ts.nn.RNN(3, 4), ts.nn.RNNCell(3, 4, nonlinearity="relu"), ts.nn.RNN(3, 4, nonlinearity="relu")):
        back = pickle.loads(pickle.dumps(m))
        x = ts.randn(2, 3) if isinstance(m, ts.nn.RNNCell) else ts.randn(5, 2, 3)
        a, b = m(x), back(x)
        a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_rnn_cell_base_in_torchs_form_for_hand_written_cells():
    """class MyCell(nn.RNNCellBase): super().__init__(input_size, hidden_size, bias, num_chunks)."""
    got = []
    for lib in (torch, ts):
        class Cell(lib.nn.RNNCellBase):
            def __init__(self, i, h, bias=True):
                super().__init__(i, h, bias, num_chunks=4)

            def forward(self, x, hx):
                h, c = hx
                g = x @ self.weight_ih.t() + h @ self.weight_hh.t() + self.bias_ih + self.bias_hh
                i, f, gg, o = g.chunk(4, 1)
                c = f.sigmoid() * c + i.sigmoid() * gg.tanh()
                return o.sigmoid() * c.tanh(), c

        class NoBias(lib.nn.RNNCellBase):
            def __init__(self, i, h):
                super().__init__(i, h, False, 3)

        lib.manual_seed(0)
        cell, plain = Cell(3, 2), NoBias(3, 2)
        x, h = lib.randn(4, 3), lib.zeros(4, 2)
        out = cell(x, (h, h))[0]
        out.sum().backward()
        got.append((repr(cell), repr(plain), [n for n, _ in plain.named_parameters()], plain.bias_ih,
                    out.detach().numpy().round(6).tolist(), cell.weight_ih.grad.numpy().round(6).tolist()))
    assert got[1] == got[0]


def test_recurrent_constructor_checks_as_torchs():
    for bad in (dict(dropout=True), dict(dropout=1.5)):
        for lib in (torch, ts):
            with pytest.raises(ValueError, match="dropout should be a number in range"):
                lib.nn.GRU(3, 4, num_layers=2, **bad)
    for lib in (torch, ts):
        with pytest.raises(TypeError, match="input_size should be of type int, got: int64"):
            lib.nn.GRU(np.int64(3), 4)
        assert lib.nn.GRU(3, True).hidden_size == 1   # a bool is an int to torch


def test_rnn_cell_base_torch_form_by_keyword():
    for call in (lambda s, lib: lib.nn.RNNCellBase.__init__(s, 3, 4, bias=True, num_chunks=4),
                 lambda s, lib: lib.nn.RNNCellBase.__init__(s, input_size=3, hidden_size=4, bias=False, num_chunks=3),
                 lambda s, lib: lib.nn.RNNCellBase.__init__(s, 3, 4, False, num_chunks=2)):
        shapes = []
        for lib in (torch, ts):
            class Cell(lib.nn.RNNCellBase):
                def __init__(self):
                    call(self, lib)
            shapes.append([(n, tuple(p.shape)) for n, p in Cell().named_parameters()])
        assert shapes[1] == shapes[0]


def test_index_add_integer_alpha_overflow_is_torchs_error():
    for lib in (torch, ts):
        with pytest.raises(RuntimeError, match="without overflow"):
            lib.zeros(3, dtype=lib.int8).index_add_(0, lib.tensor([0, 1]), lib.ones(2, dtype=lib.int8), alpha=200)
