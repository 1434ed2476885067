"""Where each value and each adjoint of a traced cell (trace.Graph) lives in the generated code,
and the layout sizes the drivers allocate by: the Plan that emit.py writes the source from.

Locations are (array, block): block k of H units of a row's array (XP, PV, SV, TM, REC<p>, ADJ,
DXP, DPR<p>, ...; emit._prologue makes the views). A value the backward reads is kept in SV, or
on the CPU over a block of XP the step has done with (overlay.py). On the CPU unit j of a value is ARR_k[j], a
view of block k made per row (see _at_block), which emit and fuse.py reason about; the source
Numba compiles reads it as ARR[k*H + j] (unit_loops.offsets_for_views), as "cuda" does.
"""
import re

from tinygrad_seq.cellgen.overlay import overlay_on_xp

_ELEMENTWISE = {"add": "({a} + {b})", "sub": "({a} - {b})", "mul": "({a} * {b})", "div": "({a} / {b})",
                "neg": "(-{a})", "sigmoid": "fast_sigmoid({a})", "tanh": "fast_tanh({a})",
                "relu": "max({a}, ZERO)", "exp": "math.exp({a})", "sqrt": "math.sqrt({a})"}
# on "cuda" the activations are written out (no device-function calls, which compile_ptx cannot
# take without a GPU present)
_ELEMENTWISE_CUDA = dict(_ELEMENTWISE, sigmoid="(ONE / (ONE + math.exp(-{a})))", tanh="math.tanh({a})")
_VALUE_NEEDS = {"sigmoid", "tanh", "relu", "exp", "sqrt"}


def _at(loc, j):
    arr, off = loc
    return f"{arr}[{off}*H + {j}]" if off else f"{arr}[{j}]"


_BLOCK = re.compile(r"\((\d+)\)\*H|(\d+)\*H")


def _at_block(loc, j):
    """On the CPU: unit j of a value at `loc` as ARR_k[j], a view of block k of ARR (the views
    are made per row, unit_loops.block_views), whatever block offsets the index j carries ("(j) + 2*H" for
    a slice): with the index a plain loop counter from 0 Numba sees it is not negative and drops
    its negative-index check, which kept the loops from vectorizing (LSTM T=50 B=64 H=64
    forward: 1.6x slower with ARR[1*H + j] over units JLO..JHI-1)."""
    arr, off = loc
    extra = sum(int(a or b) for a, b in _BLOCK.findall(j))
    return f"{arr}_{off + extra}[j]"


def _shift(loc, k):
    return None if loc is None else (loc[0], loc[1] + k)


