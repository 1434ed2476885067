"""Rewrites of a generated CPU backward's stage bodies (emit.stages), before their views are made:
emit writes one loop per graph node; here consecutive loops over a value's blocks and over the
units become one where that is legal, and adjoints that live inside one loop become locals. On
the peephole LSTM the backward loop then compiled in 4.5-5.0 s instead of 7.2-7.8 s and ran as
fast (AMD EPYC Zen 4, 2026-12-02; bench/results/cells_vs_lstm_cpu.md). That the rewritten code
computes the same gradients is tested for every cell by tests/test_cell_variants.py.
"""
import re


def fused_backward(bodies):
    """The stage bodies (lists of lines, one per stage) with their loops fused and their local
    adjoints in registers."""
    return _local_adjoints([_fused_unit_loops(_fused_flat_loops(_fused_block_loops(body))) for body in bodies])


_UNIT_LOOP = "for j in range(JN):"


def _indent(line):
    return len(line) - len(line.lstrip())


def _fused_unit_loops(lines):
    """The backward's consecutive loops over the units (one per node: emit._backward_stage) as one
    loop. Legal because iteration j reads and writes only unit j of each view, and two views of
    one array are distinct blocks of H. Measured (peephole LSTM, float32, T=50, B=16, H=64): the
    backward loop compiles in 4.5-5.0 s instead of 7.2-7.8 s (27 loops of the backward became 9),
    and runs as fast (with _local_adjoints: 0.88-1.12x the separate loops' time at H=64, 0.99 at
    H=256, 2 threads, alternating); fusing the forward's loops the same way made it 5-19% slower."""
    out = []
    for line in lines:
        if (line.strip() == _UNIT_LOOP and out and out[-1].strip() and _indent(out[-1]) > _indent(line)
                and _open_loop(out, _indent(line))):
            continue  # the previous loop at this indent is still open: its body goes on
        out.append(line)
    return out


def _open_loop(out, indent):
    """Whether the lines in `out` end inside the body of a unit loop at `indent`."""
    for line in reversed(out):
        if not line.strip():
            continue
        if _indent(line) < indent:
            return False
        if _indent(line) == indent:
            return line.strip() == _UNIT_LOOP
    return False


_Q_VIEW_DEF = re.compile(r"^\s*q([A-Z][A-Z0-9]*)_(\d+) = ([A-Z][A-Z0-9]*)\[\((\d+) \+ q\)\*H:\]$")
_Q_WRITE = re.compile(r"\bq([A-Z][A-Z0-9]*_\d+)\[j\] [+]?= ")


def _block_loop(lines, i):
    """The loop over blocks starting at lines[i], if it has the shape unit_loops.unit_loop writes (the header,
    its views qARR_k = ARR[(k + q)*H:], one loop over the units): (end, width, views, body), views
    {name: (array, k)} and body the unit loop's lines; else None."""
    m = _Q_LOOP.fullmatch(lines[i].strip())
    if m is None:
        return None
    pad = _indent(lines[i])
    views, k = {}, i + 1
    while k < len(lines) and _Q_VIEW_DEF.match(lines[k]) and _indent(lines[k]) == pad + 4:
        v = _Q_VIEW_DEF.match(lines[k])
        views[f"q{v.group(1)}_{v.group(2)}"] = (v.group(3), int(v.group(4)))
        k += 1
    if k >= len(lines) or lines[k].strip() != _UNIT_LOOP or _indent(lines[k]) != pad + 4:
        return None
    end = k + 1
    while end < len(lines) and lines[end].strip() and _indent(lines[end]) > pad + 4:
        end += 1
    if end < len(lines) and lines[end].strip() and _indent(lines[end]) > pad:
        return None  # more than one unit loop in the block
    return end, int(m.group(1)), views, lines[k + 1:end]


def _fused_block_loops(lines):
    """Consecutive loops over the blocks of a value (for q in range(W): views, one unit loop;
    unit_loops.unit_loop for width W > 1) as one, when that is legal: wherever the two loops touch the same
    array and either writes it, their views start at the same block or cover disjoint blocks, so
    that iteration (q, j) of the second reads and writes only what iteration (q, j) of the first
    has finished with. A LayerNorm LSTM's backward has 11 such loops per stage."""
    def write(header, pad, views, body):
        return ([header] + [f"{' ' * (pad + 4)}{name} = {arr}[({k} + q)*H:]" for name, (arr, k) in views.items()]
                + [f"{' ' * (pad + 4)}{_UNIT_LOOP}"] + body)

    return _fused_consecutive(lines, _block_loop, _blocks_commute, write)


def _fused_consecutive(lines, loop_at, commute, write):
    """lines with each run of consecutive loops of one width (loop_at(lines, i) -> (end, width,
    views, body) or None) that commute pairwise (commute(views, body, views', body', width)) written
    as one (write(header line, indent, views, body) -> lines)."""
    out, i = [], 0
    while i < len(lines):
        first = loop_at(lines, i)
        if first is None:
            out.append(lines[i])
            i += 1
            continue
        end, width, views, body = first
        pad = _indent(lines[i])
        while True:
            nxt = loop_at(lines, end) if end < len(lines) and _indent(lines[end]) == pad else None
            if nxt is None or nxt[1] != width or not commute(views, body, nxt[2], nxt[3], width):
                break
            end, _, more, more_body = nxt
            views = {**views, **more}
            body = body + more_body
        out += write(lines[i], pad, views, body)
        i = end
    return out


