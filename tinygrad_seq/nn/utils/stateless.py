"""torch.nn.utils.stateless: a module run with other tensors in place of its parameters and
buffers (the engine of torch.func.functional_call), and the deprecated functional_call itself.

Tensors are swapped by dotted name straight into the owning module's _parameters / _buffers
(any Tensor is accepted there, as torch's NamedMemberAccessor does: a non-leaf, a batched
slice), other names are set as plain attributes; the originals go back in a finally block."""
import contextlib
import warnings

from tinygrad_seq.tensor import Tensor

__all__ = ["functional_call"]

_MISSING = object()   # a name the module did not have before the swap


def _submodule(module, path, memo):
    """The module at dotted path (memoised per call), with torch's errors."""
    if not path:
        return module
    if path in memo:
        return memo[path]
    prefix, dot, attr = path.rpartition(".")
    parent = _submodule(module, prefix, memo) if dot else module
    try:
        sub = getattr(parent, attr)
    except AttributeError as e:
        raise AttributeError(f"{parent._get_name()} has no attribute `{attr}`") from e
    from tinygrad_seq.nn.module import Module
    if not isinstance(sub, Module):
        raise TypeError(f"submodule `{path}`: {sub} is not an instance of torch.nn.Module")
    memo[path] = sub
    return sub


def _swap_tensor(module, name, tensor):
    """Put tensor (or _MISSING: remove) at module.name; returns what was there (_MISSING if
    nothing)."""
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    for store in (module._parameters, module._buffers):
        if name in store:
            orig = store[name]
            if tensor is _MISSING:
                del store[name]
            else:
                store[name] = tensor
            return orig
    orig = getattr(module, name) if hasattr(module, name) else _MISSING
    if orig is not _MISSING and orig is not None and not isinstance(orig, Tensor):
        raise TypeError(f"attribute `{name}`: {orig} is not an instance of torch.Tensor")
    if tensor is not _MISSING:
        setattr(module, name, tensor)
    elif hasattr(module, name):
        delattr(module, name)
    return orig


def _swap_all(module, named_tensors, memo):
    """Swap each dotted name in; on an error midway the ones done are swapped back."""
    originals = {}
    try:
        for name, tensor in named_tensors.items():
            prefix, _, attr = name.rpartition(".")
            originals[name] = _swap_tensor(_submodule(module, prefix, memo), attr, tensor)
    except Exception:
        _swap_back(module, originals, memo)
        raise
    return originals


def _swap_back(module, originals, memo):
    """Put the originals back; returns what was in place (the tensors a forward may have set)."""
    now = {}
    for name, orig in originals.items():
        prefix, _, attr = name.rpartition(".")
        now[name] = _swap_tensor(_submodule(module, prefix, memo), attr, orig)
    return now


def _untie_named_tensors_map(module, parameters_and_buffers):
    """parameters_and_buffers with each given tensor also under the names tied to it in module
    (one tensor registered under several names); two different values for one tied tensor raise."""
    all_named = dict(module.named_parameters(remove_duplicate=False))
    all_named.update(module.named_buffers(remove_duplicate=False))
    names_of = {}
    for name, t in all_named.items():
        names_of.setdefault(id(t), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    given_tied = [name for name in parameters_and_buffers if name in tied]
    for name in given_tied:
        names = tied[name]
        if len(names.intersection(given_tied)) > 1 and \
                len({id(parameters_and_buffers[n]) for n in names if n in parameters_and_buffers}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, which are tied. "
                             f"Consider using tie_weights=False")
    untied = dict(parameters_and_buffers)
    for name in given_tied:
        for other in tied[name]:
            untied[other] = parameters_and_buffers[name]
    return untied


def _check_keys(module, names):
    valid = {n for n, _ in module.named_parameters(remove_duplicate=False)}
    valid |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
    names = set(names)
    return sorted(valid - names), sorted(names - valid)


@contextlib.contextmanager
def _reparametrize_module(module, parameters_and_buffers, tie_weights=False, strict=False):
    """Inside the block module uses parameters_and_buffers in place of its own tensors. A forward
    that sets one of them (self.running_mean = ...) leaves the new tensor in the given dict."""
    named = _untie_named_tensors_map(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        missing, unexpected = _check_keys(module, named)
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(module._get_name(),
                                                                              "\n\t".join(msgs)))
    memo, originals = {}, {}
    try:
        originals = _swap_all(module, named, memo)
        yield
    finally:
        now = _swap_back(module, originals, memo)
        parameters_and_buffers.update({k: now[k] for k in parameters_and_buffers if k in now})


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    kwargs = {} if kwargs is None else kwargs
    args = () if args is None else (args if isinstance(args, tuple) else (args,))
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights, strict=strict):
        return module(*args, **kwargs)


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """torch.nn.utils.stateless.functional_call (deprecated since torch 2.0, with torch's
    FutureWarning): torch.func.functional_call for one dict."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed in "
                  "a future version of PyTorch. Please use `torch.func.functional_call` instead which is a drop-in "
                  "replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
