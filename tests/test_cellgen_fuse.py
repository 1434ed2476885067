"""The CPU emitter's rewrites of a generated backward (tinygrad_seq/cellgen/fuse.py): consecutive
loops over the units fused into one, and adjoint blocks used only inside one loop kept in a local.
That the rewritten code computes the same gradients is tested for every cell by
tests/test_cell_variants.py (fused against unfused, float64). Also how emit writes the
pointwise code into the shared loops."""
import re

import pytest

from tinygrad_seq import cell_library
from tinygrad_seq.cellgen import emit, fuse, generated_source, unit_loops

LOOP = "for j in range(JN):"


def _lines(text):
    return text.strip("\n").split("\n")


def test_consecutive_unit_loops_become_one():
    body = _lines(f"""
        {LOOP}
            A_0[j] = B_0[j]
        {LOOP}
            A_1[j] = A_0[j]
        acc0 = ZERO
        {LOOP}
            acc0 += A_1[j]
        for q in range(4):
            qA_0 = A[(0 + q)*H:]
            {LOOP}
                qA_0[j] = ZERO
        {LOOP}
            B_1[j] = ZERO
    """)
    out = fuse._fused_unit_loops(body)
    # the first two loops join; a line between loops, and a loop after a q block, stay apart
    assert [line.strip() for line in out].count(LOOP) == 4
    assert out[:3] == [body[0], body[1], body[3]]


def test_adjoints_used_in_one_loop_become_locals():
    stage1 = _lines(f"""
        {LOOP}
            ADJ_0[j] = DST0_0[j]
            g = ADJ_0[j]
            ADJ_1[j] = g * SV_0[j]
            ADJ_2[j] += g
            ADJ_3[j] = g
        for q in range(2):
            qADJ_3 = ADJ[(3 + q)*H:]
            {LOOP}
                qDPR0_0[j] = qADJ_3[j]
    """)
    stage0 = _lines(f"""
        {LOOP}
            DNX0_0[j] = ADJ_1[j]
    """)
    out1, out0 = fuse._local_adjoints([stage1, stage0])
    text1 = "\n".join(out1)
    assert "a_0 = DST0_0[j]" in text1 and "g = a_0" in text1          # only in this loop: a local
    assert "ADJ_1[j] = g * SV_0[j]" in text1                          # read by the other stage
    assert "ADJ_2[j] += g" in text1                                   # first use adds: zeroed elsewhere
    assert "ADJ_3[j] = g" in text1                                    # read by the q loop's view
    assert out0 == stage0


def test_generated_peephole_backward_keeps_few_loops():
    src = generated_source(cell_library.get("peephole_lstm"))
    backward = _written(src, "backward_stage")
    # stage 1: one loop over the units (the peepholes' backward too: Plan._backward_stages) and
    # the 4-block loop of b_hh's gradient; stage 0 none (h's gradient is dV, which the loop reads)
    assert backward.count(LOOP) == 2
    assert "a_0 = DST0[j]" in backward
    assert "if stage == 0:" not in backward and "DNX0" not in backward
    assert "'state_dvin': [(0, True), (-1, False)]" in src
    stage1 = backward[backward.index("if stage == 1:"):]
    assert "DPV_8[j] += g * STI1[j]" in stage1 and "ADJ" not in stage1.replace("ADJ = adj", "")
    # the gate gradients go straight into dP, and b_ih's is b_hh's, copied by the driver
    assert "DPR0_3[j] = g" in stage1 and "DPV_0" not in backward and "DPV[j]" not in backward
    assert "'pv_copies': [(0, 4, 4)]" in src


def test_block_loops_fuse_only_when_their_blocks_line_up():
    def block(writes, reads):
        lines = ["for q in range(4):"]
        lines += [f"    q{a}_{k} = {a}[({k} + q)*H:]" for a, k in writes + reads]
        lines.append(f"    {LOOP}")
        lines += [f"        q{a}_{k}[j] += g" for a, k in writes] + [f"        g = q{a}_{k}[j]" for a, k in reads]
        return lines

    # the second reads ADJ blocks 11-14, which the first writes at the same blocks: fused
    same = fuse._fused_block_loops(block([("ADJ", 11)], []) + block([("DPV", 0)], [("ADJ", 11)]))
    assert [line.strip() for line in same].count("for q in range(4):") == 1
    assert [line.strip() for line in same].count(LOOP) == 1
    # disjoint blocks of one array: fused
    apart = fuse._fused_block_loops(block([("DPV", 16)], []) + block([("DPV", 12)], []))
    assert [line.strip() for line in apart].count(LOOP) == 1
    # the second reads blocks 12-15 of what the first writes at 11-14: iteration q of the second
    # would read block 12 + q before the first wrote it at q + 1, so the loops stay apart
    shifted = block([("ADJ", 11)], []) + block([("DPV", 0)], [("ADJ", 12)])
    assert fuse._fused_block_loops(shifted) == shifted
    # loops over different widths, or with a line between them, stay apart
    other = block([("ADJ", 11)], []) + ["acc1 = ZERO"] + block([("DPV", 0)], [("ADJ", 11)])
    assert fuse._fused_block_loops(other) == other


