"""Numba source for a traced cell (trace.Graph): the fused pointwise forward of each stage and its
backward, derived by reverse mode over the graph. The shared CPU time loop (kernels/cell_loop.py)
runs them once per stage and step, for a thread's rows lo..hi-1 and hidden units JLO..JHI-1 (of
each block of H; the batch split passes 0..H, the hidden-units split a range per thread), where
it calls (source() writes the code in at each call, with these names bound to the call's values):

    forward_stage(stage, s, t, lo, hi, JLO, JHI, lengths, xp, st, pv, ext, sv, tmp, vin, rec, y)
    backward_stage(stage, s, t, lo, hi, JLO, JHI, lengths, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv,
                   dprod, dvin, adj)

(on "cuda", emit_cuda.py: one thread per row b, all units). Arrays (s: the step's index in run
order, t: its time index, b: the batch row, r = b - lo, nr = hi - lo the rows of the chunk): xp [T,B,WX] input projection
(on the CPU its blocks, once read, may hold values the backward reads: overlay.py); st [S,T+1,B,H] states in run order;
pv [NPV] pointwise parameters; ext [T,B,E*H] extra inputs; sv [T,B,WSV] values backward needs;
tmp [B,WT] scratch; vin [NV,T,B,H] inputs of products on computed values; rec [nr*WR] the step's
products, product p as an [nr, N_p] block; y [T,B,H] the layer's output (CPU: written with state 0); dst/dnx [S,B,H] state gradients leaving/entering the
step; dxp [T,B,WX]; dpv [NPV] this chunk's sums; dprod [T,B,WR]; dvin [NP,B,H] (the driver's
dprod @ W_p); adj [B,WA] adjoints of the intermediate values. Where each value lives: plan.py.
"""
import functools
import re

from tinygrad_seq.cellgen.first_writes import FirstWrites
from tinygrad_seq.cellgen.fuse import fused_backward
from tinygrad_seq.cellgen.unit_loops import block_views, offsets_for_views, unit_loop


def _contrib(plan, n, i, g, j):
    """What n's adjoint g adds to the adjoint of its i-th operand, at unit j."""
    a = n.args
    val = lambda x: plan.value(x, j, backward=True)  # noqa: E731
    op = n.op
    if op == "add":
        return g
    if op == "sub":
        return g if i == 0 else f"(-{g})"
    if op == "mul":
        return f"{g} * {val(a[1 - i])}"
    if op == "div":
        return f"{g} / {val(a[1])}" if i == 0 else f"(-{g} * {val(n)} / {val(a[1])})"
    if op == "neg":
        return f"(-{g})"
    y = val(n)
    return {"sigmoid": f"{g} * {y} * (ONE - {y})", "tanh": f"{g} * (ONE - {y} * {y})",
            "relu": f"({g} if {y} > ZERO else ZERO)", "exp": f"{g} * {y}",
            "sqrt": f"{g} * HALF / {y}"}[op]


def _forward_stage(plan, k):
    out = [f"    if stage == {k}:"]
    sv_scalar = f"{plan.sv_units}*H + "
    for n in plan.nodes:
        if n.width == 0 and n.stage < k:
            out.append(f"        s{n.id} = SV[{sv_scalar}{plan.scalars[n.id]}]")
    for n in plan.nodes:
        if n.stage != k:
            continue
        if n.width == 0:
            if n.op == "mean":
                a = n.args[0]
                out.append("        acc = ZERO")
                out += unit_loop(plan, a.width, [f"acc += {plan.value(a, 'j')}"], 8, whole=True)
                out.append(f"        s{n.id} = acc / dt({a.width}*H)")
            else:
                vals = [plan.value(x, "0") for x in n.args]
                out.append(f"        s{n.id} = " + plan.ew[n.op].format(a=vals[0], b=vals[-1]))
            out.append(f"        SV[{sv_scalar}{plan.scalars[n.id]}] = s{n.id}")
            continue
        if n.op not in ("xp", "st", "pv", "ext", "const", "prod", "slice") and n.id in plan.loc:
            vals = [plan.value(x, "j") for x in n.args]
            rhs = plan.ew[n.op].format(a=vals[0], b=vals[-1])
            out += unit_loop(plan, n.width, [f"{plan.at(plan.loc[n.id], 'j')} = {rhs}"], 8)
        elif n.id in plan.stored_slices:  # its base is computed where read: this block of it too
            rhs = plan.value(n.args[0], f"(j) + {n.attr}*H")
            out += unit_loop(plan, n.width, [f"{plan.at(plan.loc[n.id], 'j')} = {rhs}"], 8)
        for dest in plan.copies[n.id]:
            out += unit_loop(plan, n.width, [f"{plan.at(dest, 'j')} = {plan.value(n, 'j')}"], 8)
    if plan.target == "cpu":
        out = _with_output_row(out)
    if len(out) == 1:
        out.append("        pass")
    return out


