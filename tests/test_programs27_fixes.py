"""PyTorch programs round 27 (2026-12-06): the scaffolding training scripts carry, pasted with
`import tinygrad_seq as torch` and run on a machine without a GPU, answers as torch 2.13's does
on a CPU-only machine: backends.cudnn.flags / mkldnn.flags blocks, torch.cpu / mps / xpu,
multiprocessing's sharing strategy, the CUDA memory counters and device queries, device(type=),
set_num_threads(0), set_float32_matmul_precision of a bad name, pin_memory's warning,
__config__."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

no_gpu = pytest.mark.skipif(ts.cuda.is_available(), reason="torch's answers without a GPU")


def _gradient_penalty(lib):
    lib.manual_seed(0)
    rnn = lib.nn.GRU(3, 4)
    x = lib.randn(5, 2, 3, requires_grad=True)
    with lib.backends.cudnn.flags(enabled=False):   # the double-backward-through-an-RNN idiom
        assert lib.backends.cudnn.enabled is False and lib.backends.cudnn.deterministic is False
        out, _ = rnn(x)
        gx, = lib.autograd.grad(out.pow(2).sum(), x, create_graph=True)
        gp = (gx.norm(2, dim=-1) - 1).pow(2).mean()
        gp.backward()
    assert lib.backends.cudnn.enabled is True   # restored
    before = lib.backends.mkldnn.enabled
    with lib.backends.mkldnn.flags(enabled=not before):
        assert lib.backends.mkldnn.enabled is (not before)
    assert lib.backends.mkldnn.enabled is before
    with lib.backends.cudnn.flags(False, False):   # torch's positional order: enabled, benchmark, ...
        assert lib.backends.cudnn.enabled is False and lib.backends.cudnn.benchmark is False
    with pytest.raises(TypeError):
        lib.backends.cudnn.flags(bogus=1)
    return gp.item(), rnn.weight_hh_l0.grad.numpy()


def test_backend_flag_blocks_run_and_restore():
    ours, theirs = _gradient_penalty(ts), _gradient_penalty(torch)
    assert abs(ours[0] - theirs[0]) < 1e-5
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-6)
    assert ts.backends.cudnn.is_acceptable(ts.ones(1)) is torch.backends.cudnn.is_acceptable(torch.ones(1))


@no_gpu
def test_device_picking_names_answer_as_on_a_cpu_only_torch():
    exprs = ["backends.mps.is_available()", "backends.mps.is_built()", "mps.is_available()", "mps.device_count()",
             "mps.manual_seed(0)", "xpu.is_available()", "cpu.is_available()", "cpu.device_count()",
             "cuda.memory_allocated()", "cuda.max_memory_allocated()", "cuda.memory_reserved()",
             "cuda.max_memory_reserved()", "cuda.memory_stats()", "cuda.seed()", "cuda.is_initialized()",
             "device(type='cpu')", "device(type='cuda', index=0)"]
    for e in exprs:
        ours, theirs = eval("ts." + e), eval("torch." + e)
        assert str(ours) == str(theirs) or (not ours and not theirs), e
    for e in ["cuda.get_device_name(0)", "cuda.get_device_capability()", "cuda.get_device_properties(0)",
              "cuda.mem_get_info()", "cuda.initial_seed()", "cuda.synchronize()", "cuda.ipc_collect()",
              "cuda.current_stream()", "cuda.set_per_process_memory_fraction(0.5)"]:
        for lib in (ts, torch):
            with pytest.raises(AssertionError):
                eval("lib." + e)
    for e in ["cuda.Event(enable_timing=True)", "cuda.Stream()", "mps.empty_cache()", "mps.synchronize()"]:
        for lib in (ts, torch):
            with pytest.raises(RuntimeError):
                eval("lib." + e)
    for lib in (ts, torch):
        with lib.cuda.device(-1), lib.cuda.stream(None):
            pass
        with pytest.raises(RuntimeError):
            with lib.cuda.device(0):
                pass
        lib.cuda.reset_peak_memory_stats() if lib is ts else None   # torch's raises an internal AttributeError


def test_multiprocessing_is_pythons_with_torchs_sharing_strategy():
    import tinygrad_seq.multiprocessing as mp
    import multiprocessing
    assert mp.Process is multiprocessing.Process and mp.get_context is multiprocessing.get_context
    assert ts.multiprocessing is mp
    assert mp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()
    before = mp.get_sharing_strategy()
    try:
        mp.set_sharing_strategy("file_system")
        assert mp.get_sharing_strategy() == "file_system"
        with pytest.raises(AssertionError, match="unknown strategy"):
            mp.set_sharing_strategy("shm")
    finally:
        mp.set_sharing_strategy(before)


def test_settings_refused_or_warned_as_torch_does():
    for lib in (ts, torch):
        with pytest.raises(TypeError, match="invalid combination of arguments"):
            lib.device()
        with pytest.raises(RuntimeError, match="positive integer"):
            lib.set_num_threads(0)
        before = lib.get_float32_matmul_precision()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.set_float32_matmul_precision("highest ")
        assert any("is not one of 'highest', 'high', or 'medium'" in str(w.message) for w in caught)
        assert lib.get_float32_matmul_precision() == before
    assert "get_num_threads" in ts.__config__.parallel_info() and "numba" in ts.__config__.show()


@no_gpu
def test_pin_memory_warns_each_time_the_loader_is_iterated():
    counts = []
    for lib in (ts, torch):
        data = lib.utils.data
        loader = data.DataLoader(data.TensorDataset(lib.arange(4)), batch_size=2, pin_memory=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(2):
                for _ in loader:
                    pass
        counts.append(sum("'pin_memory' argument is set as true but no accelerator" in str(w.message)
                          for w in caught))
    assert counts[0] == counts[1] == 2


@pytest.mark.cuda
def test_the_cuda_queries_answer_on_a_gpu():
    # real GPU, or Numba's simulator in CI (its fake device: no name, inf memory)
    assert ts.cuda.memory_allocated() >= 0 and ts.cuda.max_memory_allocated() >= ts.cuda.memory_allocated()
    assert isinstance(ts.cuda.get_device_name(0), str) and len(ts.cuda.get_device_capability()) == 2
    assert ts.cuda.get_device_properties(0).total_memory >= 0 and ts.cuda.is_initialized()
    start, end = ts.cuda.Event(enable_timing=True), ts.cuda.Event(enable_timing=True)
    start.record()
    (ts.ones(4, 4, device="cuda") @ ts.ones(4, 4, device="cuda")).sum().item()
    end.record()
    end.synchronize()
    assert isinstance(start.elapsed_time(end), float) and end.query()   # ms (the simulator says -1)
    ts.cuda.synchronize()
    ts.cuda.current_stream().synchronize()
    with ts.cuda.device(0), ts.cuda.stream(ts.cuda.current_stream()):
        pass