def test_flat_loops_fuse_only_when_their_blocks_line_up():
    def flat(writes, reads, width=4):
        return ([f"for j in range({width}*JN):"] + [f"    {a}_{k}[j] += g" for a, k in writes]
                + [f"    g = {a}_{k}[j]" for a, k in reads])

    same = fuse._fused_flat_loops(flat([("ADJ", 11)], []) + flat([("DPV", 0)], [("ADJ", 11)]))
    assert [line.strip() for line in same].count("for j in range(4*JN):") == 1
    apart = fuse._fused_flat_loops(flat([("DPV", 16)], []) + flat([("DPV", 12)], []))
    assert len(apart) == 3
    # unit 4H + j of the second's ADJ_12 is unit j + H of the first's ADJ_11, written later
    shifted = flat([("ADJ", 11)], []) + flat([("DPV", 0)], [("ADJ", 12)])
    assert fuse._fused_flat_loops(shifted) == shifted
    other = flat([("ADJ", 11)], []) + flat([("DPV", 0)], [("ADJ", 11)], width=1)
    assert fuse._fused_flat_loops(other) == other
    between = flat([("ADJ", 11)], []) + ["acc1 = ZERO"] + flat([("DPV", 0)], [("ADJ", 11)])
    assert fuse._fused_flat_loops(between) == between


@pytest.mark.parametrize("name", ["layernorm_lstm", "layernorm_gru"])
def test_a_cell_that_never_splits_its_units_loops_over_whole_runs(name):
    # a reduction over the row: JN is H, so a value 4 blocks wide is one run of 4*H units of each
    # view (one loop; a loop per block compiled into four after LLVM unrolled it)
    src = generated_source(cell_library.get(name))
    assert "'units': False" in src
    for stage in ("forward_stage", "backward_stage"):
        assert "for q in range(" not in _written(src, stage)
    assert "*JN):" in _written(src, "backward_stage")
    # a cell that may split its units keeps the loop over blocks
    assert "for q in range(4):" in _written(generated_source(cell_library.get("peephole_lstm")), "backward_stage")


def _written(src, name, loop=None):
    """The pointwise code `name` ("forward_stage"/"backward_stage") as emit wrote it into the
    generated loop `loop` (by default the batch split's: _forward_rows or _backward_rows)."""
    loop = loop or ("_forward_rows" if name == "forward_stage" else "_backward_rows")
    body = src[src.index(f"def {loop}("):]
    end = body.find("\n@njit", 1)
    body = body[:end if end >= 0 else len(body)]
    return body[body.index(f"# {name}:"):body.index(f"# end of {name}")]


def _stage(src, fn, k):
    """The text of stage k's branch in the pointwise code fn ("forward_stage"/"backward_stage")."""
    body = _written(src, fn)
    start = body.index(f"if stage == {k}:")
    pad = body[:start].rsplit("\n", 1)[-1]
    nxt = body.find(f"\n{pad}if stage == ", start + 1)
    return body[start:nxt if nxt >= 0 else len(body)]


def test_generated_lstm_keeps_no_scratch_or_copies():
    # Plan._read_once: the gate pre-activations (x W_ih^T + b_ih + h W_hh^T + b_hh, sliced into
    # i, f, g, o) are computed inside each gate's loop, not stored in a scratch row first
    src = generated_source(cell_library.get("lstm"))
    assert "'tmp': 0" in src
    forward = _stage(src, "forward_stage", 1)
    assert "fast_sigmoid(((XP[j] + PV[j]) + (REC0[j] + PV[4*H + j])))" in forward
    # overlay.py: i, f, g and o go over the blocks of XP they are computed from; SV keeps tanh(c)
    assert "XP[j] = fast_sigmoid(((XP[j]" in forward and "'sv': (1, 0)" in src
    # an empty stage has no branch, and the parameters' views are made inside the branch that
    # reads them: a call for stage 0 returns at once
    assert "if stage == 0:" not in _written(src, "forward_stage")
    assert forward.index("PV = pv[JLO:]") > forward.index("if stage == 1:")
    # the gate gradients go straight into dP; b_ih's gradient is b_hh's (the driver copies it);
    # h's gradient is dV, which the loop reads (no stage-0 copy)
    backward = _stage(src, "backward_stage", 1)
    assert "DPR0_0[j] = g * XP[j] * (ONE - XP[j])" in backward and "ADJ" not in backward
    assert "'pv_copies': [(0, 4, 4)]" in src and "'state_dvin': [(0, True), (-1, False)]" in src


