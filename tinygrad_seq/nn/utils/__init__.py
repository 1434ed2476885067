"""nn.utils: gradient clipping, PyTorch's clip_grad_norm_ and clip_grad_value_ (and nn.utils.rnn:
PackedSequence and its helpers).

The work runs on the gradients' raw arrays through their device backend, outside the graph, so
it works for "cuda" tensors without copying gradients to the host."""
import math

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm(B, g, norm_type):
    """||g||_p of one array, as a 0-d array on g's device."""
    a = B.abs(g)
    if norm_type == math.inf:
        return B.max(a)
    if norm_type == -math.inf:
        return B.neg(B.max(B.neg(a)))
    if norm_type == 0:
        return B.sum(B.astype(B.ne(g, 0), g.dtype))
    if norm_type == 1:
        return B.sum(a)
    if norm_type == 2:
        if isinstance(g, np.ndarray) and g.flags.c_contiguous:
            v = g.reshape(-1)                     # BLAS dot: no squared copy of the gradient
            return np.sqrt(np.asarray(np.dot(v, v)))
        return B.sqrt(B.sum(B.mul(g, g)))
    return B.power(B.sum(B.power(a, norm_type)), 1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients in place so their joint norm is at most max_norm.

    total_norm = || (||g_1||, ..., ||g_n||) ||_p; every gradient is multiplied by
    min(1, max_norm / (total_norm + 1e-6)). Returns total_norm (before clipping) as a 0-d Tensor.
    """
    norm_type = float(norm_type)
    grads = _grads(parameters)
    if not grads:
        return Tensor(0.0)
    dev = grads[0].device
    if any(g.device != dev for g in grads):
        raise RuntimeError("clip_grad_norm_: all gradients must be on one device")
    B = _device.backend(dev)
    norms = B.concatenate([B.reshape(_norm(B, g.array, norm_type), (1,)) for g in grads], 0)
    total = B.reshape(_norm(B, norms, norm_type), ())
    if error_if_nonfinite:
        t = float(B.to_host(total))
        if math.isnan(t) or math.isinf(t):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                               "non-finite, so it cannot be clipped. To disable this error and scale the "
                               "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = B.minimum(B.div(float(max_norm), B.add(total, 1e-6)), 1.0)
    for g in grads:
        B.imul(g.array, B.astype(coef, g.dtype))
        g._version += 1
    return Tensor._wrap(total, dev)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        B = _device.backend(g.device)
        B.copy_into(g.array, B.clip(g.array, -clip_value, clip_value))
        g._version += 1
def parameters_to_vector(parameters):
    """One 1-D tensor of every parameter's values, in order (differentiable)."""
    from tinygrad_seq.functions import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Write consecutive slices of the 1-D vec into the parameters' data, in order."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"expected a 1-D Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    need = sum(p.numel() for p in params)
    if vec.numel() != need:
        raise ValueError(f"vector_to_parameters: vec has {vec.numel()} elements, the parameters {need}")
    start = 0
    for p in params:
        n = p.numel()
        p.data = vec[start:start + n].reshape(p.shape).detach().clone()
        start += n


from tinygrad_seq.nn.utils import rnn  # noqa: E402,F401


def __getattr__(name):
    """A torch name this module lacks: an AttributeError that says so (tinygrad_seq.missing)."""
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.nn.utils", "tinygrad_seq.nn.utils", name)
