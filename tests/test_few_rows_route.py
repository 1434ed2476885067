"""nn.GRU and nn.RNN with fewer batch rows than the kernels' threads: the hand-written GRU and RNN
CPU kernels split only the batch rows (one thread would run the time loop), so the layer takes
the generated kernel of the same cell when its plan splits the hidden units
(kernels/cell_cpu.units_split_below_threads), and the hand-written kernel otherwise."""
import contextlib

import numba
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import Tensor, recurrent
from threads_helpers import ChunkSpy, rerun_with_two_threads


def _routes(monkeypatch):
    """Counts of the Functions the layers call, by name."""
    seen = {}
    for cls in (recurrent.CellFunction, recurrent.GRUFunction, recurrent.RNNFunction):
        original = cls.apply.__func__

        def spy(klass, *args, _original=original, **kwargs):
            seen[klass.__name__] = seen.get(klass.__name__, 0) + 1
            return _original(klass, *args, **kwargs)

        monkeypatch.setattr(cls, "apply", classmethod(spy))
    return seen


def _runs_here(request):
    """Whether the test runs in this process: False when it ran (and passed) in a process with two
    Numba threads because this one has one (threads_helpers); skipped on one usable core, where
    the hidden-units split is never planned (its chunks spin at a barrier, a core each)."""
    from tinygrad_seq.kernels import machine_cpu

    if rerun_with_two_threads(request):
        return False
    if machine_cpu.usable_cores() < 2:
        pytest.skip("the hidden-units split needs two cores to spin on")
    return True


@contextlib.contextmanager
def _numba_threads(n):
    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _run(layer, x, hx):
    x = Tensor(x, requires_grad=True)
    hx = Tensor(hx, requires_grad=True)
    out, h_n = layer(x, hx)
    ((out * out).sum() + (h_n * h_n).sum()).backward()
    return [out.numpy(), h_n.numpy(), x.grad.numpy(), hx.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]


