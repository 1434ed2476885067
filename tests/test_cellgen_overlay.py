"""cellgen/overlay.py: values the backward reads go over the input projection's dead blocks (XP)
instead of SV, only where no later forward loop and no backward code reads the block; cells that
read a block twice, or whose backward reads x W_ih^T itself, keep it. Fused against unfused in
float64 (1e-9) proves the moved values are read back intact."""
import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import cell_library, nn
from tinygrad_seq.cellgen.plan import Plan
from tinygrad_seq.cellgen.trace import trace
from tinygrad_seq.cellspec import ParamSpec


def _xp_values(plan):
    """{node op: XP block} of the computed values the plan keeps in XP."""
    return sorted((plan.loc[n.id][1], n.op) for n in plan.nodes
                  if n.op not in ("xp", "slice") and plan.loc.get(n.id, ("",))[0] == "XP")


def test_gru_keeps_r_z_n_in_xp_and_one_block_of_sv():
    plan = Plan(trace(cell_library.get("gru")))
    assert _xp_values(plan) == [(0, "sigmoid"), (1, "sigmoid"), (2, "tanh")]
    assert plan.sv_units == 1  # W_hn h + b_hn
    # the CUDA kernels keep their layout
    assert _xp_values(Plan(trace(cell_library.get("gru")), "cuda")) == []


def _read_twice(cell, x, s):
    """Block 0 of x W_ih^T is read by a's loop and again, later, by h's: a must not go over it."""
    xa, xb = cell.split(cell.linear(x, cell.weight_ih))
    a = (xa + cell.linear(s.h, cell.gate(cell.weight_hh, 0), cell.gate(cell.bias_hh, 0))).sigmoid()
    b = (xb + cell.linear(s.h, cell.gate(cell.weight_hh, 1), cell.gate(cell.bias_hh, 1))).tanh()
    return {"h": a * b + xa}


def _backward_reads_xp(cell, x, s):
    """x W_ih^T (block 0) times h: the backward reads both, so block 0 keeps x W_ih^T."""
    xa, xb = cell.split(cell.linear(x, cell.weight_ih))
    a = (xa * s.h + cell.linear(s.h, cell.gate(cell.weight_hh, 0), cell.gate(cell.bias_hh, 0))).tanh()
    b = (xb + cell.linear(s.h, cell.gate(cell.weight_hh, 1), cell.gate(cell.bias_hh, 1))).sigmoid()
    return {"h": a * b + s.h * (1 - b)}


def _wide_value_off_its_blocks(cell, x, s):
    """tanh of blocks 0..1 of x W_ih^T (one value 2 blocks wide); block 0 is read again later, so
    the value cannot go over blocks 0..1, and over 1..2 its loop would write block 1 before
    reading it for its second block (found by fuzzing, 2026-12-06)."""
    xp = cell.linear(x, cell.weight_ih)
    n0, n1 = cell.split(cell.gate(xp, 0, 2).tanh())
    return {"h": (n0 + n1 + cell.gate(xp, 0) + cell.linear(s.h, cell.weight_hh)).tanh()}


def _product_slice_read_back(cell, x, s):
    """A slice of a 2H-wide product without bias read by the backward (hz in xz * hz): the
    product is kept whole, and the backward reads the slice from that copy (it read REC0, which
    the backward does not have: a compile error; found by fuzzing)."""
    xr, xz = cell.split(cell.linear(x, cell.weight_ih))
    hr, hz = cell.split(cell.linear(s.h, cell.weight_hh))
    return {"h": (xr + hr + xz * hz).tanh()}


READ_TWICE = nn.CellSpec("overlay_read_twice", 2, ("h",), _read_twice)
BACKWARD_READS_XP = nn.CellSpec("overlay_backward_reads_xp", 2, ("h",), _backward_reads_xp)
WIDE_OFF_ITS_BLOCKS = nn.CellSpec("overlay_wide_off_its_blocks", 3, ("h",), _wide_value_off_its_blocks,
                                  [ParamSpec("weight_ih", ("G*H", "I")), ParamSpec("weight_hh", ("H", "H"))])
PRODUCT_SLICE = nn.CellSpec("overlay_product_slice", 2, ("h",), _product_slice_read_back,
                            [ParamSpec("weight_ih", ("G*H", "I")), ParamSpec("weight_hh", ("G*H", "H"))])


def test_blocks_read_again_are_not_overlaid():
    plan = Plan(trace(READ_TWICE))
    # a (the sigmoid) does not go over block 0; b goes over block 1, which nothing reads after it
    assert _xp_values(plan) == [(1, "tanh")] and plan.sv_units == 1
    plan = Plan(trace(BACKWARD_READS_XP))
    assert all(block != 0 for block, _ in _xp_values(plan))


def _fused_and_unfused(spec, lengths):
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((5, 3, 2)), rng.standard_normal((4, 3, 4)) * 0.5
    w = rng.standard_normal((5, 3, 8))
    results = []
    for fused in (True, False):
        ts.manual_seed(1)
        layer = nn.Recurrent(spec, 2, 4, num_layers=2, bidirectional=True, fused=fused, dtype=np.float64)
        xt, ht = ts.Tensor(x, requires_grad=True), ts.Tensor(h0, requires_grad=True)
        out, h_n = layer(xt, ht, lengths=lengths)
        ((out * ts.Tensor(w)).sum() + (h_n * h_n).sum()).backward()
        results.append([out.numpy(), h_n.numpy(), xt.grad.numpy(), ht.grad.numpy()]
                       + [p.grad.numpy() for p in layer.parameters() if p.grad is not None])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_cells_around_the_overlay_match_their_unfused_composition():
    for spec in (READ_TWICE, BACKWARD_READS_XP, WIDE_OFF_ITS_BLOCKS, PRODUCT_SLICE):
        _fused_and_unfused(spec, [5, 2, 4])
        _fused_and_unfused(spec, None)
    plan = Plan(trace(WIDE_OFF_ITS_BLOCKS))
    wide = [n for n in plan.nodes if n.op == "tanh" and n.width == 2]
    assert wide and plan.loc[wide[0].id][0] == "SV"   # kept apart: no block range is safe for it


def test_layernorm_cells_recompute_the_normalised_values():
    # Plan._recomputed: (x - mean) / std is recomputed in the backward from the kept x - mean and
    # the row's std (a scalar), not kept beside it: SV 19 -> 10 blocks (LSTM), 13 -> 7 (GRU)
    for name, blocks in (("layernorm_lstm", 10), ("layernorm_gru", 7)):
        plan = Plan(trace(cell_library.get(name)))
        assert plan.sv_units == blocks, name
        assert sum(n.op == "div" for n in plan.nodes if n.id in plan.recomputed) == 2 + (name == "layernorm_lstm")
