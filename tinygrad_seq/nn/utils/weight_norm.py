"""torch.nn.utils.weight_norm / remove_weight_norm: the older, hook-based weight normalisation
(Salimans & Kingma 2016), w = g * v / ||v||, with parameters weight_g and weight_v and a forward
pre-hook that recomputes module.weight before every call (torch deprecates it in favour of
nn.utils.parametrizations.weight_norm). Also norm_except_dim and weight_norm_of, the two
functions both forms compute with (torch.norm_except_dim, torch._weight_norm).
"""
import warnings

from tinygrad_seq.nn.lazy_parameter import UninitializedParameter
from tinygrad_seq.nn.parameter import Parameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def norm_except_dim(v, pow=2, dim=0):
    """torch.norm_except_dim: the pow-norm of v over every axis but dim, kept with size 1 (shape
    (out, 1, ..., 1) for dim=0); dim=-1 means the whole tensor (a 0-d norm), as torch's."""
    if dim == -1:
        return v.norm(pow)
    axis = dim + v.ndim if dim < 0 else dim
    if not 0 <= axis < v.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-v.ndim}, {v.ndim - 1}], "
                         f"but got {dim})")
    if v.ndim == 1:   # no other axis: the norm of each element alone, shape (n,) as torch's
        return v.unsqueeze(-1).norm(pow, -1)
    return v.norm(pow, tuple(d for d in range(v.ndim) if d != axis), keepdim=True)


def weight_norm_of(v, g, dim=0):
    """torch._weight_norm(v, g, dim): v * (g / norm_except_dim(v, 2, dim))."""
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook: sets module.<name> = g * v / ||v|| from <name>_g and <name>_v."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return weight_norm_of(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module, name, dim):
        # attributed to weight_norm's line calling this, as torch's: Python's default filter then
        # shows it once a process, not once for each user line (a TCN's every layer)
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `WeightNorm` can't have uninitialized parameters. "
                             "Make sure to run the dummy forward before applying weight normalization")
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight.detach(), 2, fn.dim)))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))   # a plain attribute, recomputed per call
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Replaces module.<name> by <name>_g (norm_except_dim(w, 2, dim)) and <name>_v (w),
    recomputing w = g * v / ||v|| before every forward, as torch's deprecated weight_norm
    (a FutureWarning says so). dim=None: one norm over the whole tensor. Returns module."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_hook(module, hook_class, name):
    """Takes the forward pre-hook of hook_class on name off module (its hook id from every hook
    dict); the hook, or None when there is none."""
    d = module.__dict__
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, hook_class) and hook.name == name:
            for store in ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_call_hook_ids"):
                d[store].pop(k, None)
            return hook
    return None


def remove_weight_norm(module, name="weight"):
    """Undoes weight_norm: module.<name> becomes a Parameter holding g * v / ||v||."""
    hook = remove_hook(module, WeightNorm, name)
    if hook is None:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    hook.remove(module)
    return module
