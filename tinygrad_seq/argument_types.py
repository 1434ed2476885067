"""torch's TypeErrors for a non-Tensor where a native op takes a Tensor (a list, a numpy array, a
tuple an LSTM returned, a PackedSequence), and the AttributeErrors of its Python losses: each check is one isinstance test, run only on the
paths that would otherwise read .ndim / .shape of the wrong object, or after such a test failed.
(autograd._Tensor is read at call time: tinygrad_seq.tensor sets it after this module loads.)"""
import numbers

from tinygrad_seq import autograd
from tinygrad_seq.state_array import StateArray, state_value_tensor


def python_type_name(x):
    """The name torch's argument parser gives x's type: 'list', 'numpy.ndarray', 'PackedSequence'
    (builtins and tinygrad_seq's own classes unqualified, other modules' classes qualified)."""
    cls = type(x)
    module = cls.__module__
    if module == "builtins" or module.startswith("tinygrad_seq"):
        return cls.__qualname__
    return f"{module.split('.')[0]}.{cls.__qualname__}"


def not_a_tensor(op, argument, position, x):
    """The TypeError torch's parser raises: "linear(): argument 'input' (position 1) must be
    Tensor, not tuple"."""
    return TypeError(f"{op}(): argument '{argument}' (position {position}) must be Tensor, "
                     f"not {python_type_name(x)}")


def is_tensor(obj):
    """torch.is_tensor; a state-dict value (a StateArray: torch's are tensors) counts as one."""
    return isinstance(obj, (autograd._Tensor, StateArray))


def as_tensor_argument(x, op, argument="input", position=1):
    """x where torch takes a Tensor: a Tensor as it is, a state-dict value as a tensor over its
    memory (torch's is a tensor), anything else torch's TypeError naming op and the argument."""
    if isinstance(x, autograd._Tensor):
        return x
    if isinstance(x, StateArray):
        return state_value_tensor(x)
    raise not_a_tensor(op, argument, position, x)


def require_tensor_argument(x, op, argument, position):
    if not isinstance(x, autograd._Tensor):
        raise not_a_tensor(op, argument, position, x)


def require_tensor_sequence(tensors, op, position=1, argument="tensors"):
    """cat / stack / lstm_cell's hx: a list or tuple of Tensors, as a list. Anything else (a
    Tensor itself: ts.cat(a, b) for ts.cat([a, b]); a generator, dict.values()) and an element
    that is not a Tensor raise torch's TypeErrors."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument '{argument}' (position {position}) must be tuple of Tensors, "
                        f"not {python_type_name(tensors)}")
    T = autograd._Tensor
    for t in tensors:   # the common case: all Tensors already (one isinstance each)
        if not isinstance(t, T):
            break
    else:
        return list(tensors)
    out = list(tensors)
    for i, t in enumerate(tensors):
        if not is_tensor(t):
            raise TypeError(f"expected Tensor as element {i} in argument {position - 1}, but got "
                            f"{python_type_name(t)}")
        out[i] = as_tensor_argument(t, op)   # a state-dict value as a tensor (averaged checkpoints)
    return out


def require_tensor_method(x, method, op, argument, position):
    """torch's AttributeError where its Python code calls a Tensor method on x before any native
    call (margin_ranking_loss reads target.dim(): "'float' object has no attribute 'dim'"), with
    the argument named after it."""
    if not isinstance(x, autograd._Tensor):
        raise AttributeError(f"'{python_type_name(x)}' object has no attribute '{method}' ({op}(): argument "
                             f"'{argument}' (position {position}) must be Tensor, not {python_type_name(x)})")


def require_tensor_or_number(x, op, argument, position):
    """A TypeError for x other than a Tensor or a Python number where torch's Python formula takes
    either (multilabel_soft_margin_loss's target, gaussian_nll_loss's var): torch fails on a list
    or a numpy array inside the arithmetic; this names the argument."""
    if not isinstance(x, (autograd._Tensor, numbers.Number)):
        raise TypeError(f"{op}(): argument '{argument}' (position {position}) must be Tensor or a number, "
                        f"not {python_type_name(x)}")


def require_loss_target(target, op):
    """A pointwise loss's target (mse_loss, l1_loss, the binary cross-entropies, ...): torch reads
    target.size() in Python before any native call, so a list or a number raises AttributeError
    and a numpy array (whose .size is an int) a TypeError; here with a message naming the
    argument. op: the functional's name."""
    if isinstance(target, autograd._Tensor):
        return
    if hasattr(target, "size"):   # numpy's array: torch's "'int' object is not callable"
        raise not_a_tensor(op, "target", 2, target)
    require_tensor_method(target, "size", op, "target", 2)
