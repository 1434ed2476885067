"""torch's randperm swaps compiled (Fisher-Yates over picks drawn beforehand): a permutation of a
million rows takes milliseconds where the interpreter's loop takes half a second. The draws come
from tinygrad_seq/torch_stream.py; this module only applies them, in torch's order."""

from .cache_load import njit
from .compile_notice import announce


@njit(cache=True)
def _swap_in_order(perm, picks):
    """perm[i] <-> perm[i + picks[i]] for i = 0 .. len(picks) - 1 (perm: int64 [n], picks: int64 [n-1])."""
    for i in range(picks.shape[0]):
        j = i + picks[i]
        kept = perm[i]
        perm[i] = perm[j]
        perm[j] = kept


@njit(cache=True)
def _inside_out(perm, picks):
    """perm[i] = perm[z]; perm[z] = i for i = 0 .. n - 1, z = picks[i] <= i (perm, picks: int64 [n];
    torch's randperm from n = (2^32 - 1) // 20 on: the Fisher-Yates variant that needs no
    initialised array)."""
    for i in range(picks.shape[0]):
        z = picks[i]
        perm[i] = perm[z]
        perm[z] = i


def inside_out(perm, picks):
    """Fill perm (int64 [n]) with torch's large-n permutation for picks; returns perm."""
    announce("the permutation kernel", perm.dtype, (_inside_out,))
    _inside_out(perm, picks)
    return perm


def fisher_yates(perm, picks):
    """Apply the swaps to perm in place; returns perm."""
    announce("the permutation kernel", perm.dtype, (_swap_in_order,))
    _swap_in_order(perm, picks)
    return perm
