"""A weight's gradient kept as the factors of its products until it is final.

The gradient of W in y = x @ W^T is g^T @ x, g [rows, out], x [rows, in]. A weight used at every
step of a decoder gets one such product per step, each with K = the batch (a GEMM with little to
reuse), and the engine adds them one by one into its accumulator. OuterGrad keeps the factors
instead: Sum_i left_i^T @ right_i, and the sweep materializes it when the leaf's gradient is final
(autograd._sweep), as one product over the stacked rows (K = steps x batch): the attention
seq2seq's decoder step (B=32, H=256, 20 steps) made 20 products [256, 32] @ [32, 512] per weight
and 19 adds of [256, 512]; now one [256, 640] @ [640, 512].

Only a leaf's gradient stays deferred; anything that looks at a gradient (a non-leaf node's
backward, hooks, retained grads) gets an array (materialize).
"""


class OuterGrad:
    """Sum_i left_i^T @ right_i: left_i [rows_i, M], right_i [rows_i, N] -> [M, N]."""
    __slots__ = ("lefts", "rights", "shape", "dtype")

    def __init__(self, left, right):
        self.lefts, self.rights = [left], [right]
        self.shape = (left.shape[1], right.shape[1])
        self.dtype = left.dtype

    def extend(self, other):
        """self += other (another OuterGrad of the same shape): its factors join self's."""
        self.lefts += other.lefts
        self.rights += other.rights
        return self

    def materialize(self, b):
        """The [M, N] array, one GEMM over the stacked rows (backend b)."""
        left = self.lefts[0] if len(self.lefts) == 1 else b.concatenate(self.lefts, 0)
        right = self.rights[0] if len(self.rights) == 1 else b.concatenate(self.rights, 0)
        return b.matmul(b.transpose(left, (1, 0)), right)


def add(b, prev, grad):
    """prev + grad where either may be an OuterGrad (prev None: grad); an OuterGrad result only
    when both are."""
    if prev is None:
        return grad
    if type(prev) is OuterGrad:
        if type(grad) is OuterGrad:
            return prev.extend(grad)
        prev = prev.materialize(b)
    elif type(grad) is OuterGrad:
        grad = grad.materialize(b)
    return b.add(prev, grad)


def array(b, grad):
    """grad as an array (materialized when it is an OuterGrad)."""
    return grad.materialize(b) if type(grad) is OuterGrad else grad