def test_generated_gru_writes_its_input_gradient_in_place():
    # the input projection's chain (x W_ih^T + b_ih, sliced into r, z, n): its adjoint is dXP
    src = generated_source(cell_library.get("gru"))
    backward = _stage(src, "backward_stage", 1)
    assert "DXP_2[j] = g" in backward and "ADJ" not in backward
    # h also feeds z * h: its gradient is dnx plus dV, which the loop adds (no stage-0 pass)
    assert "'state_dvin': [(0, False)]" in src and "DVIN" not in backward
    assert "if stage == 0:" not in _written(src, "backward_stage")


def test_pointwise_code_is_written_into_each_loop():
    # emit.source writes the stage code where the shared loops call it: no stage function of its
    # own, and the batch split's unit range is a constant in the code
    src = generated_source(cell_library.get("peephole_lstm"))
    assert "def forward_stage" not in src and "def backward_stage" not in src
    assert "forward_stage(" not in src and "backward_stage(" not in src
    # the batch split binds the units to 0..H; the units split its rows to 0..B, its units to its chunk's
    rows = _written(src, "backward_stage", "_backward_rows")
    assert "JLO = 0\n" in rows and "JHI = hidden\n" in rows and " lo = " not in rows
    units = _written(src, "backward_stage", "_backward_units")
    for binding in ("lo = 0\n", "hi = batch\n", "JLO = jlo\n", "JHI = jhi\n"):
        assert binding in units
    # the same code, the batch split's reading blocks by offset (unit_loops.offsets_for_views)
    assert rows[rows.index("JN = "):].split("\n") == unit_loops.offsets_for_views(units[units.index("JN = "):].split("\n"))
    assert "if stage == 1:" in _written(src, "forward_stage", "_forward_units")


def test_compiled_code_indexes_blocks_by_offset():
    # emit and fuse reason about per-block views (ARR_k[j]); the code Numba compiles reads
    # ARR[k*H + j] instead (no slice built per row and step, fewer arrays per loop to
    # overlap-check), except for an array a loop writes and also reads at another block
    lines = ["        SV_0 = SV", "        SV_2 = SV[2*H:]", "        for q in range(4):",
             "            qDPR0_1 = DPR0[(1 + q)*H:]", "            for j in range(JN):",
             "                qDPR0_1[j] = SV_0[j] * SV_2[j] + a_3 + s4"]
    assert unit_loops.offsets_for_views(lines) == [
        "        for q in range(4):", "            for j in range(JN):",
        "                DPR0[(1 + q)*H + j] = SV[j] * SV[2*H + j] + a_3 + s4"]
    lines = ["        SV_0 = SV", "        SV_1 = SV[1*H:]", "        SV_3 = SV[3*H:]", "        for j in range(JN):",
             "            SV_3[j] = XP_2[j] + SV_1[j] * SV_0[j]", "        for j in range(JN):",
             "            STO0_0[j] = SV_3[j] + SV_1[j]"]
    assert unit_loops.offsets_for_views(lines) == [
        "        SV_0 = SV", "        SV_1 = SV[1*H:]", "        SV_3 = SV[3*H:]", "        for j in range(JN):",
        "            SV_3[j] = XP[2*H + j] + SV_1[j] * SV_0[j]", "        for j in range(JN):",
        "            STO0[j] = SV[3*H + j] + SV[1*H + j]"]
    lines = ["        for j in range(JN):", "            DPR0_3[j] = a_1 * SV_3[j]", "            DPR0_0[j] = a_2 * SV_0[j]"]
    assert unit_loops.offsets_for_views(lines)[1:] == ["            DPR0_3[j] = a_1 * SV[3*H + j]",
                                                       "            DPR0_0[j] = a_2 * SV[j]"]   # two blocks written
    for name in ("lstm", "peephole_lstm", "rnn_tanh"):
        src = generated_source(cell_library.get(name))
        body = src[src.index("def _forward_rows("):]
        body = body[:body.find("\n@njit")]
        assert not re.search(r"\bq?[A-Z][A-Z0-9]*_\d+\b", body), name
    backward = _written(generated_source(cell_library.get("lstm")), "backward_stage")
    assert {m for m in re.findall(r"\bq?[A-Z][A-Z0-9]*_\d+\b", backward)} == {"DPR0_0", "DPR0_1", "DPR0_2", "DPR0_3"}
    # the units split keeps the views, with which its loops ran faster (emit.source)
    assert "XP_1 = XP[1*H:]" in _written(generated_source(cell_library.get("lstm")), "forward_stage", "_forward_units")


def test_written_in_checks_the_calls_arguments():
    with pytest.raises(ValueError, match="forward_stage called with 2 arguments, expected 17"):
        emit._written_in("        forward_stage(a,\n                      b)\n", "forward_stage", ["    pass"])
    text = emit._written_in("    forward_stage(" + ", ".join(emit._STAGE_PARAMS["forward_stage"].split(", ")[:5])
                            + ", 0, H, " + ", ".join(emit._STAGE_PARAMS["forward_stage"].split(", ")[7:]) + ")",
                            "forward_stage", ["    x = JLO + JHI"])
    assert text.splitlines()[1:] == ["    JLO = 0", "    JHI = H", "    x = JLO + JHI", "    # end of forward_stage"]
