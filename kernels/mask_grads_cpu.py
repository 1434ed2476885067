"""Masked gradients: g where a mask keeps it, else 0, in one branch-free pass.

torch's masking backwards (relu's threshold_backward, clamp, maximum) select; g * mask would turn
an inf or nan of g at a dropped place into nan (inf * 0). numpy's where selects but branches on
each element: about 70 us against 6 us here for a random [64, 256] float32 mask.
"""
from .cache_load import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def zero_where_into(drop, g, out):
    """out[N] = 0 where drop[N] (bool) else g[N]; all three 1-D and contiguous."""
    for i in range(out.shape[0]):
        out[i] = 0 if drop[i] else g[i]
