"""Gradient clipping, PyTorch's: get_total_norm, clip_grads_with_norm_, clip_grad_norm_ (the two
in one call), clip_grad_value_, and the deprecated clip_grad_norm.

The work runs on the gradients' raw arrays through their device backend, outside the graph, so
it works for "cuda" tensors without copying gradients to the host."""
import math
import types
import warnings

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.tensor import Tensor


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters):
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def _one_device(tensors, name):
    dev = tensors[0].device
    if any(t.device != dev for t in tensors):
        raise RuntimeError(f"{name}: all gradients must be on one device, got "
                           f"{sorted({str(t.device) for t in tensors})}")
    return dev


def _norm(B, g, norm_type):
    """||g||_p of one array, as a 0-d array on g's device (an overflow to inf is silent, as torch's)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _norm_of(B, g, norm_type)


def _norm_of(B, g, norm_type):
    if getattr(g, "dtype", None) == np.float16:   # summed in float32, as torch's (a float16 sum of squares
        return B.astype(_norm_of(B, B.astype(g, np.float32), norm_type), np.float16)   # overflowed past 256)
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


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """|| (||t_1||_p, ..., ||t_n||_p) ||_p of the tensors (usually gradients) as a 0-d Tensor:
    their norm as if concatenated into one vector. No tensors give tensor(0.)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor(0.0)
    dev = _one_device(tensors, "get_total_norm")
    B = _device.backend(dev)
    norms = B.concatenate([B.reshape(_norm(B, t.array, norm_type), (1,)) for t in tensors], 0)
    total = B.reshape(_norm(B, norms, norm_type), ())
    if error_if_nonfinite:
        t = float(B.to_host(total))
        if math.isnan(t) or math.isinf(t):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                               "non-finite, so it cannot be clipped. To disable this error and scale the "
                               "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor._wrap(total, dev)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Multiply every gradient in place by min(1, max_norm / (total_norm + 1e-6)), with a
    total_norm computed beforehand (get_total_norm; after an all-reduce, say). Returns None."""
    grads = _grads(parameters)
    max_norm = float(max_norm)
    if not grads:
        return
    if not isinstance(total_norm, Tensor):
        raise TypeError(f"clip_grads_with_norm_: total_norm must be a Tensor (get_total_norm's), "
                        f"got {type(total_norm).__name__}")
    dev = _one_device(grads, "clip_grads_with_norm_")
    B = _device.backend(dev)
    total = (total_norm if total_norm.device == dev else total_norm.to(dev)).array
    coef = B.minimum(B.div(max_norm, B.add(total, 1e-6)), 1.0)
    # an inf total norm gives coef 0, and inf * 0 a nan gradient, as torch's (silently: numpy
    # would print "invalid value encountered in multiply"; a nan coef multiplies quietly)
    with np.errstate(invalid="ignore"):
        for g in grads:
            B.imul(g.array, B.astype(coef, g.dtype))
            g._version += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients in place so their joint norm is at most max_norm:
    get_total_norm of the gradients, then clip_grads_with_norm_. Returns the total norm (before
    clipping) as a 0-d Tensor."""
    if not isinstance(parameters, Tensor):
        empty_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)              # a generator is read once, used twice
        if empty_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """clip_grad_norm_ under its old name, deprecated (a FutureWarning), as in torch."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        B = _device.backend(g.device)
        B.copy_into(g.array, B.clip(g.array, -clip_value, clip_value))
        g._version += 1
