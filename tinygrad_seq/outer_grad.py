"""A weight's gradient kept as the factors of its products until it is final.

The gradient of W in y = x @ W^T is g^T @ x, g [rows, out], x [rows, in]. A weight used at every
step of a decoder gets one such product per step, each with K = the batch (a GEMM with little to
reuse), and the engine adds them one by one into its accumulator. OuterGrad keeps the factors
instead: Sum_i left_i^T @ right_i, and the sweep materializes it when the leaf's gradient is final
(autograd._sweep), as one product over the stacked rows (K = steps x batch): the attention
seq2seq's decoder step (B=32, H=256, 20 steps) made 20 products [256, 32] @ [32, 512] per weight
and 19 adds of [256, 512]; now one [256, 640] @ [640, 512].

BatchedOuter does the same for a batched product whose contraction is short: attention's
scores = keys @ q and context = weights @ keys give the keys' gradient as [B, S, 1] @ [B, 1, H]
at every decoder step; kept factored, the sweep makes them one [B, S, steps] @ [B, steps, H]
product instead of a product and an add of [B, S, H] a step.

A factored gradient may wait in a leaf's accumulator or in a node's output slot; anything that
looks at a gradient (a node's backward, hooks, retained grads, a gradient of another shape or
dtype) gets an array (materialize).
"""
import math

import numpy as np


class _Factors:
    """A sum of products kept as its factors (lefts, rights), of the result's shape and dtype;
    base: the part already multiplied out (fold), or None."""
    __slots__ = ("lefts", "rights", "shape", "dtype", "held", "base")

    def __init__(self, left, right, shape):
        self.lefts, self.rights, self.shape, self.dtype = [left], [right], shape, left.dtype
        # (elements held; factors may be Tensors on the graph backend, whose size is a method)
        self.held, self.base = math.prod(left.shape) + math.prod(right.shape), None

    def extend(self, other):
        """self += other (another sum of the same kind and shape, none of it folded): its
        factors join self's."""
        self.lefts += other.lefts
        self.rights += other.rights
        self.held += other.held
        return self

    def fold(self, b):
        """Multiply the factors held so far into base: the factors of a gradient read at
        thousands of steps would otherwise take many times the product's memory."""
        self.base, self.lefts, self.rights, self.held = self.materialize(b), [], [], 0

    def materialize(self, b):
        """The summed array (backend b)."""
        if not self.lefts:
            return self.base
        out = self._product(b)
        return out if self.base is None else b.add(self.base, out)


class OuterGrad(_Factors):
    """Sum_i left_i^T @ right_i: left_i [rows_i, M], right_i [rows_i, N] -> [M, N]."""
    __slots__ = ()

    def __init__(self, left, right):
        super().__init__(left, right, (left.shape[1], right.shape[1]))

    def _product(self, b):
        # one GEMM over the stacked rows
        left = self.lefts[0] if len(self.lefts) == 1 else b.concatenate(self.lefts, 0)
        right = self.rights[0] if len(self.rights) == 1 else b.concatenate(self.rights, 0)
        return b.matmul(b.transpose(left, (1, 0)), right)


class BatchedOuter(_Factors):
    """Sum_i left_i @ right_i: left_i [..., M, k_i], right_i [..., k_i, N] -> [..., M, N], the
    batch dims alike (no broadcasting)."""
    __slots__ = ()

    def __init__(self, left, right):
        super().__init__(left, right, tuple(left.shape[:-1]) + (right.shape[-1],))

    def _product(self, b):
        # one batched product over the joined contractions
        left = self.lefts[0] if len(self.lefts) == 1 else b.concatenate(self.lefts, -1)
        right = self.rights[0] if len(self.rights) == 1 else b.concatenate(self.rights, -2)
        return b.matmul(left, right)


DEFERRED = (OuterGrad, BatchedOuter)
# factors held past FOLD_AT times the product's elements, and past FOLD_MIN elements, are multiplied
# out into a running sum (fold): memory stays bounded, and small sums still take one product
FOLD_AT, FOLD_MIN = 4, 1 << 20


