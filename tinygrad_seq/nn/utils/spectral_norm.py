"""torch.nn.utils.spectral_norm / remove_spectral_norm: the older, hook-based spectral
normalisation (Miyato et al. 2018), W = W_orig / sigma(W_orig), sigma estimated by power
iteration. Keys as torch's: parameter weight_orig, buffers weight_u [h] and weight_v [w] (W
viewed as the matrix [h = size of dim, w = the rest]); weight itself is a plain attribute a
forward pre-hook recomputes (one power iteration step per call in training, none in eval).
"""
import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.nn.lazy_parameter import UninitializedParameter
from tinygrad_seq.nn.parameter import Parameter
from tinygrad_seq.nn.utils.weight_norm import remove_hook

__all__ = ["SpectralNorm", "SpectralNormLoadStateDictPreHook", "SpectralNormStateDictHook", "spectral_norm",
           "remove_spectral_norm"]


def reshape_weight_to_matrix(weight, dim):
    """weight as the matrix [size of dim, product of the other sizes] (dim moved to the front)."""
    if dim != 0:
        weight = weight.permute(dim, *[d for d in range(weight.ndim) if d != dim])
    return weight.reshape(weight.shape[0], -1)


def default_dim(module):
    """torch's: 1 for a transposed convolution (its weight is [in, out, ...]), else 0."""
    from tinygrad_seq import nn
    transposed = tuple(c for c in (getattr(nn, n, None) for n in ("ConvTranspose1d", "ConvTranspose2d",
                                                                   "ConvTranspose3d")) if c is not None)
    return 1 if transposed and isinstance(module, transposed) else 0


class SpectralNorm:
    """The forward pre-hook: module.<name> = W_orig / (u . W_orig v)."""
    _version = 1

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name, self.dim = name, dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.n_power_iterations, self.eps = n_power_iterations, eps

    def reshape_weight_to_matrix(self, weight):
        return reshape_weight_to_matrix(weight, self.dim)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():   # u and v are updated in place (the buffers keep their identity)
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(weight_mat.t().mv(u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(weight_mat.mv(v), dim=0, eps=self.eps))
            u, v = u.clone(), v.clone()   # a later in-place update must not touch this graph's copies
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    def _solve_v_and_rescale(self, weight_mat, u, target_sigma):
        """A v with u = normalize(W v) and u . W v = target_sigma (pinv: W^T W may be singular);
        arrays in, array out."""
        v = np.linalg.pinv(weight_mat.T @ weight_mat) @ weight_mat.T @ u
        return v * (target_sigma / (u @ (weight_mat @ v)))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        if name not in module._parameters:
            raise KeyError(name)   # torch's module._parameters[name]
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `SpectralNorm` can't have uninitialized parameters. "
                             "Make sure to run the dummy forward before applying spectral normalization")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.detach())   # a plain attribute until the first forward
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        module._register_state_dict_hook(SpectralNormStateDictHook(fn))
        module._register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(fn))
        return fn


class SpectralNormLoadStateDictPreHook:
    """Loads a state dict saved before version 1 (with `weight`, without `weight_v`): v is
    solved from weight_orig, u and sigma = mean(weight_orig / weight), as torch's."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is not None and version >= 1:
            return
        weight_key = prefix + fn.name
        if version is None and all(weight_key + s in state_dict for s in ("_orig", "_u", "_v")) \
                and weight_key not in state_dict:
            return   # a current state dict without its metadata
        missing = [weight_key + s for s in ("_orig", "", "_u") if weight_key + s not in state_dict]
        if missing:
            if strict:
                missing_keys.extend(missing)
            return
        weight_orig = _host(state_dict[weight_key + "_orig"])
        weight = _host(state_dict.pop(weight_key))
        sigma = (weight_orig / weight).mean()
        weight_mat = _host(fn.reshape_weight_to_matrix(Tensor(weight_orig)))
        v = fn._solve_v_and_rescale(weight_mat, _host(state_dict[weight_key + "_u"]), sigma)
        state_dict[weight_key + "_v"] = v.astype(weight_orig.dtype)


def _host(value):
    """A state-dict value (Tensor, numpy array, torch tensor) as a numpy array."""
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


class SpectralNormStateDictHook:
    """Records the format version in the state dict's metadata (spectral_norm.<name>.version)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata):
        local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in local_metadata["spectral_norm"]:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        local_metadata["spectral_norm"][key] = self.fn._version


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Replaces module.<name> by W_orig / sigma before every forward, sigma from
    n_power_iterations steps of power iteration per training call (u, v kept as buffers
    <name>_u, <name>_v), as torch's. dim: the output axis (default 0, 1 for ConvTranspose).
    Returns module."""
    SpectralNorm.apply(module, name, n_power_iterations, default_dim(module) if dim is None else dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undoes spectral_norm: module.<name> becomes a Parameter holding W_orig / sigma (no
    power iteration step), and the state-dict hooks go."""
    hook = remove_hook(module, SpectralNorm, name)
    if hook is None:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    hook.remove(module)
    for store, hook_class in (("_state_dict_hooks", SpectralNormStateDictHook),
                              ("_load_state_dict_pre_hooks", SpectralNormLoadStateDictPreHook)):
        hooks = getattr(module, store)
        for k, h in list(hooks.items()):
            if isinstance(h, hook_class) and h.fn.name == name:
                del hooks[k]
                break
    return module
