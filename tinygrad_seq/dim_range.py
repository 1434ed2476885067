"""torch's check of one dim argument: a dim outside [-ndim, ndim) raises IndexError (never wrapped
by dim % ndim, which turned dim=2 of a matrix into dim 0). A 0-d tensor has one implicit dim, named
0 or -1, as in torch."""


def wrap_dim(dim, ndim):
    """dim as an index in [0, max(ndim, 1)); torch's IndexError when it is out of range."""
    bound = ndim if ndim else 1
    if not -bound <= dim < bound:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], "
                         f"but got {dim})")
    return dim % bound
