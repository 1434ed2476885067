"""torch's TypeErrors for a non-Tensor where a native op takes a Tensor (a list, a numpy array, a
tuple an LSTM returned, a PackedSequence): each check is one isinstance test, run only on the
paths that would otherwise read .ndim / .shape of the wrong object, or after such a test failed.
(autograd._Tensor is read at call time: tinygrad_seq.tensor sets it after this module loads.)"""
from tinygrad_seq import autograd


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


def require_tensor_argument(x, op, argument, position):
    if not isinstance(x, autograd._Tensor):
        raise not_a_tensor(op, argument, position, x)


def require_tensor_sequence(tensors, op):
    """cat / stack / pad_sequence's argument, a sequence (or an iterable) of Tensors, as a list. A
    Tensor itself (ts.cat(a, b) for ts.cat([a, b])) and an element that is not a Tensor raise
    torch's TypeErrors."""
    if isinstance(tensors, autograd._Tensor):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, autograd._Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {python_type_name(t)}")
    return tensors


def require_loss_target(target, op):
    """A pointwise loss's target (mse_loss, l1_loss, the binary cross-entropies, ...): torch reads
    target.size() in Python before any native call, so a list or a number raises AttributeError
    and a numpy array (whose .size is an int) a TypeError; here with a message naming the
    argument. op: the functional's name."""
    if isinstance(target, autograd._Tensor):
        return
    what = f"{op}(): argument 'target' (position 2) must be Tensor, not {python_type_name(target)}"
    if hasattr(target, "size"):   # numpy's array: torch's "'int' object is not callable"
        raise TypeError(what)
    raise AttributeError(f"'{type(target).__name__}' object has no attribute 'size' ({what})")
