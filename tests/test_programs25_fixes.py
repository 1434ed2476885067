"""Programs round 25 (103 PyTorch programs beside torch 2.13: research code, and where two parts of
the API meet): the layout of a binary op's result (dropout's mask follows it), W_ih written in
place when the input needs no gradient, quantize_dynamic's random draws, OMP_NUM_THREADS, torch's
module paths, MultiheadAttention's fast path and merge_masks, and smaller names and errors."""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_binary_result_takes_the_first_operands_layout(lib):
    x = lib.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4))
    y = lib.tensor(np.arange(24.0, dtype=np.float32).reshape(2, 3, 4))
    o = lib.ones(2, 3, 4).permute(2, 0, 1)
    assert (o * lib.ones(4, 2, 3)).stride() == (1, 12, 4)
    assert not (o * lib.ones(4, 2, 3)).is_contiguous()
    assert (lib.ones(4, 2, 3) * o).stride() == (6, 3, 1)
    assert (x.t() * lib.ones(4, 3)).stride() == (1, 4)
    assert (x.t() + x.t()).stride() == (1, 4)
    assert (x.t() / lib.ones(3)).stride() == (1, 4)
    assert (lib.ones(4, 1) - x.t()).stride() == (1, 4)
    assert (lib.ones(1, 3) * x.t()).stride() == (1, 4)
    assert (y.transpose(1, 2) + lib.ones(2, 4, 3)).stride() == (12, 1, 4)
    assert (y.permute(1, 0, 2) * y.permute(1, 0, 2)).stride() == (4, 12, 1)
    np.testing.assert_array_equal((x.t() * lib.ones(4, 3)).numpy(), np.arange(12.0).reshape(3, 4).T)


def test_dropout_of_a_transposed_product_draws_torchs_mask():
    # QRNN's h = O * C with O a permuted conv output, then dropout: the mask fills memory in order
    masks = []
    for lib in (torch, ts):
        h = lib.ones(2, 3, 4).permute(2, 0, 1) * lib.ones(4, 2, 3)
        lib.manual_seed(0)
        masks.append((lib.nn.functional.dropout(h, 0.5, training=True) == 0).numpy())
    np.testing.assert_array_equal(masks[0], masks[1])


@pytest.mark.parametrize("name", ["GRU", "RNN"])
def test_w_ih_written_in_place_when_the_input_needs_no_grad(name):
    # torch's CPU GRU / RNN keep W_ih only for dx: written in place after the forward, the
    # backward still runs (and W_hh, always kept, still raises); the weight gradients are torch's
    grads = []
    for lib in (torch, ts):
        lib.manual_seed(0)
        layer = getattr(lib.nn, name)(2, 3)
        y, _ = layer(lib.ones(4, 1, 2))
        with lib.no_grad():
            layer.weight_ih_l0.mul_(2)
        y.sum().backward()
        grads.append((layer.weight_ih_l0.grad.numpy().copy(), layer.weight_hh_l0.grad.numpy().copy()))
        y, _ = layer(lib.ones(4, 1, 2, requires_grad=True))
        with lib.no_grad():
            layer.weight_ih_l0.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        y, _ = layer(lib.ones(4, 1, 2))
        with lib.no_grad():
            layer.weight_hh_l0.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    for t, o in zip(*grads):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)