class Plan:
    """Where each value and each adjoint lives, and the layout sizes the driver allocates."""

    def __init__(self, g, target="cpu"):
        self.g, self.target = g, target
        self.ew = _ELEMENTWISE_CUDA if target == "cuda" else _ELEMENTWISE
        live, stack = set(), list(g.outputs)
        while stack:
            n = stack.pop()
            if n.id not in live:
                live.add(n.id)
                stack.extend(n.args)
        self.nodes = [n for n in g.nodes if n.id in live]
        self.products = [n for n in self.nodes if n.op == "prod"]
        self.p_index = {n.id: p for p, n in enumerate(self.products)}
        self.p_off, off = [], 0
        for n in self.products:
            self.p_off.append(off)
            off += n.width
        self.wr = off
        self.n_stages = max(n.stage for n in self.nodes) + 1
        self.uses = {n.id: 0 for n in self.nodes}
        for n in self.nodes:
            for a in n.args:
                self.uses[a.id] += 1
        self.rg = {}
        for n in self.nodes:
            self.rg[n.id] = n.op in ("xp", "st", "pv", "prod") or any(self.rg[a.id] for a in n.args)
        self._values()
        overlay_on_xp(self)  # values kept in the input projection's dead blocks
        self._adjoints()
        self.bstage = self._backward_stages()
        self.state_dvin = self._states_multiplied()
        self.dxp_is_dprod = self._shared_gradient()

    def _shared_gradient(self):
        """The product p whose pre-activation gradient equals the input projection's, or -1: both
        used once, by chains of same-width adds that meet (the LSTM's x W_ih^T + b_ih + h W_hh^T +
        b_hh). Then the CPU backward writes only dP_p and the driver uses it as dXP too (as the
        hand-written kernels use one dG for dW_ih, dW_hh and dx): one [T,B,G*H] array fewer to
        write and zero. On "cuda" both are written."""
        xp = self.g.xp
        if self.target != "cpu" or xp is None or len(self.products) != 1 or not self.rg.get(xp.id, False):
            return -1
        consumers = {n.id: [] for n in self.nodes}
        for n in self.nodes:
            for a in n.args:
                consumers[a.id].append(n)

        def root(n):
            while len(consumers[n.id]) == 1 and consumers[n.id][0].op == "add" and consumers[n.id][0].width == n.width:
                n = consumers[n.id][0]
            return n

        prod = self.products[0]
        if prod.width == xp.width and root(xp) is not xp and root(xp) is root(prod):
            return 0
        return -1

    def base(self, n):
        while n.op == "slice":
            n = n.args[0]
        return n

    def _values(self):
        needed = set()
        for n in self.nodes:
            if not self.rg[n.id] or n.op in ("xp", "st", "pv", "prod", "ext", "const", "slice"):
                continue
            a = n.args
            if n.op == "mul":
                if self.rg[a[0].id]:
                    needed.add(self._kept(a[1]).id)
                if self.rg[a[1].id]:
                    needed.add(self._kept(a[0]).id)
            elif n.op == "div":
                needed.add(self._kept(a[1]).id)
                if self.rg[a[1].id]:
                    needed.add(n.id)
            elif n.op in _VALUE_NEEDS:
                needed.add(n.id)
        self.recomputed = self._recomputed(needed)
        needed -= self.recomputed
        self.loc, self.copies, self.loc_saved = {}, {n.id: [] for n in self.nodes}, {}
        self.sv_units, self.tmp_units, self.scalars = 0, 0, {}
        self.stored_slices = set()  # slices kept in SV whose value is not (Plan._kept)
        self.vin = {}      # product index -> vin slot (products on computed values)
        self.p_src = []
        outs = {}
        for k, o in enumerate(self.g.outputs):
            outs.setdefault(o.id, []).append(k)
        feeds = {}
        for p, n in enumerate(self.products):
            v = n.args[0]
            if v.op == "st":
                self.p_src.append(v.attr)
            else:
                self.vin[p] = len(self.vin)
                self.p_src.append(-1 - self.vin[p])
                feeds.setdefault(v.id, []).append(p)
        self.needed = needed
        for n in self.nodes:
            if n.op == "xp":
                self.loc[n.id] = ("XP", 0)
            elif n.op == "st":
                self.loc[n.id] = (f"STI{n.attr}", 0)
            elif n.op == "pv":
                self.loc[n.id] = ("PV", n.attr["off"])
            elif n.op == "ext":
                self.loc[n.id] = ("EX", n.attr)
            elif n.op == "prod":
                self.loc[n.id] = (f"REC{self.p_index[n.id]}", 0)
            elif n.op == "slice":
                if n.args[0].id in self.loc:
                    self.loc[n.id] = _shift(self.loc[n.args[0].id], n.attr)
                elif n.id in needed:  # the backward reads this slice of a value computed where read
                    self.loc[n.id] = ("SV", self.sv_units)
                    self.sv_units += n.width
                    self.stored_slices.add(n.id)
            elif n.width == 0:
                self.scalars[n.id] = len(self.scalars)
            elif n.op != "const" and (n.id in needed or n.id in outs or n.id in feeds
                                      or (self.uses[n.id] > 1 and not self._read_once(n))):
                self.loc[n.id] = self._store(n, outs, feeds)
                continue
            # leaves, slices, scalars and inlined values may still need copies
            for k in outs.get(n.id, []):
                self.copies[n.id].append((f"STO{k}", 0))
            for p in feeds.get(n.id, []):
                self.copies[n.id].append((f"VIN{self.vin[p]}", 0))
            if n.op == "prod" and n.id in needed:  # a product's value backward reads: saved
                self.copies[n.id].append(("SV", self.sv_units))
                self.loc_saved[n.id] = ("SV", self.sv_units)
                self.sv_units += n.width

    def _recomputed(self, needed):
        """The adds, subs, muls and divs whose value the backward needs, of values it reads anyway
        (an entering state, a parameter, a constant, a row's scalar, a value kept for the
        backward): recomputed where the backward reads them instead of kept, one [B, H] block
        less to write and read a step (the GRU's h - n, CIFG's f = 1 - i, a LayerNorm's
        (x - mean) / std from the kept x - mean: 9 of the LayerNorm LSTM's 19 blocks)."""
        out = set()
        for n in self.nodes:   # in order: a value kept is decided before its consumers
            if n.id not in needed or n.op not in ("add", "sub", "mul", "div") or n.width == 0:
                continue
            if all(a.op == "const" or a.width == 0 or (a.width == n.width and (a.op in ("st", "pv") or (
                    a.id in needed and a.id not in out and a.op != "slice"))) for a in n.args):
                out.add(n.id)
        return out

    def _kept(self, n):
        """The node whose value is kept for the backward when n's value is needed: n, or for a
        slice its base, unless the base is computed where each slice is read (_read_once): then
        the slice alone (the GRU's W_hn h + b_hn, a third of h W_hh^T + b_hh: the other two
        thirds go into the gates' sigmoids and need no keeping; storing all three blocks cost
        the generated GRU's forward two [B, H] writes a step)."""
        if n.op != "slice":
            return n
        b = self.base(n)
        if n.args[0] is b and self.rg[b.id] and b.op not in ("xp", "st", "pv", "prod", "ext", "const") \
                and b.width > 0 and self._read_once(b):
            return n
        return b

    def _read_once(self, n):
        """Whether each unit of n is read once: its consumers are slices of disjoint blocks, each
        used once (the LSTM's gate pre-activations, sliced into i, f, g, o). Such a value is
        computed where each slice is read, not stored: the sum of x W_ih^T, the biases and
        h W_hh^T written to a [B, 4H] scratch row and read back cost the generated LSTM's forward
        about 1.1x the hand-written one's at B=16-64 (AMD EPYC Zen 4, 2026-12-02)."""
        slices = [c for c in self.nodes if n in c.args]
        if any(c.op != "slice" or self.uses[c.id] != 1 or c.args.count(n) != 1 for c in slices):
            return False
        blocks = sorted((c.attr, c.attr + c.width) for c in slices)
        return all(hi <= lo for (_, hi), (lo, _) in zip(blocks, blocks[1:]))

    def _store(self, n, outs, feeds):
        targets = [(f"STO{k}", 0) for k in outs.get(n.id, [])]
        targets += [(f"VIN{self.vin[p]}", 0) for p in feeds.get(n.id, [])]
        if not targets:
            if n.id in self.needed:
                targets = [("SV", self.sv_units)]
                self.sv_units += n.width
            else:
                targets = [("TM", self.tmp_units)]
                self.tmp_units += n.width
        self.copies[n.id] = targets[1:]
        return targets[0]

    def at(self, loc, j):
        """Unit j of the value at loc: ARR_k[j] on the CPU (a loop index), else ARR[k*H + j]."""
        if self.target == "cpu" and "j" in str(j):
            return _at_block(loc, j)
        return _at(loc, j)

    def value(self, n, j, backward=False):
        """Expression of n's value at unit j (a vector) or its scalar / constant."""
        if n.op == "const":
            return f"C{n.id}"
        if n.width == 0:
            return f"s{n.id}"
        if backward and n.id in self.recomputed:   # _recomputed
            a = [self.value(x, j, True) for x in n.args]
            return self.ew[n.op].format(a=a[0], b=a[1])
        if backward and n.id in self.loc_saved:
            return self.at(self.loc_saved[n.id], j)
        if backward and n.op == "slice":   # a slice of a product kept whole: read from the kept copy
            base, off = n, 0
            while base.op == "slice":
                base, off = base.args[0], off + base.attr
            if base.id in self.loc_saved:
                return self.at(_shift(self.loc_saved[base.id], off), j)
        if n.op == "slice" and n.id not in self.loc:
            return self.value(n.args[0], f"({j}) + {n.attr}*H", backward)
        if n.id in self.loc:
            return self.at(self.loc[n.id], j)
        if backward:
            raise AssertionError(f"value of node {n.id} ({n.op}) is not kept for backward")
        a = [self.value(x, j) for x in n.args]
        return self.ew[n.op].format(a=a[0], b=a[1] if len(a) > 1 else "")

    def _adjoints(self):
        """Adjoint locations. A value used once, by an add (or as the left side of a sub) of the
        same width, shares its consumer's adjoint (the gradient passes through unchanged): no
        copy loop, no slot (self.alias: node id -> consumer id)."""
        self.adj, self.adj_units, self.adj_scalars, self.alias = {}, 0, {}, {}
        consumer = {}
        for n in self.nodes:
            for a in n.args:
                consumer[a.id] = n
        outs = {o.id for o in self.g.outputs}
        feeds = {n.args[0].id for n in self.products}
        chain, roots = self._sums_into_products(consumer, outs, feeds)
        self.pv_copies = []  # (pv block, width, pv block whose gradient it copies): the driver copies
        dpr_summed = {}  # dP_p's location -> the pv block summing it
        for n in reversed(self.nodes):
            if not self.rg[n.id] or n.op in ("const", "ext", "slice"):
                continue
            if n.op == "xp":
                self.adj[n.id] = ("DXP", 0)
                if n.id in chain:
                    self.alias[n.id] = consumer[n.id].id  # its adjoint is its consumer's, in place
            elif n.op == "st":
                self.adj[n.id] = (f"DNX{n.attr}", 0)
            elif n.op == "pv":
                self.adj[n.id] = ("DPV", n.attr["off"])
                c = consumer.get(n.id)
                at = self.adj.get(c.id) if c is not None else None
                if (self.uses[n.id] == 1 and n.id not in outs and c.op == "add" and c.width == n.width
                        and at is not None and at[0].startswith("DPR")):
                    # a bias added where the adjoint is dP_p's (_sums_into_products): the first
                    # such bias of a block sums it over the rows and steps; a second one (the
                    # LSTM's b_ih beside b_hh) gets the same gradient, which the driver copies
                    if at in dpr_summed:
                        self.alias[n.id] = c.id
                        self.pv_copies.append((n.attr["off"], n.width, dpr_summed[at]))
                    else:
                        dpr_summed[at] = n.attr["off"]
            elif n.op == "prod":
                self.adj[n.id] = (f"DPR{self.p_index[n.id]}", 0)
                if n.id in chain:
                    self.alias[n.id] = consumer[n.id].id  # its adjoint is its consumer's, in place
            elif n.width == 0:
                self.adj_scalars[n.id] = len(self.adj_scalars)
            elif n.id in roots:
                self.adj[n.id] = ("DXP", 0) if roots[n.id] == "XP" else (f"DPR{roots[n.id]}", 0)
            else:
                c = consumer.get(n.id)
                if (c is not None and self.uses[n.id] == 1 and n.id not in outs and n.id not in feeds
                        and c.width == n.width and (c.op == "add" or (c.op == "sub" and c.args[0] is n))):
                    self.adj[n.id] = self.adj[c.id]
                    self.alias[n.id] = c.id
                else:
                    self.adj[n.id] = ("ADJ", self.adj_units)
                    self.adj_units += n.width
        for n in self.nodes:  # parents before children: a slice's adjoint is a view of its parent's
            if n.op == "slice" and self.rg[n.id]:
                self.adj[n.id] = _shift(self.adj[n.args[0].id], n.attr)

    def _states_multiplied(self):
        """On the CPU, {state k: (product p, only)} for the entering states that feed a product
        directly (the LSTM's, GRU's and RNN's h): dV_p is part of their gradient (all of it when
        `only`), which the CPU loop adds (or copies) when it hands the state's gradient to the
        step before, instead of the generated code adding dV_p into dnx per row and step (a pass
        over H units; the LSTM's and GRU's backward stage 0 then has no code left)."""
        if self.target != "cpu":
            return {}
        outs = {o.id for o in self.g.outputs}
        out = {}
        for p, prod in enumerate(self.products):
            v = prod.args[0]
            if v.op == "st" and self.rg[v.id] and v.attr not in out:
                # a state carried on unchanged (an output itself) has that gradient too
                out[v.attr] = (p, self.uses[v.id] == 1 and v.id not in outs)
        return out

    def _backward_stages(self):
        """The stage whose backward code handles each node: the latest in run order (stages run
        top down) at which its adjoint is whole, that is the earliest stage of its consumers',
        and below a product it feeds (whose dV_p the driver adds after that product's stage).
        A node that does not depend on a product sits in stage 0 forward, but its backward can
        run with its consumers': the peephole LSTM's p_i * c(t-1) then shares the stage-1 loop,
        where its adjoint stays in a register, instead of a second pass over ADJ blocks."""
        top = self.n_stages - 1
        bstage = {n.id: top for n in self.nodes}  # an output's adjoint is whole from the start
        for n in reversed(self.nodes):  # consumers before their operands
            for a in n.args:
                bstage[a.id] = min(bstage[a.id], n.stage - 1 if n.op == "prod" else bstage[n.id])
        return bstage

    def _sums_into_products(self, consumer, outs, feeds):
        """On the CPU, the chains of same-width adds that carry a product, used once, to a sum (the
        LSTM's x W_ih^T + b_ih + h W_hh^T + b_hh): the sum's adjoint is the product's, so it is
        written straight into dP_p (no ADJ block, no copy loop per row and step), and of two biases
        added along the chain only one sums it (pv_copies). The input projection's chain likewise
        writes dXP (p "XP"). Returns ({chain node id: p}, {sum (root) id: p})."""
        chain, roots = {}, {}
        if self.target != "cpu":  # the CUDA code adds into dP_p, which its driver does not zero
            return chain, roots

        def passes(n):
            c = consumer.get(n.id)
            return (c is not None and self.uses[n.id] == 1 and n.id not in outs and n.id not in feeds
                    and c.op == "add" and c.width == n.width)

        # the input projection's chain too (a GRU's x W_ih^T + b_ih, sliced into its gates): its
        # sum's adjoint is written straight into dXP, unless the product's chain took that sum
        leaves = list(enumerate(self.products))
        if self.g.xp is not None and self.rg.get(self.g.xp.id, False):
            leaves.append(("XP", self.g.xp))
        for p, leaf in leaves:
            if not passes(leaf):
                continue
            n, members = leaf, [leaf.id]
            while passes(n):
                n = consumer[n.id]
                members.append(n.id)
            if n.id in outs or n.id in feeds or n.id in roots:
                continue
            chain.update((m, p) for m in members)
            roots[n.id] = p
        return chain, roots

    def grad(self, n, j):
        if n.width == 0:
            return f"ADJ[{self.adj_units}*H + {self.adj_scalars[n.id]}]"
        return self.at(self.adj[n.id], j)
