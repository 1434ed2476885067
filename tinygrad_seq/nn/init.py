"""nn.init: PyTorch's in-place initialisers. Every draw comes from tinygrad_seq.random, so
ts.manual_seed(s) reproduces them. Host-side numpy is fine here: initialisation is not a hot path."""
import math
import numbers
import warnings

import numpy as np

from tinygrad_seq import random
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.errors import InvalidArgument
from tinygrad_seq.functional_checks import require_float
from tinygrad_seq.tensor import Tensor


def _fill(tensor, host):
    """Copy host values (in logical order) into tensor: for the fills that draw nothing."""
    with no_grad():
        tensor.copy_(np.asarray(host).astype(tensor.dtype))
    return tensor


def _empty_like(tensor):
    """torch.empty_like(tensor) (preserve_format): tensor's strides when it is dense, else dense
    strides in their order; a clone lays itself out so. The draws into it then land in memory
    order where torch's do (a transposed view's redraws, as torch's trunc_normal_)."""
    return tensor.detach().clone()


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity, torch's values and types (the linear ones and
    sigmoid give int 1). leaky_relu's negative slope must be a Python int or float (not a bool)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    """The fan of tensor that mode names ("fan_in" or "fan_out", any case), as torch's private helper
    of that name (which programs such as pytorch-lmu's LeCun initialisation call)."""
    mode = mode.lower()   # torch's: "FAN_OUT" is fan_out
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    require_float(tensor, "check_uniform_bounds")   # torch's: an integer tensor has no uniform kernel
    if a > b:
        raise InvalidArgument(f"uniform_ expects to return a [from, to) range, but found "
                              f"from={float(a):g} > to={float(b):g}")
    with no_grad():   # torch's: the tensor's own uniform_, so a view is filled in memory order
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    if std < 0:
        raise InvalidArgument(f"normal expects std >= 0.0, but found std {float(std):g}")
    require_float(tensor, "normal_kernel_cpu")
    with no_grad():   # torch's: the tensor's own normal_, so a view is filled in memory order
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal(mean, std) truncated to [a, b], torch 2.13's sampler draw for draw: with more than
    0.3 of the mass inside, normal draws redrawn where outside; else uniform proposals on [a, b]
    accepted by a uniform test against the density (each step in the tensor's dtype)."""
    from tinygrad_seq.functions import where
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of "
                      "values may be incorrect.", stacklevel=2)
    if a > b:   # torch's: its uniform proposals on [a, b] refuse the range (a == b gives a's)
        raise InvalidArgument(f"uniform_ expects to return a [from, to) range, but found "
                              f"from={float(a):g} > to={float(b):g}")
    cdf = lambda x: (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0   # noqa: E731
    with no_grad():
        if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
            lo, hi = (float(np.asarray(v, tensor.dtype)) for v in (a, b))
            result = tensor.normal_(mean, std, generator=generator)
            while True:
                outside = (result < lo) | (result > hi)
                if not bool(outside.any()):
                    break
                result = where(outside, _empty_like(result).normal_(mean, std, generator=generator), result)
            return tensor.copy_(result) if result is not tensor else tensor
        log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
        candidates, accept = _empty_like(tensor), _empty_like(tensor)
        tensor.uniform_(a, b, generator=generator)
        candidates.copy_(tensor).sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)   # log pdf - log peak
        pending = accept.uniform_(generator=generator).log_().gt(candidates)
        result = tensor
        while bool(pending.any()):
            candidates.uniform_(a, b, generator=generator)
            result = where(pending, candidates, result)
            candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
            pending = where(pending, accept.uniform_(generator=generator).log_().gt(candidates), pending)
        return tensor.copy_(result) if result is not tensor else tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D tensor of Normal(0, std) with ceil(sparsity * rows) entries of each column zeroed."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    zeros = int(np.ceil(sparsity * rows))
    rng = random.generator(None)   # torch 2.13 takes the row permutations from the global stream
    with no_grad():
        tensor.normal_(0.0, std, generator=generator)   # an integer tensor refused, as torch's
        for c in range(cols):
            tensor[Tensor(rng.permutation(rows)[:zeros]), c] = 0
    return tensor


def constant_(tensor, val):
    """Fill with val: a number or a 0-d tensor (torch's fill_: TypeError for anything else)."""
    if isinstance(val, Tensor) or (hasattr(val, "dim") and hasattr(val, "item")):   # a 0-d tensor, torch's too
        if val.dim() != 0:
            raise InvalidArgument(f"fill_ only supports 0-dimension value tensor but got tensor with "
                                  f"{val.dim()} dimensions.")
        val = val.item()
    elif not isinstance(val, (numbers.Number, np.bool_)):
        kind = type(val).__name__ if type(val).__module__ == "builtins" else \
            f"{type(val).__module__}.{type(val).__name__}"   # torch's: numpy.ndarray, str
        raise TypeError(f"fill_() received an invalid combination of arguments - got ({kind}), "
                        "but expected one of: (Tensor value), (Number value)")
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _zero_element_no_op(tensor):
    """torch's kaiming_*_: a tensor with a 0 in its shape is left as it is, with a warning."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if _zero_element_no_op(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * (calculate_gain(nonlinearity, a) / math.sqrt(fan)) if fan else 0.0   # torch's order
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if _zero_element_no_op(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0, generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal matrix (PyTorch's recipe)."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:   # torch's no-op
        return tensor
    require_float(tensor, "normal_kernel_cpu")   # torch draws into tensor.new_empty, refusing an integer one
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = random.normal((rows, cols), generator, tensor.dtype).astype(np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal of a rectangular one),
    as torch.nn.init.eye_; the IRNN's W_hh (Le, Jaitly and Hinton 2015)."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    return _fill(tensor, np.eye(tensor.shape[0], tensor.shape[1]))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D tensor with the Dirac delta (convolution identity), per group of
    output channels, as torch.nn.init.dirac_."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported, got shape {tensor.shape}")
    if groups < 1 or tensor.shape[0] % groups:
        raise ValueError(f"dim 0 must be divisible by groups: shape {tensor.shape}, groups {groups}")
    out_per_group = tensor.shape[0] // groups
    host = np.zeros(tensor.shape)
    centre = tuple(s // 2 for s in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            host[(g * out_per_group + d, d) + centre] = 1.0
    return _fill(tensor, host)


def _deprecated(new):
    """new_ under its old name (no underscore), warning as torch's aliases do."""
    old = new.__name__[:-1]

    def alias(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"{old}(...): deprecated, as in torch; use nn.init.{new.__name__}."
    return alias


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)


# torch's private fillers under the public ones, imported by name in published code (timm's
# trunc_normal_ wrappers, pytorch-lmu): the same fills
def _no_grad_uniform_(tensor, a, b, generator=None):
    return uniform_(tensor, a, b, generator)


def _no_grad_normal_(tensor, mean, std, generator=None):
    return normal_(tensor, mean, std, generator)


def _no_grad_trunc_normal_(tensor, mean, std, a, b, generator=None):
    return trunc_normal_(tensor, mean, std, a, b, generator)


def _no_grad_fill_(tensor, val):
    return constant_(tensor, val)


def _no_grad_zero_(tensor):
    return zeros_(tensor)


def __getattr__(name):
    """A torch name this module lacks: an AttributeError that says so (tinygrad_seq.missing)."""
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.nn.init", "tinygrad_seq.nn.init", name)