def test_a_generated_cells_w_ih_too():
    layer = ts.nn.PeepholeLSTM(4, 8)
    y, _ = layer(ts.ones(3, 2, 4))
    with ts.no_grad():
        layer.weight_ih_l0.mul_(2)
    y.sum().backward()
    assert layer.weight_hh_l0.grad is not None
    y, _ = layer(ts.ones(3, 2, 4, requires_grad=True))
    with ts.no_grad():
        layer.weight_ih_l0.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_quantize_dynamic_draws_what_torchs_quantized_rnns_draw():
    makers = [lambda nn: nn.Sequential(nn.LSTM(4, 6)), lambda nn: nn.Sequential(nn.GRU(4, 6)),
              lambda nn: nn.Sequential(nn.LSTM(4, 6, num_layers=2, bidirectional=True)),
              lambda nn: nn.Sequential(nn.Linear(4, 6))]
    draws = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib in (torch, ts):
            for k, make in enumerate(makers):
                for dtype in (lib.qint8, lib.float16):
                    lib.manual_seed(0)
                    model = make(lib.nn)
                    lib.ao.quantization.quantize_dynamic(model, {lib.nn.LSTM, lib.nn.GRU, lib.nn.Linear}, dtype=dtype)
                    draws.setdefault((k, str(dtype)[-7:]), []).append(lib.rand(3).numpy())
    for key, (theirs, ours) in draws.items():
        np.testing.assert_array_equal(ours, theirs, err_msg=str(key))


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="Numba's pool has one thread anyway")
def test_omp_num_threads_sets_the_kernels_threads_and_leaves_torchs():
    script = textwrap.dedent("""
        import torch
        import tinygrad_seq as ts
        import numba
        before = torch.get_num_threads()
        ts.exp(ts.randn(300, 300))
        print("RESULT", before, torch.get_num_threads(), numba.get_num_threads())
    """)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("NUMBA_NUM_THREADS", None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert [l for l in out.stdout.splitlines() if l.startswith("RESULT")] == ["RESULT 1 1 1"]


def test_torchs_module_paths():
    import tinygrad_seq.autograd.grad_mode
    import tinygrad_seq.nn.parallel.distributed
    from tinygrad_seq.autograd.grad_mode import no_grad
    from tinygrad_seq.nn.parallel.distributed import DistributedDataParallel
    assert ts.utils.data.distributed.DistributedSampler is ts.utils.data.DistributedSampler
    assert DistributedDataParallel is ts.nn.parallel.DistributedDataParallel
    assert ts.nn.parallel.distributed.DistributedDataParallel is DistributedDataParallel
    assert no_grad is ts.no_grad and tinygrad_seq.autograd.grad_mode.enable_grad is ts.enable_grad


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_embedding_bag_keeps_sparse(lib):
    assert lib.nn.EmbeddingBag(5, 2, sparse=True).sparse is True
    assert lib.nn.EmbeddingBag(5, 2).sparse is False


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_destroying_no_process_group_is_an_assertion_error(lib):
    with pytest.raises(AssertionError):
        lib.distributed.destroy_process_group()


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_fast_path_attention_leaves_fully_masked_queries_nan(lib):
    # torch's _native_multi_head_attention (self-attention, eval, no grad, bool masks, batch_first,
    # no weights): the rows of queries whose keys are all masked are nan; elsewhere (grad enabled,
    # key is not query, float masks) they are 0
    lib.manual_seed(0)
    mha = lib.nn.MultiheadAttention(4, 2, batch_first=True).eval()
    x = lib.tensor(np.random.RandomState(0).randn(2, 3, 4).astype(np.float32))
    kpm = lib.tensor([[False, False, True], [True, True, True]])
    with lib.no_grad():
        fast, _ = mha(x, x, x, key_padding_mask=kpm, need_weights=False)
        other, _ = mha(x, x.clone(), x.clone(), key_padding_mask=kpm, need_weights=False)
        float_mask, _ = mha(x, x, x, key_padding_mask=kpm.float() * -1e30, need_weights=False)
    slow, _ = mha(x, x, x, key_padding_mask=kpm, need_weights=False)
    assert np.isnan(fast[1].numpy()).all() and np.isfinite(fast[0].numpy()).all()
    for out in (other, float_mask, slow):
        assert np.isfinite(out.detach().numpy()).all()
    np.testing.assert_allclose(slow[1].detach().numpy(), 0.0, atol=1e-6)
    np.testing.assert_allclose(fast[0].numpy(), slow[0].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_merge_masks_is_torchs():
    rng = np.random.RandomState(0)
    query, mask3 = rng.randn(2, 3, 4).astype(np.float32), rng.randn(4, 3, 3).astype(np.float32)
    results = []
    for lib in (torch, ts):
        mha = lib.nn.MultiheadAttention(4, 2, batch_first=True)
        q = lib.tensor(query)
        kpm = lib.tensor([[0.0, 0.0, float("-inf")], [0.0, float("-inf"), 0.0]])
        am2 = lib.tensor(np.triu(np.full((3, 3), -np.inf, np.float32), 1))
        am3 = lib.tensor(mask3)
        got = [mha.merge_masks(None, None, q), mha.merge_masks(None, kpm, q), mha.merge_masks(am2, None, q),
               mha.merge_masks(am3, None, q), mha.merge_masks(am2, kpm, q)]
        results.append([(None if m is None else m.numpy(), t) for m, t in got])
    for (tm, tt), (om, ot) in zip(*results):
        assert ot == tt
        if tm is None:
            assert om is None
        else:
            np.testing.assert_array_equal(om, tm)


def test_ctc_loss_node_names():
    lp = ts.randn(6, 2, 4).log_softmax(-1).requires_grad_()
    args = (lp, ts.tensor([[1, 2], [3, 3]]), ts.tensor([6, 6]), ts.tensor([2, 2]))
    assert ts.nn.functional.ctc_loss(*args, reduction="none").grad_fn.name() == "CtcLossBackward0"
    assert ts.nn.functional.ctc_loss(*args, reduction="none", zero_infinity=True).grad_fn.name() == "WhereBackward0"


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_assigning_a_tensor_to_a_parameter_names_its_type(lib):
    layer = lib.nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'torch\.DoubleTensor' as parameter 'weight'"):
        layer.weight = lib.zeros(2, 2, dtype=lib.float64)


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_view_of_a_result_laid_out_as_torchs(lib):
    x = lib.ones(3, 4)
    for make in (lambda: x.t() * x.t(), lambda: x.t() + 1, lambda: lib.ones(2, 3, 4).permute(2, 0, 1) * lib.ones(4, 2, 3)):
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            make().view(-1)
    assert (x.t() * x.t()).view(4, 3).shape == (4, 3)
    assert (x.t() * x.t()).t().view(-1).shape == (12,)


def test_a_saved_packed_sequence_loads_back_as_one(tmp_path):
    packed = ts.nn.utils.rnn.pack_sequence([ts.ones(3, 2), ts.ones(1, 2) * 2], enforce_sorted=False)
    ts.save({"batch": packed, "pair": (1, 2)}, tmp_path / "b.pt")
    back = ts.load(tmp_path / "b.pt")
    assert type(back["batch"]) is ts.nn.utils.rnn.PackedSequence and type(back["pair"]) is tuple
    assert back["batch"].batch_sizes.tolist() == [2, 1, 1] and back["batch"].sorted_indices.tolist() == [0, 1]
    np.testing.assert_array_equal(back["batch"].data.numpy(), packed.data.numpy())
    y, _ = ts.nn.GRU(2, 3)(back["batch"])
    assert type(y) is ts.nn.utils.rnn.PackedSequence