_STATE0_WRITE = re.compile(r"^(\s*)STO0_0\[j\] = ")


def _with_output_row(lines):
    """The forward's lines with the layer's output row written where state 0 (h) is: Y_0[j] =
    STO0_0[j] in the same loop, instead of a pass of the time loop copying each row after the step:
    the generated LSTM's forward loop 5% faster at B=1 H=64 T=200, 1.5-3% at B=16 T=200 (one run
    4% slower), 4.5-8% at B=64 T=50, level at H=256 (loops alone, alternating in one process, AMD
    EPYC Zen 4, 2026-12-03)."""
    out = []
    for line in lines:
        out.append(line)
        m = _STATE0_WRITE.match(line)
        if m:
            out.append(f"{m.group(1)}Y_0[j] = STO0_0[j]")
    return out


def _backward_stage(plan, k, top, writes):
    out = [f"    if stage == {k}:"]
    g_units = plan.adj_units
    if k == top:
        if plan.adj_scalars:
            out += [f"        for j in range({len(plan.adj_scalars)}):", f"            ADJ[{g_units}*H + j] = ZERO"]
        for s, o in enumerate(plan.g.outputs):
            if plan.rg[o.id]:
                out += unit_loop(plan, 1, [writes.add(o, f"DST{s}[j]")], 8)  # a state output is never xp
    for p, n in enumerate(plan.products):
        v = n.args[0]
        if n.stage == k + 1 and plan.rg[v.id]:
            taken = plan.state_dvin.get(v.attr) if v.op == "st" else None
            if taken is not None and taken[0] == p:  # the loop adds dV_p to this state's gradient
                if taken[1]:
                    writes.read(v, zero=False)  # all of it: dnx is not read
                continue
            out += unit_loop(plan, 1, [writes.add(v, f"DVIN{p}[j]")], 8)
    for n in plan.nodes:
        if n.width == 0:
            out.append(f"        s{n.id} = SV[{plan.sv_units}*H + {plan.scalars[n.id]}]")
    for n in reversed(plan.nodes):
        if plan.bstage[n.id] != k or not plan.rg[n.id] or n.op in ("xp", "st", "pv", "ext", "const", "prod", "slice"):
            continue
        if n.width == 0:
            out.append(f"        g = {plan.grad(n, 0)}")
            for i, a in enumerate(n.args):
                if not plan.rg[a.id]:
                    continue
                if n.op == "mean":
                    out += unit_loop(plan, a.width, [writes.add(a, f"g / dt({a.width}*H)")], 8, whole=True)
                else:
                    out.append(f"        {plan.grad(a, 0)} += {_contrib(plan, n, i, 'g', '0')}")
            continue
        if all(not plan.rg[a.id] or plan.alias.get(a.id) == n.id for a in n.args):
            continue
        writes.read(n)
        body, after, pre = ["g = " + plan.grad(n, "j")], [], []
        for i, a in enumerate(n.args):
            if not plan.rg[a.id] or plan.alias.get(a.id) == n.id:
                continue
            if a.width == 0:
                pre.append(f"        acc{i} = ZERO")
                body.append(f"acc{i} += {_contrib(plan, n, i, 'g', 'j')}")
                after.append(f"        {plan.grad(a, 0)} += acc{i}")
            else:
                line = writes.add(a, _contrib(plan, n, i, 'g', 'j'))
                if line is not None:
                    body.append(line)
        if len(body) > 1 or pre:
            out += pre + unit_loop(plan, n.width, body, 8) + after
    if len(out) == 1:
        out.append("        pass")
    return out


