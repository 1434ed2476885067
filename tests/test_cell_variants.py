"""The cell variants (API.md "Cell variants"): unfused against the plain-numpy reference
(tests/naive.py), fused (generated kernels) against unfused to 1e-9 in float64 (outputs, final
states, every gradient), gradcheck, with lengths, bidirectional, two layers and hx; zoneout;
parameter names; the variant cells; their classes, built from the descriptions."""
import inspect
import pickle

import numpy as np
import pytest

import naive
import tinygrad_seq as ts
from tinygrad_seq import cell_library, nn
from tinygrad_seq.nn import cells, variants

T, B, I, H = 4, 3, 3, 4
LENGTHS = [4, 2, 3]

# every built-in cell beside PyTorch's four, from the descriptions (tinygrad_seq/cell_library.py),
# each through the layer / cell class that runs it (nn.IndRNN(nonlinearity="tanh"), nn.GRU(reset_after=False))
PYTORCH = {"rnn_tanh", "rnn_relu", "lstm", "gru"}
VARIANTS = sorted(set(cell_library.CELLS) - PYTORCH)
ZONEOUT = ["lstm", "gru"]
# each fused case compiles a generated kernel on a cold cache: indrnn_tanh differs from indrnn_relu
# only in its activation, so it is checked unfused only
FUSED = sorted(set(VARIANTS) - {"indrnn_tanh"})


def make_layer(name, *args, **kwargs):
    return variants.layer_for(name, *args, **kwargs)


def n_states(name):
    return len(cell_library.get(name).states)


def build(name, fused, num_layers=2, bidirectional=True, seed=0, hidden=H, **kw):
    """The layer with every parameter random (peepholes and LayerNorm gains included)."""
    layer = make_layer(name, I, hidden, num_layers=num_layers, bidirectional=bidirectional, fused=fused,
                       dtype=np.float64, **kw)
    rng = np.random.default_rng(seed)
    layer.load_state_dict({k: rng.uniform(-0.8, 0.8, v.shape) for k, v in layer.state_dict().items()})
    return layer


def inputs(name, num_layers=2, dirs=2, seed=1, hidden=H):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, I))
    hx = [rng.standard_normal((num_layers * dirs, B, hidden)) * 0.5 for _ in range(n_states(name))]
    return x, hx


def run(layer, x, hx, lengths, grad=True):
    xt = ts.Tensor(x, requires_grad=grad)
    ht = [ts.Tensor(h, requires_grad=grad) for h in hx]
    out, st = layer(xt, ht[0] if len(ht) == 1 else tuple(ht), lengths=lengths)
    finals = list(st) if isinstance(st, tuple) else [st]
    if grad:
        rng = np.random.default_rng(7)
        loss = (out * ts.Tensor(rng.standard_normal(out.shape))).sum()
        for f in finals:
            loss = loss + (f * ts.Tensor(rng.standard_normal(f.shape))).sum()
        loss.backward()
    grads = [xt.grad.numpy()] + [h.grad.numpy() for h in ht] if grad else []
    grads += [p.grad.numpy() for p in layer.parameters()] if grad else []
    return [out.numpy()] + [f.numpy() for f in finals], grads


@pytest.mark.parametrize("name", VARIANTS)
def test_unfused_matches_naive(name):
    layer = build(name, fused=False)
    x, hx = inputs(name)
    values, _ = run(layer, x, hx, LENGTHS, grad=False)
    params = {k: v for k, v in layer.state_dict().items()}
    out, finals = naive.layer(name, params, x, hx, 2, True, LENGTHS)
    for got, want in zip(values, [out] + finals):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", FUSED + ["lstm_zoneout", "gru_zoneout"])
