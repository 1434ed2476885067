"""The LAPACK drivers torch.linalg.lstsq names, for its values: gelsy (QR with column pivoting,
torch's CPU default), gelsd / gelss (SVD) and gels (QR, full rank assumed). They agree on a
full-rank A; on a (nearly) rank-deficient one (an echo state network's states) each finds its own
rank and solution, and torch returns that driver's. linalg.lstsq keeps the pseudo-inverse
composition for the gradient (torch's linalg_lstsq_backward differentiates the pinv too)."""
import numpy as np
from scipy import linalg as sla


def solve(a, b, driver, rtol):
    """(solution [batch.., n, k], rank [A's batch..] int64) of a [.., m, n] x = b [.., m, k], the
    batch dims broadcast."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])   # torch broadcasts A's batch with B's
    m, n = a.shape[-2:]
    k = b.shape[-1]
    aa = np.ascontiguousarray(np.broadcast_to(a, batch + (m, n))).reshape((-1, m, n))
    bb = np.ascontiguousarray(np.broadcast_to(b, batch + (m, k))).reshape((-1, m, k))
    xs = np.empty((aa.shape[0], n, k), a.dtype)
    ranks = np.empty(aa.shape[0], np.int64)
    for i in range(aa.shape[0]):
        xs[i], ranks[i] = _one(aa[i], bb[i], driver, rtol)
    # the rank is A's: one per A matrix (torch's shape is A's batch, not the broadcast one)
    lead = len(batch) - (a.ndim - 2)
    ranks = ranks.reshape(batch)[(0,) * lead + tuple(slice(0, 1) if d == 1 else slice(None) for d in a.shape[:-2])]
    return xs.reshape(batch + (n, k)), ranks.reshape(a.shape[:-2])


def _one(a, b, driver, rtol):
    m, n = a.shape
    if m == 0 or n == 0:
        return np.zeros((n, b.shape[1]), a.dtype), 0
    if driver == "gels":
        gels, = sla.get_lapack_funcs(("gels",), (a, b))
        rows = max(m, n)
        padded = np.zeros((rows, b.shape[1]), a.dtype)
        padded[:m] = b
        _, x, info = gels(a, padded)
        if info > 0:   # LAPACK found a zero diagonal in the triangular factor: torch's error
            from tinygrad_seq.ops_linalg import LinAlgError
            raise LinAlgError(f"torch.linalg.lstsq: The least squares solution could not be computed because the "
                              f"input matrix does not have full rank (error code: {info}).")
        return x[:n], min(m, n)
    x, _, rank, _ = sla.lstsq(a, b, cond=rtol, lapack_driver=driver, check_finite=False)
    return x.astype(a.dtype, copy=False), rank