_HEADER = '''"""Generated by tinygrad_seq.cellgen from the description of cell {name!r}; not edited by hand."""
# inlines activations_cpu.REVISION {revision}
import math

import numpy as np

from tinygrad_seq.kernels.activations_cpu import block_of, copy_into, fast_sigmoid, fast_tanh, loop_product, slice_of
from tinygrad_seq.kernels.cache_load import njit
from tinygrad_seq.kernels.compile_options import GeneratedLoopCompiler
from tinygrad_seq.kernels.panel_cpu import PANEL_BYTES
from tinygrad_seq.kernels.spin_cpu import arrive_and_wait

_JIT = dict(cache=True, fastmath=True, error_model="numpy", nogil=True, pipeline_class=GeneratedLoopCompiler)

LAYOUT = {layout!r}
# per state: the product whose dV the loops add to dnx to make its gradient (-1: none), and
# whether dV is all of it (dnx then unused)
STATE_DVIN = np.array([p for p, _ in LAYOUT["state_dvin"]], np.int64)
STATE_DVIN_ONLY = np.array([only for _, only in LAYOUT["state_dvin"]], np.bool_)
'''


def _prologue(plan, backward):
    """(constants, views): the function's constants, and the views of row b's data. rec (and on
    "cuda" dprod, per step) hold product p of the nr rows as an [nr, N_p] block; dpv is the
    chunk's sums on "cpu", per row [B, NPV] on "cuda"."""
    cuda = plan.target == "cuda"
    consts = ["    dt = DT" if cuda else "    dt = xp.dtype.type", "    ZERO = dt(0.0)", "    ONE = dt(1.0)",
              "    HALF = dt(0.5)", "    H = st.shape[3]"]
    for n in plan.nodes:
        if n.op == "const":
            consts.append(f"    C{n.id} = dt({n.attr!r})")
    u = "" if cuda else ", JLO:"  # on the CPU the views start at the thread's first unit
    lines = [f"    XP = xp[t, b{u}]", "    PV = pv" if cuda else "    PV = pv[JLO:]", f"    EX = ext[t, b{u}]",
             f"    SV = sv[s, b{u}]"]
    for k in range(len(plan.g.outputs)):
        lines += [f"    STI{k} = st[{k}, s, b{u}]", f"    STO{k} = st[{k}, s + 1, b{u}]"]
    for i in range(len(plan.vin)):
        lines.append(f"    VIN{i} = vin[{i}, s, b{u}]")
    first = "" if cuda else " + JLO"
    if not backward:
        lines.append(f"    TM = tmp[b{u}]")
        if not cuda:  # the layer's output row (the CUDA driver copies it per step)
            lines.append(f"    Y = y[t, b{u}]")
        for p, n in enumerate(plan.products):
            lo = f"nr*{plan.p_off[p]}*H + r*{n.width}*H"
            lines.append(f"    REC{p} = rec[{lo}{first}:{lo} + {n.width}*H]")
    else:
        lines += [f"    DXP = dxp[t, b{u}]", "    DPV = dpv[b]" if cuda else "    DPV = dpv[JLO:]", f"    ADJ = adj[b{u}]"]
        for p, n in enumerate(plan.products):
            if cuda:
                lo = f"nr*{plan.p_off[p]}*H + r*{n.width}*H"
                lines.append(f"    DPR{p} = dprod[s, {lo}:{lo} + {n.width}*H]")
            else:
                lines.append(f"    DPR{p} = dprod[s, b, {plan.p_off[p]}*H + JLO:{plan.p_off[p] + n.width}*H]")
        for k in range(len(plan.g.outputs)):
            lines += [f"    DST{k} = dst[{k}, b{u}]", f"    DNX{k} = dnx[{k}, b{u}]"]
        for p in range(len(plan.products)):
            lines.append(f"    DVIN{p} = dvin[{p}, b{u}]")
    return consts, lines


def layout(plan, backward=None):
    """The sizes and product table the drivers allocate by (units of H unless said). units: the
    step is unit by unit (no reduction over a row), so the CPU loop may split the hidden units
    over threads. backward (the backward stage's lines, CPU): pv_backward, the pointwise
    parameters whose values it reads (see pv_read)."""
    extra = {} if backward is None else dict(pv_backward=pv_read(plan, backward))
    return dict(**extra, states=len(plan.g.outputs), wx=plan.g.xp.width, pv=plan.g.pv_width, ext=plan.g.n_ext,
                sv=(plan.sv_units, len(plan.scalars)), tmp=plan.tmp_units, adj=(plan.adj_units, len(plan.adj_scalars)),
                vin=len(plan.vin), p_src=plan.p_src, p_stage=[n.stage for n in plan.products],
                p_rows=[(n.attr["name"], n.attr["row0"], n.attr["rows"]) for n in plan.products],
                n_stages=plan.n_stages, w_ih=plan.g.w_ih, pv_names=list(plan.g.pv.items()),
                units=not plan.scalars, dxp_is_dprod=plan.dxp_is_dprod, pv_copies=plan.pv_copies,
                state_dvin=[plan.state_dvin.get(k, (-1, False)) for k in range(len(plan.g.outputs))])


