"""Whether the array a node's backward returned can become a leaf's .grad without a copy
(autograd._sweep asks, for the Functions marked fresh_grads)."""


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
