"""torch.linalg functions written as Tensor compositions (householder_product's reflectors,
matrix_exp's scaled Taylor polynomial), so autograd gives their gradients."""
import numpy as np

from tinygrad_seq.linalg_norms import check_float
from tinygrad_seq.out_param import takes_out
from tinygrad_seq.tensor import Tensor


@takes_out(same_dtype=True)
def householder_product(A, tau):
    """The first N columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i: column i of A below the
    diagonal with a 1 on it (LAPACK's orgqr; A [..., M, N], tau [..., k], k <= N <= M). A Tensor
    composition, one reflector at a time, so autograd gives the gradients into A and tau."""
    name = "torch.linalg.householder_product"
    check_float(name, A)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal to "
                           f"{tau.ndim} and input.ndim is equal to {A.ndim}")
    k = tau.shape[-1]
    if n < k:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
                           f"{list(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{name}: tau dtype {tau.dtype} does not match input dtype {A.dtype}")
    from tinygrad_seq.creation import eye
    identity = eye(m, n, dtype=A.dtype).to(A.device)
    reflectors = A.tril(-1) + identity                     # [..., M, N]: v_i in column i
    q = identity.expand(*A.shape)
    for i in range(k - 1, -1, -1):                         # Q = H_1 (H_2 (... (H_k E)))
        v = reflectors[..., :, i:i + 1]                    # [..., M, 1]
        q = q - tau[..., i:i + 1, None] * (v @ (v.mT @ q))
    return q


@takes_out(same_dtype=True)
def matrix_exp(A):
    """exp(A) for square matrices [..., n, n]: each matrix scaled by 2^-s to a 1-norm <= 1/4 (s its
    own), the Taylor polynomial of degree 14 (remainder below 1e-21) by Horner's rule, then
    squared s times (a batch squares each matrix only its own number of times). A Tensor
    composition: the gradient is the polynomial's, which matches exp's to float64 rounding. A
    matrix with an inf or nan gives nan, as torch's."""
    if isinstance(A, Tensor):   # torch's order: the shape, then the dtype
        if A.ndim < 2:
            raise RuntimeError("linalg.matrix_exp: The input tensor A must have at least 2 dimensions.")
        if A.shape[-1] != A.shape[-2]:
            raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, but they are "
                               f"{A.shape[-2]} by {A.shape[-1]} matrices")
    check_float("linalg.matrix_exp", A, argument="input")
    n = A.shape[-1]
    from tinygrad_seq.creation import eye
    from tinygrad_seq.functions import where
    norms = np.abs(A.detach().numpy()).sum(axis=-2).max(axis=-1, initial=0.0)   # [...]: 1-norms
    finite = np.isfinite(norms)
    safe = np.where(finite & (norms > 0.25), norms, 0.25)
    squarings = np.ceil(np.log2(safe / 0.25)).astype(np.int64)   # [...]
    scale = Tensor._wrap(np.ldexp(1.0, -squarings).astype(A.dtype)[..., None, None], "cpu").to(A.device)
    B = A * scale
    identity = eye(n, dtype=A.dtype).to(A.device)
    degree = 14
    E = identity + B / degree
    for j in range(degree - 1, 0, -1):
        E = identity + (B @ E) / j
    for k in range(int(squarings.max(initial=0))):
        more = Tensor._wrap((squarings > k)[..., None, None], "cpu").to(A.device)
        E = where(more, E @ E, E)
    if not finite.all():
        E = where(Tensor._wrap(~finite[..., None, None], "cpu").to(A.device), float("nan"), E)
    return E