def _blocks_commute(views_a, body_a, views_b, body_b, width):
    written = {m for line in body_a + body_b for m in _Q_WRITE.findall(line)}
    for name_a, (arr_a, ka) in views_a.items():
        for name_b, (arr_b, kb) in views_b.items():
            if arr_a != arr_b or ka == kb or ka + width <= kb or kb + width <= ka:
                continue
            if name_a[1:] in written or name_b[1:] in written:
                return False
    return True


_FLAT_LOOP = re.compile(r"for j in range\((\d+)\*JN\):")
_FLAT_REF = re.compile(r"\b([A-Z][A-Z0-9]*)_(\d+)\[j\]")
_FLAT_WRITE = re.compile(r"\b([A-Z][A-Z0-9]*_\d+)\[j\] [+]?= ")


def _flat_loop(lines, i):
    """The loop over width*JN units starting at lines[i] (unit_loops.unit_loop in a cell that never splits
    its units): (end, width, {} (its views are the row's), body), else None."""
    m = _FLAT_LOOP.fullmatch(lines[i].strip())
    if m is None:
        return None
    pad, end = _indent(lines[i]), i + 1
    while end < len(lines) and lines[end].strip() and _indent(lines[end]) > pad:
        end += 1
    return end, int(m.group(1)), {}, lines[i + 1:end]


def _fused_flat_loops(lines):
    """Consecutive loops over the same width*JN units (views ARR_k of width blocks each) as one,
    when legal: wherever the two touch the same array and either writes it, their views start
    at the same block or cover disjoint blocks (as _fused_block_loops)."""
    return _fused_consecutive(lines, _flat_loop, _flat_commute, lambda header, pad, views, body: [header] + body)


def _flat_commute(views_a, body_a, views_b, body_b, width):
    written = {m for line in body_a + body_b for m in _FLAT_WRITE.findall(line)}
    refs_a = {(m.group(1), int(m.group(2))) for line in body_a for m in _FLAT_REF.finditer(line)}
    refs_b = {(m.group(1), int(m.group(2))) for line in body_b for m in _FLAT_REF.finditer(line)}
    for arr_a, ka in refs_a:
        for arr_b, kb in refs_b:
            if arr_a != arr_b or ka == kb or ka + width <= kb or kb + width <= ka:
                continue
            if f"{arr_a}_{ka}" in written or f"{arr_b}_{kb}" in written:
                return False
    return True


_ADJ_ANY = re.compile(r"\bADJ_(\d+)\b")
# a loop over W*H units (a reduction's) or W*JN (a value W blocks wide, in a cell that never splits
# its units): ADJ_k[j] in it reaches blocks k .. k+W-1
_WHOLE_LOOP = re.compile(r"for j in range\((\d+)\*(?:H|JN)\):")
_ADJ_Q_VIEW = re.compile(r"ADJ\[\((\d+) \+ q\)\*H:\]")
_Q_LOOP = re.compile(r"for q in range\((\d+)\):")


def _local_adjoints(bodies):
    """An adjoint block ADJ_k whose every use in the backward function is inside one loop over
    the units, and whose first use there assigns it, becomes the loop's local a_k: a register,
    not a store and a load per unit (most of a cell's intermediate adjoints)."""
    used = {}  # block k -> the (body, loop start) of each place it is used
    for bi, body in enumerate(bodies):
        loop, q_width, whole = None, 0, None  # whole: (indent, width) of a loop over W*H units
        for i, line in enumerate(body):
            if loop is not None and line.strip() and _indent(line) <= _indent(body[loop]):
                loop = None
            if whole is not None and line.strip() and _indent(line) <= whole[0]:
                whole = None
            if line.strip() == _UNIT_LOOP:
                loop = i
            m = _Q_LOOP.search(line)
            if m:
                q_width = int(m.group(1))
            m = _WHOLE_LOOP.fullmatch(line.strip())
            if m:
                whole = (_indent(line), int(m.group(1)))
            for k in _ADJ_ANY.findall(line):
                # in a loop over W*H units (a reduction's), ADJ_k[j] reaches blocks k .. k+W-1
                for kk in range(int(k), int(k) + (whole[1] if whole is not None else 1)):
                    used.setdefault(kk, set()).add((bi, loop))
            for m0 in _ADJ_Q_VIEW.findall(line):  # ARR[(m + q)*H:] covers blocks m .. m+width-1
                for k in range(int(m0), int(m0) + q_width):
                    used.setdefault(k, set()).add((bi, None))
    out = [list(body) for body in bodies]
    for k, places in used.items():
        if len(places) != 1 or None in {loop for _, loop in places}:
            continue
        (bi, start), = places
        body = out[bi]
        end = start + 1
        while end < len(body) and (not body[end].strip() or _indent(body[end]) > _indent(body[start])):
            end += 1
        first = next(line for line in body[start + 1:end] if f"ADJ_{k}[j]" in line)
        if not first.strip().startswith(f"ADJ_{k}[j] = "):
            continue
        for i in range(start + 1, end):
            body[i] = re.sub(rf"\bADJ_{k}\[j\]", f"a_{k}", body[i])
    return out
