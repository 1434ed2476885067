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


_VIEW_DEF = re.compile(r"^\s*(q?[A-Z][A-Z0-9]*_\d+) = [A-Z][A-Z0-9]*(\[(\d+|\(\d+ \+ q\))\*H:\])?$")
_ANY_VIEW_USE = re.compile(r"\b(q?)([A-Z][A-Z0-9]*)_(\d+)\[j\]")
_WRITE = re.compile(r"^\s*q?[A-Z][A-Z0-9]*_\d+\[j\] [-+]?= ")


def offsets_for_views(lines):
    """The CPU stage code with its block views read as offsets into the row's array where that is
    faster: ARR_k[j] as ARR[k*H + j], qARR_k[j] as ARR[(k + q)*H + j], and the view lines (ARR_k =
    ARR[k*H:], qARR_k = ARR[(k + q)*H:]) no longer read gone. emit and fuse.py reason about the
    views; the compiled code does better without them: a view is a slice Numba builds (shape,
    strides, a bounds check) for every row and step, and the arrays a loop touches are fewer, so
    LLVM's overlap checks before a vectorized loop are fewer (as the hand-written LSTM's
    cell_row_backward indexes one array's gates). Except in a loop that writes an array at one
    block and reads or writes it at another: LLVM does not vectorize a loop whose stores and other
    accesses of one array lie an unknown distance (a multiple of H) apart, so that array keeps its
    views there (the GRU's forward reads r and writes n in SV: 1.1-1.4x slower with offsets; the
    LSTM backward's four gate gradients into DPR0, and += into two blocks of DPV: no vector
    instruction in the loop's LLVM IR with offsets, 8-wide with views). The generated
    LSTM's forward + backward through the layer, against the hand-written one, from 1.04-1.16x to
    0.99-1.03x at B=16 and 64, H=64 (T=50/200; float32, 2 threads, alternating in one process;
    AMD EPYC Zen 3, 512 KiB L2 a core, 32 MiB L3, numpy matmul ~190 GFLOP/s, load ~1, 2026-12-06
    07:20 UTC)."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line.strip().startswith("for j in range("):
            out.append(_offsets(line, ()))
            i += 1
            continue
        pad = len(line) - len(line.lstrip())
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > pad):
            end += 1
        body = lines[i + 1:end]
        reads, writes = {}, {}  # array -> the blocks the loop reads, writes
        for b in body:
            m = _WRITE.match(b)
            if m:
                q, arr, k = _ANY_VIEW_USE.match(b.strip()).groups()
                writes.setdefault(arr, set()).add((q, k))
            for q, arr, k in _ANY_VIEW_USE.findall(b[m.end():] if m else b):
                reads.setdefault(arr, set()).add((q, k))
        kept = {arr for arr in writes if len(writes[arr] | reads.get(arr, set())) > 1}
        out += [line] + [_offsets(b, kept) for b in body]
        i = end
    used = {name for line in out if not _VIEW_DEF.match(line) for name in re.findall(r"\bq?[A-Z][A-Z0-9]*_\d+\b", line)}
    return [line for line in out if not (_VIEW_DEF.match(line) and _VIEW_DEF.match(line).group(1) not in used)]


def _offsets(line, kept):
    """line with its block views ARR_k[j] and qARR_k[j] read as offsets, but those of the arrays in
    `kept`."""
    def sub(m):
        q, arr, k = m.groups()
        if arr in kept:
            return m.group(0)
        if q:
            return f"{arr}[({k} + q)*H + j]"
        return f"{arr}[{k}*H + j]" if k != "0" else f"{arr}[j]"
    return _ANY_VIEW_USE.sub(sub, line)