def pv_read(plan, lines):
    """The pointwise parameters whose values `lines` read: those with a block the code views
    (PV_k = PV[k*H:], or qPV_k = PV[(k + q)*H:] over a parameter's blocks). CellFunction keeps
    these for the in-place check before backward; a bias, which the backward never reads, may be
    written in place after the forward as in PyTorch."""
    blocks = {int(m.group(1)) for line in lines for pattern in (_PV_VIEW, _PV_BLOCK) for m in pattern.finditer(line)}
    return [name for name, (offset, width) in plan.g.pv.items()
            if any(offset <= k < offset + max(width, 1) for k in blocks)]


_PV_VIEW = re.compile(r"\bq?PV_(\d+)\b")                                    # a view named by its block
_PV_BLOCK = re.compile(r"\bPV\[\(?(\d+)\s*(?:\+\s*q\))?\s*\*H:\]")  # PV[k*H:], PV[(k + q)*H:]


def stages(plan, backward):
    """The body of a stage function. On "cuda" (a thread per row b): the constants, the views of
    row b, then one branch per stage. On "cpu": the constants, then per stage a loop over the rows
    lo..hi-1 that reach step t, each with its views (one call per stage and step, not per row)."""
    consts, views = _prologue(plan, backward)
    if backward:
        writes = FirstWrites(plan)
        branches = [_backward_stage(plan, k, plan.n_stages - 1, writes) for k in range(plan.n_stages - 1, -1, -1)]
        zeros = writes.zero_lines()
        if zeros:  # at the start of the top stage, the first code to run for a row
            top = branches[0]
            branches[0] = top[:1] + zeros + (top[1:] if top[1:] != ["        pass"] else [])
    else:
        branches = [_forward_stage(plan, k) for k in range(plan.n_stages)]
    if plan.target == "cuda":
        return consts + views + [line for branch in branches for line in branch]
    # the parameters' views (PV, DPV: the same for every row) once per call, the others per row
    per_call = [v for v in views if v.lstrip().startswith(_PER_CALL)]
    per_row = [v for v in views if v not in per_call]
    bodies = [["    " + line for line in branch[1:]] for branch in branches]
    if backward:
        bodies = fused_backward(bodies)
    # the parameters' views inside each stage's branch, only those it reads: a call for a stage
    # with no code (the LSTM's forward stage 0) returns at once. With the views made before the
    # branches, the generated LSTM's forward took 450 ns a step at B=1 H=64 against 255 for the
    # hand-written one's row (AMD EPYC Zen 4, 2026-12-02)
    lines = list(consts)
    for branch, body in zip(branches, bodies):
        if branch[1:] == ["        pass"]:
            continue
        lines += [branch[0]]
        lines += ["    " + v for v in per_call if _reads(body, v.split("=")[0].strip())]
        lines += block_views(body, 8, _PER_CALL)
        lines += ["        for b in range(lo, hi):", "            if t >= lengths[b]:",
                  "                continue", "            r = b - lo"]
        row_views = block_views(body, 12, exclude=_PER_CALL)
        # only the row's views this stage reads (fewer lines for Numba to type and compile)
        lines += ["        " + v for v in per_row if _reads(body + row_views, v.split("=")[0].strip())]
        lines += row_views + body
    return lines


_PER_CALL = ("PV", "DPV")


def _reads(body, name):
    """Whether the lines of `body` use the array `name` (ARR, ARR_k or a q-view of it)."""
    return any(re.search(rf"\b{name}(_\d+)?\b|\b{name}\[", line) for line in body)
