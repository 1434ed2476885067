"""The machinery of torch.nn.utils.prune (the methods and functions users call are in prune.py):
BasePruningMethod, which reparametrizes module.<name> as <name>_orig (a Parameter, the same
object the module held) times <name>_mask (a buffer) and recomputes module.<name> (a plain
attribute) in a forward pre-hook before every call; PruningContainer, which combines a new
method's mask with the masks of earlier ones on the same tensor; and the rules for `amount`
(an int: that many units; a float in [0, 1]: that fraction of them, rounded), with torch's
errors and messages.
"""
import numbers
from abc import ABC, abstractmethod

from tinygrad_seq.creation import ones_like
from tinygrad_seq.torch_names import contiguous_format

__all__ = ["BasePruningMethod", "PruningContainer"]

PRUNING_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_call_hook_ids")


def drop_forward_pre_hook(module, hook_id):
    """Takes the forward pre-hook hook_id off module (torch's `del module._forward_pre_hooks[k]`),
    with its id from the flag dicts, so an unhooked module goes back to the hook-free call path."""
    for store in PRUNING_HOOK_DICTS:
        module.__dict__[store].pop(hook_id, None)


def pruning_hooks(module, name):
    """[(hook id, method)] of the pruning methods acting on module.<name>."""
    return [(k, hook) for k, hook in module._forward_pre_hooks.items()
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]


class BasePruningMethod(ABC):
    """A pruning technique: subclasses define PRUNING_TYPE ("unstructured", "structured" with a
    `dim` attribute, or "global") and compute_mask(t, default_mask). An applied method remembers
    the tensor's name in _tensor_name and is the module's forward pre-hook."""
    _tensor_name: str

    def __call__(self, module, inputs):
        """The forward pre-hook: module.<name> = <name>_mask * <name>_orig, so the forward reads
        the pruned tensor and gradients reach <name>_orig through the product."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The mask for t (same shape), built on default_mask (ones when t was not pruned yet):
        entries default_mask zeroed stay zero."""

    def apply_mask(self, module):
        """<name>_mask (in <name>_orig's dtype) * <name>_orig of module."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prunes module.<name> with cls(*args, **kwargs): the first time, the parameter moves to
        <name>_orig; a second method on the same tensor joins the first in a PruningContainer,
        whose mask starts from the current <name>_mask. importance_scores (the shape of the
        tensor) rank the entries in place of the tensor's values. If the mask cannot be made,
        the module is put back as it was. Returns the method (or the container)."""
        method = _combined_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if importance_scores.shape != orig.shape:
                raise AssertionError(f"importance_scores should have the same shape as parameter {name} of "
                                     f"{module}, got {_size(importance_scores)} vs {_size(orig)}")
        else:
            importance_scores = orig
        first_time = not isinstance(method, PruningContainer)
        if first_time:   # the same Parameter object, renamed: optimizers holding it keep working
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone(memory_format=contiguous_format)
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first_time:   # roll back: the parameter under its own name again
                orig = getattr(module, name + "_orig")
                module.register_parameter(name, orig)
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """t times its mask (compute_mask of importance_scores, or of t when they are None, on
        default_mask, ones when None)."""
        if importance_scores is not None:
            if importance_scores.shape != t.shape:
                raise AssertionError("importance_scores should have the same shape as tensor t, "
                                     f"got {_size(importance_scores)} vs {_size(t)}")
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module):
        """Makes the pruning permanent: module.<name> becomes the Parameter <name>_orig held,
        now holding the pruned values; <name>_orig and <name>_mask are removed. (The caller,
        prune.remove, takes the hook off.)"""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be removed")
        pruned = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = pruned.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


def _combined_method(cls, module, name, *args, **kwargs):
    """cls(*args, **kwargs) acting on name; when a method already prunes module.<name>, its hook
    comes off and the result is a PruningContainer of the old method(s) and the new one. The new
    method is made first, so an invalid amount leaves the module's pruning as it was."""
    old = pruning_hooks(module, name)
    if len(old) > 1:
        raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} of module {module}. "
                             "Use a PruningContainer.")
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if not old:
        return method
    hook_id, old_method = old[0]
    drop_forward_pre_hook(module, hook_id)
    if isinstance(old_method, PruningContainer):
        old_method.add_pruning_method(method)
        return old_method
    container = PruningContainer(old_method)
    container.add_pruning_method(method)
    return container


class PruningContainer(BasePruningMethod):
    """The pruning methods applied, in order, to one tensor (iterative pruning). Built from one
    method (taking its tensor name) or none (set _tensor_name before adding); its compute_mask
    applies the newest method to the part of the tensor earlier masks left."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method):
        """Appends method (a BasePruningMethod acting on this container's tensor)."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' "
                             f"to PruningContainer {self}. Found '{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        """default_mask (in t's dtype) with the newest method's mask written over the part it
        acts on: unstructured, the entries still 1 (a 1-D selection); structured, the channels
        along method.dim not yet all zero; global, the whole tensor."""
        method = self._pruning_methods[-1]
        new_mask = default_mask.to(dtype=t.dtype)
        part = _unpruned_part(method, t, default_mask)
        partial = method.compute_mask(t[part], default_mask=default_mask[part])
        new_mask[part] = partial.to(dtype=new_mask.dtype)
        return new_mask


def _unpruned_part(method, t, mask):
    """The index of t that method's new mask is computed on (see PruningContainer.compute_mask)."""
    kind = method.PRUNING_TYPE
    if kind == "unstructured":
        return mask == 1
    if kind == "structured":
        if not hasattr(method, "dim"):
            raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have the attribute '
                                 "`dim` defined.")
        n_dims = t.dim()
        dim = method.dim + n_dims if method.dim < 0 else method.dim
        if dim < 0:
            raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
        # a channel is kept when some entry of it is still unmasked: [C] bools along dim
        kept_channels = mask.sum(dim=[d for d in range(n_dims) if d != dim]) != 0
        return tuple(kept_channels if d == dim else slice(None) for d in range(n_dims))
    if kind == "global":
        return tuple(slice(None) for _ in t.shape)
    raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")


def _size(t):
    """t's shape as torch prints it in messages (torch.Size([...]))."""
    return t.size()


# ---------------------------------------------------------------- amount: how many units to prune
def _validate_pruning_amount_init(amount):
    """amount must be a real number: a non-negative int, or a float in [0, 1]."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if isinstance(amount, numbers.Integral):
        bad = amount < 0
    else:
        bad = float(amount) > 1.0 or float(amount) < 0.0
    if bad:
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _validate_pruning_amount(amount, tensor_size):
    """An int amount may not exceed the units there are (a float never does)."""
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={tensor_size}")


def _compute_nparams_toprune(amount, tensor_size):
    """The number of units to prune: an int amount as it is, a float one round(amount * size)
    (Python's round: halves to even, as torch's)."""
    if isinstance(amount, numbers.Integral):
        return amount
    return round(amount * tensor_size)


def _validate_structured_pruning(t):
    """Channels need a tensor of two or more dimensions."""
    if len(t.shape) <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. Found tensor of "
                         f"shape {_size(t)} with {len(t.shape)} dims")


def _validate_pruning_dim(t, dim):
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {_size(t)}")


def _compute_norm(t, n, dim):
    """[t.shape[dim]] the n-norm (any p of torch.norm) of each channel along dim, over every
    other axis."""
    axes = list(range(t.dim()))
    axes.remove(axes[dim])
    return t.norm(p=n, dim=axes)