def test_fused_matches_unfused(name):
    base, zo = name.replace("_zoneout", ""), 0.3 if name.endswith("zoneout") else 0.0
    x, hx = inputs(base)
    results = []
    for fused in (True, False):
        layer = build(base, fused, zoneout=zo) if zo else build(base, fused)
        ts.manual_seed(3)  # the zoneout masks: the same draws on both paths
        results.append(run(layer, x, hx, LENGTHS))
    (fv, fg), (uv, ug) = results
    assert len(fg) == len(ug)
    for i, (a, b) in enumerate(zip(fv + fg, uv + ug)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{name}: value/gradient {i}")


@pytest.mark.parametrize("name", ["peephole_lstm", "gru_reset_before", "layernorm_gru"])
def test_fused_on_panels_matches_unfused(name, monkeypatch):
    # H=32: the generated loops' products run on packed panels (kernels/panel_cpu.py; float64
    # panels are 16 wide): one product, a second product on a value computed inside the step
    # (reset-before GRU), a cell that reduces over its rows (LayerNorm); forward and backward
    from tinygrad_seq.kernels import cell_cpu

    packed = []
    for fn in ("packed_rows", "packed_columns"):
        original = getattr(cell_cpu, fn)
        monkeypatch.setattr(cell_cpu, fn, lambda *a, _f=fn, _o=original: packed.append(_f) or _o(*a))
    x, hx = inputs(name, hidden=32)
    results = [run(build(name, fused, hidden=32), x, hx, LENGTHS) for fused in (True, False)]
    assert {"packed_rows", "packed_columns"} <= set(packed)
    (fv, fg), (uv, ug) = results
    for i, (a, b) in enumerate(zip(fv + fg, uv + ug)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{name}: value/gradient {i}")


@pytest.mark.parametrize("name", ["peephole_lstm", "gru_reset_before"])
def test_a_one_step_backward_runs_on_panels(name, monkeypatch):
    # T=1 (a decoder's step), H=32: the forward keeps W as stored (packing would read it once more
    # than its one product does), the backward packs panels, a plain copy, where it transposed W
    # (3-6x the copy's time); values and gradients equal the unfused step's
    from tinygrad_seq.kernels import cell_cpu

    called = []
    for fn in ("packed_rows", "packed_columns", "transposed"):
        original = getattr(cell_cpu, fn)
        monkeypatch.setattr(cell_cpu, fn, lambda *a, _f=fn, _o=original: called.append(_f) or _o(*a))
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, B, I))
    hx = [rng.standard_normal((2, B, 32)) * 0.5 for _ in range(n_states(name))]
    results = [run(build(name, fused, hidden=32, num_layers=1), x, hx, None) for fused in (True, False)]
    assert "packed_columns" in called and "packed_rows" not in called and "transposed" not in called
    (fv, fg), (uv, ug) = results
    for i, (a, b) in enumerate(zip(fv + fg, uv + ug)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{name}: value/gradient {i}")


@pytest.mark.parametrize("name", FUSED)
def test_gradcheck_fused(name):
    layer = build(name, fused=True, num_layers=1, bidirectional=True)
    rng = np.random.default_rng(2)
    x = ts.Tensor(rng.standard_normal((3, 2, I)), requires_grad=True)
    hx = [ts.Tensor(rng.standard_normal((2, 2, H)) * 0.5, requires_grad=True) for _ in range(n_states(name))]

    def fn(x, *hx):
        out, st = layer(x, hx[0] if len(hx) == 1 else tuple(hx), lengths=[3, 2])
        return (out,) + (st if isinstance(st, tuple) else (st,))
    assert ts.gradcheck(fn, (x, *hx), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name", ZONEOUT)
def test_zoneout_eval_is_the_expectation(name):
    x, hx = inputs(name)
    for fused in (True, False):
        layer = build(name, fused, zoneout=0.25).eval()
        values, _ = run(layer, x, hx, LENGTHS, grad=False)
        out, finals = naive.layer(name, layer.state_dict(), x, hx, 2, True, LENGTHS, zoneout=0.25)
        for got, want in zip(values, [out] + finals):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_zoneout_training_keeps_units():
    """In training each unit keeps its previous value with probability p: with p near 1 almost
    every h stays at h0, and the kept units are exactly h0's."""
    x, hx = inputs("gru", num_layers=1, dirs=1)
    layer = build("gru", fused=True, num_layers=1, bidirectional=False, zoneout=0.9)
    ts.manual_seed(0)
    values, _ = run(layer, x, hx, None, grad=False)
    h_n = values[1][0]
    kept = np.isclose(h_n, hx[0][0])
    assert 0.5 < kept.mean() < 1.0
    with pytest.raises(ValueError, match="zoneout"):
        nn.LSTM(I, H, zoneout=1.0)


def test_parameter_names_and_shapes():
    want = {
        "peephole_lstm": {"weight_ih_l0": (4 * H, I), "weight_hh_l0": (4 * H, H), "bias_ih_l0": (4 * H,),
                          "bias_hh_l0": (4 * H,), "weight_peephole_l0": (3, H)},
        "cifg_lstm": {"weight_ih_l0": (3 * H, I), "weight_hh_l0": (3 * H, H), "bias_ih_l0": (3 * H,),
                      "bias_hh_l0": (3 * H,)},
        "layernorm_lstm": {"weight_ih_l0": (4 * H, I), "weight_hh_l0": (4 * H, H), "bias_l0": (4 * H,),
                           "ln_ih_weight_l0": (4 * H,), "ln_ih_bias_l0": (4 * H,), "ln_hh_weight_l0": (4 * H,),
                           "ln_hh_bias_l0": (4 * H,), "ln_c_weight_l0": (H,), "ln_c_bias_l0": (H,)},
        "layernorm_gru": {"weight_ih_l0": (3 * H, I), "weight_hh_l0": (3 * H, H), "bias_ih_l0": (3 * H,),
                          "bias_hh_l0": (3 * H,), "ln_ih_weight_l0": (3 * H,), "ln_ih_bias_l0": (3 * H,),
                          "ln_hh_weight_l0": (3 * H,), "ln_hh_bias_l0": (3 * H,)},
        "indrnn_relu": {"weight_ih_l0": (H, I), "weight_hh_l0": (H,), "bias_ih_l0": (H,), "bias_hh_l0": (H,)},
    }
    for name, shapes in want.items():
        layer = make_layer(name, I, H)
        got = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
        assert got == shapes, name
        assert list(got) == list(shapes), name
        sd = layer.state_dict()
        if name == "peephole_lstm":
            assert not sd["weight_peephole_l0"].any()  # starts as the plain LSTM
        if name == "layernorm_lstm":
            assert (sd["ln_c_weight_l0"] == 1).all() and not sd["ln_c_bias_l0"].any()
    two = nn.PeepholeLSTM(I, H, num_layers=2, bidirectional=True)
    assert "weight_peephole_l1_reverse" in two.state_dict()
    assert "bias_l0" not in nn.LayerNormLSTM(I, H, bias=False).state_dict()


@pytest.mark.parametrize("name", ["peephole_lstm", "cifg_lstm", "layernorm_lstm"])
def test_peephole_starts_as_lstm_and_bias_false_runs(name):
    layer = make_layer(name, I, H, bias=False, dtype=np.float64)
    x = ts.Tensor(np.random.default_rng(0).standard_normal((T, B, I)))
    fused, _ = layer(x)
    layer.fused = False
    unfused, _ = layer(x)
    np.testing.assert_allclose(fused.numpy(), unfused.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", VARIANTS)
def test_cells_match_naive(name):
    cell = cells.cell_for(name, I, H, dtype=np.float64)
    rng = np.random.default_rng(4)
    cell.load_state_dict({k: rng.uniform(-0.8, 0.8, v.shape) for k, v in cell.state_dict().items()})
    x = rng.standard_normal((B, I))
    states = [rng.standard_normal((B, H)) for _ in range(n_states(name))]
    want = naive.step(name, cell.state_dict(), x, states)
    arg = ts.Tensor(states[0]) if len(states) == 1 else tuple(ts.Tensor(s) for s in states)
    got = cell(ts.Tensor(x), arg)
    got = list(got) if isinstance(got, tuple) else [got]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-10, atol=1e-12)
    one = cell(ts.Tensor(x[0]))  # unbatched, zero state
    first = one[0] if isinstance(one, tuple) else one
    assert first.shape == (H,)


def test_variants_run_unbatched_and_batch_first():
    x = np.random.default_rng(0).standard_normal((B, T, I))
    for name in ("peephole_lstm", "layernorm_gru"):
        layer = build(name, fused=True, num_layers=1, bidirectional=False, batch_first=True)
        out_bf, _ = layer(ts.Tensor(x))
        out_one, st = layer(ts.Tensor(x[1]))
        np.testing.assert_allclose(out_one.numpy(), out_bf.numpy()[1], rtol=1e-10, atol=1e-12)
        assert (st[0] if isinstance(st, tuple) else st).shape == (1, H)



@pytest.mark.parametrize("name", ["peephole_lstm", "layernorm_gru"])
def test_generated_kernels_on_two_threads_match_one(name, monkeypatch, request):
    # the generated loop split over two threads (a chunk of batch rows each, blas_cpu.run_chunks)
    # agrees with one thread; these tiny calls would run on one, so the threshold is lowered, two
    # Numba threads are forced (a fresh process when this one has one) and the spy checks two ran
    from threads_helpers import ChunkSpy, rerun_with_two_threads
    from tinygrad_seq.kernels import cell_cpu, tuning

    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    spy = ChunkSpy(monkeypatch, cell_cpu)
    x, hx = inputs(name)
    _one_thread_equals_two(spy, lambda threads: run(build(name, True), x, hx, LENGTHS))


def _one_thread_equals_two(spy, run_with, after=None):
    """run_with(threads) on one Numba thread, then two: the spy saw that many chunks, after(threads)
    checks more, and the two runs' values and gradients agree to rounding."""
    import numba

    before, results = numba.get_num_threads(), []
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            spy.most = 0
            results.append(run_with(threads))
            assert spy.most == threads
            if after is not None:
                after(threads)
    finally:
        numba.set_num_threads(before)
    (v2, g2), (v1, g1) = results[1], results[0]
    for a, b in zip(v2 + g2, v1 + g1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["peephole_lstm", "gru_reset_before", "indrnn_relu", "lstm_zoneout",
                                  "peephole_lstm_h32"])
def test_generated_units_split_matches_one_thread(name, monkeypatch, request):
    # the hidden-units split of the generated loop (kernels/cell_loop.py: two threads, units 0-1
    # and 2-3 of every gate block, meeting at a spin barrier around each stage's products), forced
    # by TINYGRAD_SEQ_TUNE_SPLIT, agrees with one thread: one product (peephole), a second product
    # on a computed value inside the step (reset-before GRU), a diagonal cell (IndRNN), extra
    # per-step inputs (zoneout masks); with lengths, bidirectional and two layers; at H=32 each
    # thread's 16 units of a block run on packed panels
    from threads_helpers import ChunkSpy, rerun_with_two_threads
    from tinygrad_seq.kernels import cell_cpu, tuning

    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", "units")
    spy = ChunkSpy(monkeypatch, cell_cpu)
    barriers = []  # the units path allocates a barrier per call
    flags = cell_cpu.barrier_flags
    monkeypatch.setattr(cell_cpu, "barrier_flags", lambda n: barriers.append(n) or flags(n))
    hidden = 32 if name.endswith("_h32") else H
    base, zo = name.replace("_zoneout", "").replace("_h32", ""), 0.3 if name.endswith("zoneout") else 0.0
    x, hx = inputs(base, hidden=hidden)

    def run_with(threads):
        layer = build(base, True, zoneout=zo, hidden=hidden) if zo else build(base, True, hidden=hidden)
        ts.manual_seed(3)  # the zoneout masks: the same draws on both runs
        barriers.clear()
        return run(layer, x, hx, LENGTHS)

    # 2 layers x 2 directions x forward and backward, each with a barrier on two threads
    _one_thread_equals_two(spy, run_with, lambda threads: _assert_barriers(barriers, threads))


def _assert_barriers(barriers, threads):
    assert barriers == ([2] * 8 if threads == 2 else [])


def test_generated_units_split_is_offered_only_for_unit_by_unit_cells():
    # a LayerNorm cell reduces over a whole row of gates: its loop never splits the units
    from tinygrad_seq.cellgen import fused_kernel
    assert fused_kernel(cell_library.get("peephole_lstm")).LAYOUT["units"] is True
    assert fused_kernel(cell_library.get("layernorm_gru")).LAYOUT["units"] is False


def test_classes_built_from_the_descriptions():
    """Every described variant has its layer and cell class in tinygrad_seq.nn with API.md's
    signatures, docstrings and options (built from cell_library.CLASSES, not written by hand)."""
    from tinygrad_seq.nn import CIFGLSTM, IndRNN, IndRNNCell, LayerNormGRU, LayerNormLSTMCell, PeepholeLSTM  # noqa: F401
    for key, classes in cell_library.CLASSES.items():
        layer, cell = getattr(nn, classes.layer), getattr(nn, classes.cell)
        assert variants.LAYERS[key] is layer and cells.CELL_CLASSES[key] is cell
        assert layer.__doc__ and cell.__doc__
        if not classes.hand_written:
            assert layer.__module__ == "tinygrad_seq.nn.variants" and cell.__module__ == "tinygrad_seq.nn.cells"
            assert getattr(variants, classes.layer) is layer and getattr(cells, classes.cell) is cell
    layer_args = ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional",
                  "fused", "dtype", "device"]
    for cls in (nn.PeepholeLSTM, nn.CIFGLSTM, nn.LayerNormLSTM, nn.LayerNormGRU):
        assert list(inspect.signature(cls).parameters) == layer_args + ["zoneout"]
        assert list(inspect.signature(getattr(nn, cls.__name__ + "Cell")).parameters) == [
            "input_size", "hidden_size", "bias", "device", "dtype"]
    assert list(inspect.signature(nn.IndRNN).parameters) == layer_args[:3] + ["nonlinearity"] + layer_args[3:]
    assert inspect.signature(nn.IndRNN).parameters["nonlinearity"].default == "relu"
    assert list(inspect.signature(nn.IndRNNCell).parameters) == ["input_size", "hidden_size", "bias", "nonlinearity",
                                                                 "device", "dtype"]
    assert "Call: (output, (h_n, c_n))." in nn.PeepholeLSTM.__doc__ and "weight_peephole" in nn.PeepholeLSTM.__doc__
    assert "Call: (output, h_n)." in nn.IndRNN.__doc__
    assert nn.CIFGLSTMCell.__doc__ == "One step of nn.CIFGLSTM: (h', c')."
    layer = nn.IndRNN(I, H, 2, "tanh")   # options stand where PyTorch's nn.RNN has nonlinearity
    assert (layer.nonlinearity, layer.num_layers, layer.cell_spec.name) == ("tanh", 2, "indrnn_tanh")
    cell = nn.IndRNNCell(I, H, False, "tanh")
    assert (cell.nonlinearity, cell.bias, cell.cell_spec.name) == ("tanh", False, "indrnn_tanh")
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'."):
        nn.IndRNN(I, H, nonlinearity="sigmoid")
    with pytest.raises(TypeError, match="zoneout"):
        nn.IndRNN(I, H, zoneout=0.1)
    assert nn.CIFGLSTM(I, H, zoneout=0.2).zoneout == 0.2
    clone = pickle.loads(pickle.dumps(nn.LayerNormGRU(I, H).state_dict()))
    assert sorted(clone) == sorted(nn.LayerNormGRU(I, H).state_dict())
    assert pickle.loads(pickle.dumps(nn.PeepholeLSTMCell)) is nn.PeepholeLSTMCell