_STAGE_PARAMS = {
    "forward_stage": "stage, s, t, lo, hi, JLO, JHI, lengths, xp, st, pv, ext, sv, tmp, vin, rec, y",
    "backward_stage": "stage, s, t, lo, hi, JLO, JHI, lengths, xp, st, pv, ext, sv, vin, dst, dnx, dxp, dpv, dprod, dvin, adj",
}


def source(plan):
    """The generated module's text (CPU): the shared time loops (kernels/cell_loop.py) with this
    cell's pointwise code written into them where they call forward_stage / backward_stage. The
    stage code runs rows lo..hi-1 (r = b - lo indexes the chunk's product rows, nr = hi - lo) and
    units JLO..JHI-1 of each block of H. Written in, not called: the batch split's unit range is
    then the constant 0..H in the code LLVM optimises and no call passes 16-21 arrays per step;
    the generated LSTM's backward loop ran 0-9% faster a step at B=1-64, H=64, its forward
    level (loops alone, alternating in one process; AMD EPYC Zen 4, 2026-12-03). The first
    compile is about the same: a called stage compiles inside the loop that links it anyway
    (LayerNorm LSTM, empty cache, five alternating pairs of processes: forward loop 5.3-6.4 s
    against 5.6-7.2 s called, backward loop 7.3-9.7 s against 8.2-10.6 s)."""
    forward = ["    nr = hi - lo", "    JN = JHI - JLO"] + stages(plan, False)
    if sum("Y_0[j] = STO0_0[j]" in line for line in forward) != 1:
        raise AssertionError(f"cell {plan.g.name}: the forward writes state 0 other than once")
    backward = ["    JN = JHI - JLO"] + stages(plan, True)
    loops = _loop_template()
    # the batch split's loops read blocks by offset; the units split's keep the views, with which
    # its loops ran faster (unit_loops.offsets_for_views)
    loops = _written_in(loops, "forward_stage", offsets_for_views(forward), units_body=forward)
    loops = _written_in(loops, "backward_stage", offsets_for_views(backward), units_body=backward)
    return (_HEADER.format(name=plan.g.name, layout=layout(plan, backward), revision=activations_revision())
            + "\n\n" + loops)


def _written_in(text, name, body, units_body=None):
    """text with each call statement name(args) replaced by body (a function body of `name`'s
    parameters, _STAGE_PARAMS, indented 4) at the call's indent, after assigning the parameters
    the call passes something else; inside a function whose name ends in _units, by units_body
    when given."""
    params = [p.strip() for p in _STAGE_PARAMS[name].split(",")]
    lines = text.split("\n")
    out, i, in_units = [], 0, False
    while i < len(lines):
        line = lines[i]
        if line.startswith("def "):
            in_units = line[4:line.index("(")].endswith("_units")
        if not line.lstrip().startswith(name + "("):
            out.append(line)
            i += 1
            continue
        call = line.strip()
        while call.count("(") > call.count(")"):
            i += 1
            call = call + " " + lines[i].strip()
        args = [a.strip() for a in call[len(name) + 1:call.rindex(")")].split(",")]
        if len(args) != len(params):
            raise ValueError(f"{name} called with {len(args)} arguments, expected {len(params)}: {call}")
        pad = line[:len(line) - len(line.lstrip())]
        out.append(f"{pad}# {name}: this cell's pointwise code (cellgen/emit.py)")
        out += [f"{pad}{p} = {a}" for p, a in zip(params, args) if p != a]
        written = units_body if in_units and units_body is not None else body
        out += [pad + b[4:] if b.strip() else b for b in written]
        out.append(f"{pad}# end of {name}")
        i += 1
    return "\n".join(out)


def _loop_template():
    """The shared time loop (kernels/cell_loop.py), from its marker line on."""
    import importlib.util
    path = importlib.util.find_spec("tinygrad_seq.kernels.cell_loop").origin
    with open(path) as f:
        text = f.read()
    marker = "# ---- loops (cellgen copies from here on)\n"
    return text[text.index(marker) + len(marker):]


@functools.lru_cache(maxsize=None)
def activations_revision():
    """kernels.activations_cpu.REVISION, read from its source without importing it (it imports
    numba): in the generated source, so a changed activation changes the file's hash."""
    import os
    import re
    from tinygrad_seq import kernels
    path = os.path.join(os.path.dirname(kernels.__file__), "activations_cpu.py")
    with open(path) as f:
        return int(re.search(r"^REVISION = (\d+)", f.read(), re.M).group(1))