def product(b, left, right):
    """left @ right for a matmul's backward: kept as a BatchedOuter when both are numpy arrays of
    one dtype and batch shape whose contraction is short (the factors take less than half the
    product's memory), else computed (backend b)."""
    if type(left) is np.ndarray and type(right) is np.ndarray and left.ndim >= 2 and left.ndim == right.ndim:
        m, k, n = left.shape[-2], left.shape[-1], right.shape[-1]
        if (2 * k * (m + n) < m * n and left.shape[:-2] == right.shape[:-2] and left.dtype == right.dtype
                and right.shape[-2] == k):
            return BatchedOuter(left, right)
    return b.matmul(left, right)


def add(b, prev, grad, prev_owned=False):
    """prev + grad where either may be factored (prev None: grad); a factored result only when
    both are of one kind and shape. prev_owned: prev is an array this sum may write (a leaf's
    accumulator the sweep made): grad is added into it in place, as torch's AccumulateGrad (an
    embedding read at every decoder step: no new V x E table a step)."""
    if prev is None:
        return grad
    tp, tg = type(prev), type(grad)
    if (prev_owned and tp is np.ndarray and tg is np.ndarray and prev.shape == grad.shape
            and prev.dtype == grad.dtype and prev.flags.writeable):
        return np.add(prev, grad, out=prev)
    if tp in DEFERRED:
        if tg is tp and prev.shape == grad.shape:
            prev.extend(grad)
            if prev.held > max(FOLD_AT * math.prod(prev.shape), FOLD_MIN):
                prev.fold(b)
            return prev
        prev = prev.materialize(b)
    if tg in DEFERRED:
        grad = grad.materialize(b)
    return b.add(prev, grad)


class SlotSums:
    """The sweep's sums of node output gradients (autograd._sweep): ``add`` does slot[i] += grad
    for output i of the node ``node_id`` (alive for the whole sweep, so its id names no other):
    a factored gradient joins the factors there (the node noted in ``factored``, its slot made
    arrays by ``arrays`` before its backward); an array that an earlier add made (its key in
    ``summed``) takes the next in place, as torch's InputBuffer accumulates (no new [B, S, H] array
    a step for attention keys read at every decoder step)."""
    __slots__ = ("summed", "factored")

    def __init__(self):
        self.summed, self.factored = set(), set()

    def add(self, b, slot, i, grad, node_id):
        if type(grad) in DEFERRED:
            self.factored.add(node_id)
        prev = slot[i]
        if prev is None:
            slot[i] = grad
            return
        key = (node_id, i)
        if key in self.summed and type(prev) is np.ndarray and type(grad) is np.ndarray:
            np.add(prev, grad, out=prev)
            return
        slot[i] = total = add(b, prev, grad)
        if type(total) is np.ndarray:
            self.summed.add(key)

    def settle(self, b, out_grads, leaf_grad, owned, in_grads):
        """Every factored gradient still waiting multiplied out now (in the node slots, the
        leaves' accumulators and the list of gradients the running node returned): before a
        leaf's hooks, which may write in place a parameter its factors read (torch's optimizer
        step in a post-accumulate-grad hook), as torch's nodes have read it by then."""
        for i, g in enumerate(in_grads):
            if type(g) in DEFERRED:
                in_grads[i] = g.materialize(b)
        for node_id, slot in out_grads.items():
            for i, g in enumerate(slot):
                if type(g) in DEFERRED:
                    slot[i] = g.materialize(b)
                    self.summed.add((node_id, i))
        for key, g in leaf_grad.items():
            if type(g) in DEFERRED:
                leaf_grad[key], owned[key] = g.materialize(b), True

    def arrays(self, ctx, grads):
        """A node's output gradients, any factored one an array now (ctx's backend)."""
        return [array(ctx.b, g) for g in grads] if id(ctx) in self.factored else grads


def array(b, grad):
    """grad as an array (materialized when it is factored)."""
    return grad.materialize(b) if type(grad) in DEFERRED else grad
