"""torch.var_mean / torch.std_mean: a tensor's variance (or standard deviation) and mean along
dim in one call, differentiable through both results (compositions of Tensor.var / .mean, so
autograd sums the two gradients). torch has them as free functions only (no Tensor method)."""
import os
import sys
import warnings

import numpy as np

from tinygrad_seq.dim_alias import dim_from_axis
from tinygrad_seq.grad_fn_names import named

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def warn_no_dof(op):
    """torch's warning for a var / std with no degrees of freedom left, pointing at the caller's
    line outside the library (whichever of var, std, var_mean, std_mean it called)."""
    frame, level = sys._getframe(1), 2   # stacklevel 1 is this function, 2 its caller
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                  "factor (input numel divided by output numel).", stacklevel=level)


def _moments(name, input, dim, unbiased, keepdim, correction, axis):
    """(var or std, mean): the overloads torch takes: (input, unbiased: bool), (input, dim,
    unbiased, keepdim) and (input, dim, *, correction, keepdim); dim= or numpy's axis=."""
    if axis is not None:
        dim = dim_from_axis(dim, axis, name)
    if isinstance(dim, bool):   # var_mean(x, True): the legacy (input, unbiased) overload
        if unbiased is not None:
            raise TypeError(f"{name}(): unbiased given twice (as the second argument {dim} and as unbiased=)")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}(): pass unbiased= or correction=, not both")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name} only support floating point and complex dtypes, got {input.dtype}")
    if correction is None:
        correction = 0 if unbiased is False else 1
    if isinstance(dim, list):
        dim = tuple(dim)
    spread = input._variance(name[:3], dim, None, keepdim, correction, None, name)
    # the mean as sum / count through a division that saves its operands: torch's VarMeanBackward0
    # saves the input, so a second backward through either output raises, as there
    half = input.dtype == np.float16   # summed in float32, as mean's (a float16 sum past 65504 is inf)
    total = (input.float() if half else input).sum(dim, keepdim=keepdim)
    n = input.numel() // max(total.numel(), 1)
    node = name[:3].capitalize() + "MeanBackward0"   # torch's one node for both outputs
    return named(spread, node), named((total / n).half() if half else total / n, node)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """(var, mean) of input along dim (every element when None); correction (default 1, Bessel's)
    is subtracted from the count, unbiased=False means correction=0, as torch's."""
    return _moments("var_mean", input, dim, unbiased, keepdim, correction, axis)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """(std, mean) of input along dim, as var_mean with the variance's square root."""
    return _moments("std_mean", input, dim, unbiased, keepdim, correction, axis)
