"""The generated stages' loops over the hidden units of a value (emit.py and first_writes.py
write them): the CPU's block-by-block form over a thread's units JLO..JHI-1, or every unit."""
import re

VIEW = re.compile(r"\b([A-Z][A-Z0-9]*)_(\d+)\[j\]")   # ARR_k[j]: unit j of block k of ARR
PLAIN = re.compile(r"\b([A-Z][A-Z0-9]*)\[j\]")         # ARR[j]: unit j of block 0


def unit_loop(plan, width, body, indent, whole=False):
    """`body` for every unit j of a value `width` blocks of H wide. On the CPU the stage functions
    run units JLO..JHI-1 of each block (the hidden-units split gives each thread a range; the
    batch split passes 0..H): the row's views start at unit JLO (_prologue) and j runs over the
    JN = JHI - JLO units of each block from 0, so that Numba sees a non-negative index (a loop
    from JLO kept its negative-index check and ran 1.6x slower, LSTM T=50 B=64 H=64 forward).
    `whole` loops over every unit (a reduction, only in cells that never split their units).
    In a cell that never splits its units (it has a reduction: plan.scalars), JN is H, and a value
    `width` blocks wide is one run of width*H units of each view: one loop over them, written
    range(width*JN) (fuse.py fuses such loops; the reductions' own loops say range(width*H)).
    The LayerNorm LSTM's backward loop then compiled in 5.8-6.4 s instead of 7.2-8.5 s, its
    forward in 3.9 s instead of 4.9 (LLVM unrolled each loop over four blocks into four loops;
    AMD EPYC, 2026-12-03)."""
    pad = " " * indent
    if plan.target != "cpu" or whole:
        return [f"{pad}for j in range({width}*H):"] + [f"{pad}    {line}" for line in body]
    body = [PLAIN.sub(lambda m: f"{m.group(1)}_0[j]", line) for line in body]  # ARR[j] is block 0
    if width == 1:
        return [f"{pad}for j in range(JN):"] + [f"{pad}    {line}" for line in body]
    if plan.scalars:
        return [f"{pad}for j in range({width}*JN):"] + [f"{pad}    {line}" for line in body]
    # block q of each ARR_k the body reads or writes is the view qARR_k = ARR[(k + q)*H:], made once
    # per block (one copy of the body: unrolling the blocks doubled the backward's compile time)
    refs = sorted({(m.group(1), int(m.group(2))) for line in body for m in VIEW.finditer(line)})
    out = [f"{pad}for q in range({width}):"]
    out += [f"{pad}    q{arr}_{k} = {arr}[({k} + q)*H:]" for arr, k in refs]
    out.append(f"{pad}    for j in range(JN):")
    out += [f"{pad}        " + VIEW.sub(lambda m: f"q{m.group(1)}_{m.group(2)}[j]", line) for line in body]
    return out




def block_views(lines, indent, only=None, exclude=()):
    """The views ARR_k = ARR[k*H:] that `lines` index (see _at_block), of the arrays named in
    `only` (all when None) and not in `exclude`."""
    pad = " " * indent
    seen = sorted({(m.group(1), int(m.group(2))) for line in lines for m in VIEW.finditer(line)
                   if (only is None or m.group(1) in only) and m.group(1) not in exclude})
    return [f"{pad}{arr}_{k} = {arr}[{k}*H:]" if k else f"{pad}{arr}_0 = {arr}" for arr, k in seen]