@pytest.mark.parametrize("mode", ["GRU", "RNN_TANH", "RNN_RELU"])
def test_few_rows_take_the_generated_units_split(mode, monkeypatch, request):
    from tinygrad_seq.kernels import cell_cpu, tuning

    if not _runs_here(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    spy = ChunkSpy(monkeypatch, cell_cpu)
    seen = _routes(monkeypatch)
    rng = np.random.default_rng(0)
    layer = ts.nn.RNNBase(mode, 3, 4).double()
    reference = ts.nn.RNNBase(None, 3, 4, fused=False, cell=layer.cell_spec).double()
    reference.load_state_dict(layer.state_dict())
    hand = "GRUFunction" if mode == "GRU" else "RNNFunction"
    with _numba_threads(2):
        for batch, split, route in [(1, "units", "CellFunction"), (1, "batch", hand), (2, "units", hand)]:
            monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", split)
            x, hx = rng.standard_normal((6, batch, 3)), rng.standard_normal((1, batch, 4))
            seen.clear()
            spy.most = 0
            for layer_run in (layer, reference):
                layer_run.zero_grad()
            got = _run(layer, x, hx)
            assert set(seen) == {route}, (batch, split, seen)
            if route == "CellFunction":
                assert spy.most == 2   # the generated loop ran on two chunks of units
            seen.clear()
            want = _run(reference, x, hx)
            for a, b in zip(got, want):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", ["GRU", "RNN_TANH"])
def test_few_rows_route_with_layers_directions_and_lengths(mode, monkeypatch, request):
    # two layers, both directions, a padded sequence (lengths), batch_first and unbatched input:
    # every direction of every layer takes the generated units split, and the outputs, final
    # states and every gradient equal the unfused reference's
    from tinygrad_seq.kernels import tuning

    if not _runs_here(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", "units")
    seen = _routes(monkeypatch)
    rng = np.random.default_rng(1)
    with _numba_threads(2):
        for kwargs, x_shape, lengths in [(dict(num_layers=2, bidirectional=True), (7, 1, 3), [5]),
                                         (dict(batch_first=True), (1, 7, 3), None),
                                         (dict(), (7, 3), None)]:
            layer = ts.nn.RNNBase(mode, 3, 4, **kwargs).double()
            reference = ts.nn.RNNBase(None, 3, 4, fused=False, cell=layer.cell_spec, **kwargs).double()
            reference.load_state_dict(layer.state_dict())
            x = rng.standard_normal(x_shape)
            results = []
            for run in (layer, reference):
                seen.clear()
                xt = Tensor(x, requires_grad=True)
                out, h_n = run(xt) if lengths is None else run(xt, lengths=lengths)
                ((out * out).sum() + (h_n * h_n).sum()).backward()
                results.append([out.numpy(), h_n.numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in run.parameters()])
                if run is layer:
                    dirs = 2 if kwargs.get("bidirectional") else 1
                    assert seen == {"CellFunction": kwargs.get("num_layers", 1) * dirs}, (kwargs, seen)
            for a, b in zip(*results):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_the_route_follows_what_the_plan_depends_on(monkeypatch, request):
    # the remembered answer is per parallel threshold and cores to spin on too: a call below the
    # threshold runs on one thread (no split), then the hand-written kernel; the same shape again
    # above it takes the generated split
    from tinygrad_seq.kernels import machine_cpu, tuning

    if not _runs_here(request):
        return
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", "units")
    seen = _routes(monkeypatch)
    layer = ts.nn.GRU(3, 4).double()
    x = Tensor(np.ones((6, 1, 3)))
    with _numba_threads(2):
        for threshold, route in [(0, "CellFunction"), (10 ** 12, "GRUFunction"), (0, "CellFunction")]:
            monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", threshold)
            seen.clear()
            layer(x)
            assert set(seen) == {route}, (threshold, seen)
        seen.clear()
        monkeypatch.setattr(machine_cpu, "usable_cores", lambda: 1)   # e.g. two MPI ranks on two cores
        layer(x)
        assert set(seen) == {"GRUFunction"}, seen


@pytest.mark.parametrize("mode", ["GRU", "RNN_TANH"])
def test_in_place_writes_before_backward_as_in_pytorch(mode, monkeypatch, request):
    # on either route: the entering state and the weights are saved (written in place before
    # backward: an error, as in PyTorch), a bias is not (neither backward reads it: allowed, and
    # the gradients are those of the forward's values, as in PyTorch)
    import torch
    from tinygrad_seq.kernels import tuning

    if not _runs_here(request):
        return
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    seen = _routes(monkeypatch)
    rng = np.random.default_rng(2)
    x, hx = rng.standard_normal((5, 1, 3)), rng.standard_normal((1, 1, 4))
    with _numba_threads(2):
        for split in ("units", "batch"):
            monkeypatch.setenv("TINYGRAD_SEQ_TUNE_SPLIT", split)
            for written in ("h0", "weight_hh_l0", "bias_hh_l0"):
                layer = ts.nn.RNNBase(mode, 3, 4).double()
                reference = getattr(torch.nn, "GRU" if mode == "GRU" else "RNN")(3, 4).double()
                reference.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in layer.state_dict().items()})
                h0, h0_ref = Tensor(hx, requires_grad=True), torch.tensor(hx, requires_grad=True)
                seen.clear()
                out, _ = layer(Tensor(x), h0)
                out_ref, _ = reference(torch.tensor(x), h0_ref)
                assert set(seen) == {"CellFunction" if split == "units" else ("GRUFunction" if mode == "GRU"
                                                                              else "RNNFunction")}
                with ts.no_grad():
                    (h0 if written == "h0" else getattr(layer, written)).add_(1.0)
                with torch.no_grad():
                    (h0_ref if written == "h0" else getattr(reference, written)).add_(1.0)
                if written == "bias_hh_l0":
                    out.sum().backward()
                    out_ref.sum().backward()
                    for name in ("weight_hh_l0", "bias_hh_l0", "bias_ih_l0"):
                        np.testing.assert_allclose(getattr(layer, name).grad.numpy(),
                                                   getattr(reference, name).grad.numpy(), rtol=1e-9, atol=1e-12)
                else:
                    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                        out.sum().backward()
                    with pytest.raises(RuntimeError):   # PyTorch too (its message names the view or version)
                        out_ref.sum().backward()


def test_one_thread_keeps_the_hand_written_kernels(monkeypatch):
    # one Numba thread: no split to gain; nor on a one-step call (a decoder's step) or on CUDA
    from tinygrad_seq.kernels import cell_cpu

    asked = []
    with _numba_threads(1):
        assert not cell_cpu.units_split_below_threads("gru", lambda: asked.append(1), 50, 1, 512, 512, np.float32)
    assert not cell_cpu.units_split_below_threads("gru", lambda: asked.append(1), 1, 1, 512, 512, np.float32)
    assert not recurrent.generated_splits_units("cuda", "gru", lambda: asked.append(1), 50, 1, 512, 512, np.float32)
    assert asked == []   # no kernel generated or loaded for the question
