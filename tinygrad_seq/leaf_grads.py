"""Whether the array a node's backward returned can become a leaf's .grad without a copy
(autograd._sweep asks, for the Functions marked fresh_grads), and how a first .grad is laid out."""
import numpy as np


def adoptable(pg, grads, in_grads):
    """Whether the gradient pg that a fresh_grads Function returned can become a leaf's .grad
    as it is: it owns its memory, or is a view of the whole of an array that no other returned
    gradient views (a reshape of one the Function allocated: the recurrent Functions give a
    [B, H] state's gradient as [1, B, H]); neither it nor that array is one of the gradients the
    backward was given; it is returned once."""
    mem = getattr(pg, "base", True)
    if mem is None:
        mem = pg
    elif mem is True or getattr(mem, "base", True) is not None or mem.size != pg.size:
        return False
    else:
        for g in in_grads:
            if g is not pg and getattr(g, "base", None) is mem:
                return False
    for g in grads:
        if g is pg or g is mem:
            return False
    n = 0
    for g in in_grads:
        n += g is pg
    return n == 1


def zero_in_place(p):
    """p.grad set to zeros in its own memory (zero_grad(set_to_none=False)), first cut from any
    graph a create_graph=True backward gave it, as torch's (else each step's graph would chain
    onto the last one's through the accumulation)."""
    from tinygrad_seq import device
    g = p.grad
    g._ctx, g.requires_grad = None, False
    a = g._shared_array() if g.device == "cpu" else g.array   # a numpy scalar made a 0-d array
    if getattr(getattr(a, "flags", None), "writeable", True):
        device.backend(g.device).fill(a, 0)
    else:   # a read-only view (a broadcast): zeros of its own
        g.array = device.backend(g.device).zeros(a.shape, a.dtype)
    g._version += 1
    p.__dict__.pop("_sparse_rows", None)   # (an Embedding(sparse=True)'s looked-up rows: embedding_grad.py)


def new_grad_array(param, g, b, owned):
    """The array of a leaf's first .grad, from its gradient g, as torch's AccumulateGrad lays it
    out: with param's strides when param is non-overlapping and dense (row-major for the usual
    row-major parameter), else row-major. g itself when owned (see autograd._finish_leaf) and
    already so laid out; else a copy, made in that layout (a W used as W.t() gets a gradient
    with strides (1, 3) from its backward: the copy is row-major, so .grad.view(-1) aliases it)."""
    if not isinstance(g, np.ndarray):
        return b.copy(g)   # a numpy scalar (a 0-d sum), or a device array
    strides = getattr(param, "strides", None)
    if strides is None or g.strides == strides or (g.flags.c_contiguous and param.flags.c_contiguous):
        return g if owned else b.copy(g)
    if not param.flags.c_contiguous:
        out = np.empty_like(param, dtype=g.dtype)   # order "K": param's strides when it is dense
        if out.strides == strides:
            np.copyto(out, g)
            return out
        if g.flags.c_contiguous:   # param overlaps or has gaps: row-major, as torch's
            return g if owned else g.copy()
    return np.ascontiguousarray(g)   # g is not row-major here: a copy
