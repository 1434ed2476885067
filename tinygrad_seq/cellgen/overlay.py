"""Values the backward reads, kept in the input projection's dead blocks instead of SV (CPU plans).

Block q of XP (x W_ih^T of step t, [T, B, WX]) is dead once the forward's last loop that reads it
has run, when the backward never reads it: the GRU's r = sigmoid(XP_0 + ...), z and n each read
one block of XP, once, in the loop that computes them, and the backward reads r, z and n but no
XP. Such a value is written over the block its own loop reads (unit j is read, then written, in
one statement), as the hand-written kernels keep their gates in the input projection's buffer
(gru_cpu's act). The generated GRU then writes and reads 1 block of SV a step instead of 4: on
T=200 B=64 H=512 float32 the forward's SV alone is 105 MB, three times the L3.

overlay_on_xp(plan) moves the values (Plan.loc, Plan.copies, Plan.loc_saved) and packs SV again.
"""

_LEAVES = ("xp", "st", "pv", "ext", "const", "prod", "slice")


def overlay_on_xp(plan):
    xp = plan.g.xp
    if plan.target != "cpu" or xp is None or plan.loc.get(xp.id) != ("XP", 0):
        return
    width = {n.id: n.width for n in plan.nodes}
    taken = set()  # blocks the backward reads, or already holding a moved value
    for nid in plan.needed:
        loc = plan.loc.get(nid)
        if loc is not None and loc[0] == "XP":
            taken.update(range(loc[1], loc[1] + width[nid]))
    loops = _forward_loops(plan)
    read_after = [set() for _ in range(len(loops) + 1)]  # blocks read by loops i.. of the step
    for i in range(len(loops) - 1, -1, -1):
        read_after[i] = read_after[i + 1] | set().union(*loops[i][2])
    moved = False
    for i, (n, dest, per_block) in enumerate(loops):
        if n is None or dest[0] != "SV" or n.width == 0:
            continue
        for q in range(xp.width - n.width + 1):
            blocks = set(range(q, q + n.width))
            if not blocks & taken and not blocks & read_after[i + 1] and not _overwrites_ahead(per_block, q):
                _move(plan, n, dest, ("XP", q))
                taken |= blocks
                moved = True
                break
    if moved:
        _pack_sv(plan, width)


def _overwrites_ahead(per_block, q):
    """Whether a loop writing its value's block b over XP block q + b writes a block the loop reads
    for a later block of the value (b' > b): a value several blocks wide placed off the blocks it
    is computed from (tanh(XP_0..1) over XP_1..2 read XP_1 after writing it). The loop runs block
    by block, or in a cell with row reductions as one run over the blocks' units: the same order."""
    return any(q + b in per_block[later] for b in range(len(per_block)) for later in range(b + 1, len(per_block)))


def _forward_loops(plan):
    """The forward stage's loops in the order emit._forward_stage writes them: (node written or
    None, its destination, per block b of the value the XP blocks the loop reads for it)."""
    loops = []

    def per_block(read, width):   # read(b): the XP blocks read for block b
        return [read(b) for b in range(max(width, 1))]
    for k in range(plan.n_stages):
        for n in plan.nodes:
            if n.stage != k:
                continue
            if n.width == 0:
                loops.append((None, None, [set().union(*(_reads(plan, a, 0, a.width) for a in n.args))]))
                continue
            if n.op not in _LEAVES and n.id in plan.loc:
                loops.append((n, plan.loc[n.id], per_block(
                    lambda b: set().union(*(_reads(plan, a, b, 1) if a.width == n.width else _reads(plan, a, 0, a.width)
                                            for a in n.args)), n.width)))
            elif n.id in plan.stored_slices:
                loops.append((n, plan.loc[n.id], per_block(lambda b: _reads(plan, n.args[0], n.attr + b, 1), n.width)))
            for dest in plan.copies[n.id]:
                loops.append((n, dest, per_block(lambda b: _reads(plan, n, b, 1), n.width)))
    return loops


def _reads(plan, n, lo, w):
    """The XP blocks read to evaluate blocks lo..lo+w-1 of n's value in the forward (Plan.value)."""
    if n.op == "const" or n.width == 0:
        return set()
    loc = plan.loc.get(n.id)
    if loc is not None:
        return set(range(loc[1] + lo, loc[1] + lo + w)) if loc[0] == "XP" else set()
    if n.op == "slice":
        return _reads(plan, n.args[0], lo + n.attr, w)
    out = set()
    for a in n.args:
        if a.width == n.width:
            out |= _reads(plan, a, lo, w)
        else:  # broadcast (a width-0 value reads nothing): all of it, to be safe
            out |= _reads(plan, a, 0, a.width)
    return out


def _move(plan, n, old, new):
    if plan.loc.get(n.id) == old:
        plan.loc[n.id] = new
    if plan.loc_saved.get(n.id) == old:
        plan.loc_saved[n.id] = new
    plan.copies[n.id] = [new if d == old else d for d in plan.copies[n.id]]
    for m in plan.nodes:  # parents before children: a slice of a value lives where its blocks do
        if m.op == "slice" and m.args[0].id in plan.loc and m.id not in plan.stored_slices:
            base = plan.loc[m.args[0].id]
            plan.loc[m.id] = (base[0], base[1] + m.attr)


def _pack_sv(plan, width):
    """SV's blocks renumbered from 0 without the gaps the moved values left (a value's slices
    lie inside its blocks: runs of overlapping blocks move together)."""
    spans = [(loc[1], loc[1] + width[nid]) for nid, loc in list(plan.loc.items()) + list(plan.loc_saved.items())
             if loc[0] == "SV"]
    spans += [(d[1], d[1] + width[nid]) for nid, dests in plan.copies.items() for d in dests if d[0] == "SV"]
    runs = []  # [first block, end, new first block]
    for lo, hi in sorted(spans):
        if runs and lo < runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], hi)
        else:
            runs.append([lo, hi, runs[-1][2] + runs[-1][1] - runs[-1][0] if runs else 0])
    new = {k: first + k - lo for lo, hi, first in runs for k in range(lo, hi)}
    off = runs[-1][2] + runs[-1][1] - runs[-1][0] if runs else 0
    fix = lambda loc: ("SV", new[loc[1]]) if loc[0] == "SV" else loc  # noqa: E731
    plan.loc = {nid: fix(loc) for nid, loc in plan.loc.items()}
    plan.loc_saved = {nid: fix(loc) for nid, loc in plan.loc_saved.items()}
    plan.copies = {nid: [fix(d) for d in dests] for nid, dests in plan.copies.items()}
    plan.sv_units = off
