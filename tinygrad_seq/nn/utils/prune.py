"""torch.nn.utils.prune: pruning methods and the functions that apply them to a module's tensor.

Pruning module.<name> keeps the Parameter as <name>_orig, registers a buffer <name>_mask (1 where
an entry is kept, 0 where it is pruned) and makes module.<name> a plain tensor, mask * orig,
recomputed by a forward pre-hook before every call (prune_base.py has the machinery). The
state_dict holds <name>_orig and <name>_mask in place of <name>; prune.remove makes the pruning
permanent and puts <name> back as a Parameter. Pruning again combines masks (PruningContainer):
a new method only looks at what earlier ones left.

    prune.l1_unstructured(m, "weight", amount=0.3)    # the 30% smallest |w| (int: that many)
    prune.ln_structured(conv, "weight", amount=2, n=2, dim=0)   # 2 output channels by L2 norm
    prune.global_unstructured([(m1, "weight"), (m2, "weight")], prune.L1Unstructured, amount=10)

Random methods draw from the library's torch-matching stream (rand_like over the entries, rand
over the channels), so after manual_seed they prune what torch's prune would.
"""
from collections.abc import Iterable

from tinygrad_seq.creation import ones_like, rand, rand_like, zeros_like
from tinygrad_seq.nn.utils.convert_parameters import parameters_to_vector
from tinygrad_seq.nn.utils.prune_base import (BasePruningMethod, PruningContainer,  # noqa: F401
                                              _compute_nparams_toprune, _compute_norm, _validate_pruning_amount,
                                              _validate_pruning_amount_init, _validate_pruning_dim,
                                              _validate_structured_pruning, drop_forward_pre_hook, pruning_hooks)
from tinygrad_seq.torch_names import contiguous_format

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
           "l1_unstructured", "random_structured", "ln_structured", "global_unstructured", "custom_from_mask",
           "remove", "is_pruned"]


class Identity(BasePruningMethod):
    """Prunes nothing: the reparametrization with a mask of ones."""
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


def _unstructured_mask(amount, t, default_mask, pruned_indices):
    """default_mask with the entries pruned_indices(k) (flat indices of t) set to 0, k being
    `amount` of t's entries (checked as torch's); k = 0 prunes nothing and draws nothing."""
    size = t.nelement()
    k = _compute_nparams_toprune(amount, size)
    _validate_pruning_amount(k, size)
    mask = default_mask.clone(memory_format=contiguous_format)
    if k != 0:   # (topk of k = 0 entries: nothing to prune)
        mask.view(-1)[pruned_indices(k)] = 0
    return mask


class RandomUnstructured(BasePruningMethod):
    """Prunes `amount` of the (unpruned) entries chosen at random: the k largest of rand_like(t)."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        return _unstructured_mask(self.amount, t, default_mask, lambda k: rand_like(t).view(-1).topk(k).indices)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes `amount` of the (unpruned) entries with the smallest absolute value (exactly that
    many: of equal magnitudes, topk picks which)."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        return _unstructured_mask(self.amount, t, default_mask,
                                  lambda k: t.detach().abs().view(-1).topk(k, largest=False).indices)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channel_mask(t, dim, channels):
    """[t.shape] zeros with ones in the channels along dim (a [C] bool mask or a list of indices)."""
    mask = zeros_like(t)
    mask[tuple(channels if d == dim or d == dim + t.dim() else slice(None) for d in range(t.dim()))] = 1
    return mask


def _structured_count(amount, t, dim):
    """(channels along dim, k of them to prune), after torch's checks of t, dim and amount."""
    _validate_structured_pruning(t)
    _validate_pruning_dim(t, dim)
    channels = t.shape[dim]
    k = _compute_nparams_toprune(amount, channels)
    _validate_pruning_amount(k, channels)
    return channels, k


def _kept_channels_mask(t, dim, kept, default_mask):
    """A mask of t's shape that is 1 on the kept channels along dim, times the mask they had."""
    mask = _channel_mask(t, dim, kept)
    mask *= default_mask.to(dtype=mask.dtype)
    return mask


class RandomStructured(BasePruningMethod):
    """Prunes `amount` of the channels along dim (default -1) at random: those holding the k
    smallest of rand(C), on top of the mask they already have."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        channels, k = _structured_count(self.amount, t, self.dim)
        if k == 0:   # kthvalue needs k >= 1
            return default_mask
        draws = rand(channels)   # [C] on the CPU default stream, as torch's
        kept = draws > draws.kthvalue(k).values
        return _kept_channels_mask(t, self.dim, kept.to(t.device), default_mask)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes `amount` of the channels along dim (default -1) with the smallest n-norm (n: any p
    of torch.norm: int, float, inf, -inf, 'fro', 'nuc'), on top of the mask they already have."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t, default_mask):
        channels, k = _structured_count(self.amount, t, self.dim)
        kept = _compute_norm(t.detach(), self.n, self.dim).topk(channels - k, largest=True).indices
        if k == 0:
            return default_mask
        return _kept_channels_mask(t, self.dim, kept, default_mask)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes with a given mask (any dtype; the shape of the tensor), on top of the current one."""
    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f"default_mask shape {default_mask.size()} must match self.mask shape "
                                 f"{self.mask.size()}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


# ---------------------------------------------------------------- the functions; each returns module
def identity(module, name):
    """Reparametrizes module.<name> with a mask of ones (prunes nothing)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prunes `amount` (int: entries, float: fraction) of module.<name>'s unpruned entries at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prunes `amount` of module.<name>'s unpruned entries with the smallest |value| (or |score|)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prunes `amount` of module.<name>'s unpruned channels along dim at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prunes `amount` of module.<name>'s unpruned channels along dim with the smallest n-norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prunes module.<name> where mask is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prunes the tensors (module, name) in parameters together: pruning_method(**kwargs) (an
    "unstructured" method class, e.g. L1Unstructured with amount=) ranks all their unpruned
    entries as one vector; each tensor then gets its slice of the mask via custom_from_mask.
    importance_scores: a dict {(module, name): scores} used in place of those tensors."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    parameters = list(parameters)   # read three times below (a generator would be spent after one)
    scores = parameters_to_vector([importance_scores.get((module, name), getattr(module, name))
                                   for module, name in parameters])
    # the masks of tensors pruned before, ones for the others
    default_mask = parameters_to_vector([getattr(module, name + "_mask") if hasattr(module, name + "_mask")
                                         else ones_like(getattr(module, name)) for module, name in parameters])
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container = PruningContainer()
    container._tensor_name = method._tensor_name = "temp"
    container.add_pruning_method(method)
    final_mask = container.compute_mask(scores, default_mask)
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        custom_from_mask(module, name, mask=final_mask[start:start + param.numel()].view_as(param))
        start += param.numel()


def remove(module, name):
    """Makes the pruning of module.<name> permanent (a Parameter holding the pruned values) and
    takes the pruning hook off; ValueError when module.<name> is not pruned."""
    for hook_id, method in pruning_hooks(module, name):
        method.remove(module)
        drop_forward_pre_hook(module, hook_id)
        return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module):
    """Whether module or any submodule has a pruning method among its forward pre-hooks."""
    return any(isinstance(hook, BasePruningMethod)
               for _, sub in module.named_modules() for hook in sub._forward_pre_hooks.values())
