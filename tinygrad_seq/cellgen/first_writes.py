"""The backward stages' first writes (emit.py): which accumulator blocks a row has written, so the
first contribution assigns and later ones add."""
from tinygrad_seq.cellgen.unit_loops import unit_loop


class FirstWrites:
    """Which blocks of H of the backward's accumulators a row has written so far, in the order the
    code runs (stage top down to 0, lines in order): the first contribution to a block assigns
    (=), later ones add (+=), so that no accumulator is zeroed per row and step only to be added
    to. Blocks read or half-written before any assignment, and blocks nothing writes that the
    driver reads (DNX, and on the CPU DXP and DPR), are zeroed at the start of the top stage
    (zero_lines). DPV (sums over rows) and the scalars always add."""

    def __init__(self, plan):
        self.plan, self.done, self.zero = plan, set(), set()
        self.tracked = ("ADJ", "DNX", "DXP", "DPR") if plan.target == "cpu" else ("ADJ", "DNX")

    def _blocks(self, n):
        arr, off = self.plan.adj[n.id]
        if not arr.startswith(self.tracked):
            return None
        return [(arr, off + q) for q in range(n.width)]

    def add(self, n, expr, j="j"):
        """The line that adds expr to n's adjoint at unit j; None for the input projection's when
        it is the product's (Plan._shared_gradient)."""
        if n.op == "xp" and self.plan.dxp_is_dprod >= 0:
            return None
        target, blocks = self.plan.grad(n, j), self._blocks(n)
        if blocks is None:
            return f"{target} += {expr}"
        fresh = [b for b in blocks if b not in self.done]
        self.done.update(blocks)
        if len(fresh) == len(blocks):
            return f"{target} = {expr}"
        self.zero.update(fresh)
        return f"{target} += {expr}"

    def read(self, n, zero=True):
        """n's adjoint is read (zero: its blocks not written yet are zeroed first), or with zero
        False, taken as whole elsewhere (never zeroed)."""
        blocks = self._blocks(n) or []
        fresh = [b for b in blocks if b not in self.done]
        if zero:
            self.zero.update(fresh)
        self.done.update(fresh)

    def zero_lines(self):
        plan = self.plan
        needed = set(self.zero)
        outputs = [(f"DNX{s}", 0) for s in range(len(plan.g.outputs))]
        if plan.target == "cpu" and plan.dxp_is_dprod < 0:
            outputs += [("DXP", q) for q in range(plan.g.xp.width)]
            for p, n in enumerate(plan.products):
                outputs += [(f"DPR{p}", q) for q in range(n.width)]
        needed.update(b for b in outputs if b not in self.done)
        out = []
        for loc in sorted(needed):
            out += unit_loop(plan, 1, [f"{plan.at(loc, 'j')} = ZERO"], 8)
        return out
