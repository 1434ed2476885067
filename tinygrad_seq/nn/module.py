"""nn.Module and nn.Parameter: PyTorch's registration, naming, state dicts and repr."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.errors import KeyMismatch, ShapeMismatch
from tinygrad_seq.state_array import state_array
from tinygrad_seq.nn import module_hooks as _hooks


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter; requires grad by default."""
    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            Tensor.__init__(self, data.numpy(), requires_grad=requires_grad, device=data.device)
        else:
            Tensor.__init__(self, data, requires_grad=requires_grad)
        if self.dtype.kind != "f":
            raise TypeError(f"Parameter: needs floating point data, got {self.dtype}")

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)


# torch.nn.Module methods a PyTorch program may call that this Module lacks, with what to do instead
_TORCH_MODULE_METHODS_MISSING = {
    "register_backward_hook": "register_full_backward_hook (torch deprecates this non-full hook, whose "
                              "grad_input is that of the module's last op)",
}


class Module:
    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        # as PyTorch: a name keeps its place (and so its state_dict position) when reassigned,
        # None keeps a parameter/module slot registered but empty, and a plain Tensor assigned to
        # a buffer's name replaces the buffer
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() call")
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            modules.pop(name, None)
            buffers.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in params and (value is None or isinstance(value, Tensor)):
            if value is not None:
                raise TypeError(f"cannot assign a Tensor as parameter {name!r} "
                                "(nn.Parameter or None expected)")
            params[name] = None
        elif name in modules and value is None:
            modules[name] = None
        elif name in buffers and (value is None or isinstance(value, Tensor)):
            buffers[name] = value
        else:
            for d in (params, modules, buffers):
                d.pop(name, None)
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_modules", "_buffers"):
            if store in d and name in d[store]:
                return d[store][name]
        if name in _TORCH_MODULE_METHODS_MISSING:
            raise AttributeError(f"tinygrad_seq does not have torch.nn.Module.{name} yet; instead use "
                                 f"{_TORCH_MODULE_METHODS_MISSING[name]}")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for d in (self._parameters, self._modules, self._buffers):
            if name in d:
                del d[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is None:
            self.__dict__.pop(name, None)
            self._modules.pop(name, None)
            self._buffers.pop(name, None)
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor moved by to(), but not a parameter; saved in state_dict unless persistent=False."""
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        kept_out = self.__dict__.setdefault("_non_persistent", set())
        (kept_out.discard if persistent else kept_out.add)(name)

    def add_module(self, name, module):
        setattr(self, name, module)

    register_module = add_module

    # ------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Pre-order (name, module) pairs; a module reachable twice is listed once unless
        remove_duplicate=False (state dicts list it under every name, as PyTorch does)."""
        if isinstance(memo, str):  # named_modules(prefix) called positionally
            memo, prefix = None, memo
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, m = stack.pop(0)
            if remove_duplicate and id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            stack[0:0] = [((f"{name}.{k}" if name else k), c) for k, c in m._modules.items() if c is not None]

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        """(name, child) pairs, a child registered under two names once (the first), as torch's."""
        seen = set()
        for k, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield k, m

    def children(self):
        return (m for _, m in self.named_children())

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mname, m in mods:
            for k, v in getattr(m, registry).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mname}.{k}" if mname else k), v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    # ------------------------------------------------------------ modes
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = Tensor._wrap(_device.backend(p.device).zeros(p.shape, p.dtype), p.device)

    # ------------------------------------------------------------ devices and dtypes
    def _apply(self, fn):
        """Replace each parameter's and buffer's data by fn(tensor) in place (identity kept)."""
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for k, t in store.items():
                    if t is None:
                        continue
                    new = fn(t)
                    t.array, t.device = new.array, new.device
                    if t.grad is not None:
                        g = fn(t.grad)
                        t.grad = Tensor._wrap(g.array, g.device)
        return self

    def to(self, device=None, dtype=None, non_blocking=False, tensor=None):
        """to(device), to(dtype), to(device, dtype), to(tensor) (its device and dtype), as torch's;
        only floating-point parameters and buffers change dtype."""
        if tensor is None and hasattr(device, "dtype") and hasattr(device, "device") and not isinstance(device, str):
            tensor, device = device, None
        if tensor is not None:
            device, dtype = tensor.device, tensor.dtype
        if isinstance(device, (type, np.dtype)):
            device, dtype = None, device
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={np.dtype(dtype)}")
        if device is not None:
            _device.backend(_device.canonical(device))  # clear error when cuda is missing

        def move(t):
            with no_grad():
                out = t
                if dtype is not None and t.dtype.kind == "f":
                    out = out.to(dtype=dtype)
                if device is not None:
                    out = out.to(device)
                return out
        return self._apply(move)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else device))

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    def half(self):
        return self.to(dtype=np.float16)

    # ------------------------------------------------------------ state
    def _state_entries(self, prefix=""):
        """(key, tensor) of every parameter and persistent buffer, PyTorch's keys and order."""
        for mname, m in self.named_modules(prefix=prefix, remove_duplicate=False):
            kept_out = m.__dict__.get("_non_persistent", ())
            for store in (m._parameters, m._buffers):
                for k, t in store.items():
                    if t is not None and not (store is m._buffers and k in kept_out):
                        yield (f"{mname}.{k}" if mname else k), t

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """OrderedDict name -> numpy copy of every parameter and persistent buffer (PyTorch's
        keys; a StateArray: it also takes clone(), cpu(), size(dim), numel(), as torch's values);
        keep_vars=True gives the Tensors themselves; prefix is put before every key;
        destination (a dict) is filled and returned."""
        if args:   # torch's old positional form state_dict(destination, prefix, keep_vars)
            destination, prefix, keep_vars = (list(args) + [destination, prefix, keep_vars][len(args):])[:3]
        out = OrderedDict() if destination is None else destination
        for k, t in self._state_entries(prefix.rstrip(".") if prefix else ""):
            out[k] = t if keep_vars else state_array(t.numpy())
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy arrays (numpy, array-likes, Tensors, torch tensors) into the parameters.
        Everything is checked before anything is written: a failed load changes nothing.
        assign (torch's: take the given tensors as the parameters) is accepted and copies the
        values as well, so references to the parameters (an optimizer's) stay valid."""
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict for {type(self).__name__}: expected a dict of name -> array "
                            f"(a state_dict()), got {type(state_dict).__name__}")
        own = OrderedDict(self._state_entries())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("missing key(s): " + ", ".join(repr(k) for k in missing))
            if unexpected:
                parts.append("unexpected key(s): " + ", ".join(repr(k) for k in unexpected))
            raise KeyMismatch(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        staged = []
        for k, t in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            if isinstance(v, Tensor):
                v = v.numpy()
            elif not isinstance(v, np.ndarray) and hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch tensor
                v = v.detach().cpu().numpy()
            arr = np.asarray(v)
            if arr.dtype.kind not in "fiub":
                raise TypeError(f"load_state_dict: value for {k!r} is not numeric ({arr.dtype})")
            if tuple(arr.shape) != t.shape:
                raise ShapeMismatch(f"load_state_dict: size mismatch for {k!r}: the checkpoint has shape "
                                 f"{tuple(arr.shape)}, the model has shape {t.shape}")
            staged.append((t, arr.astype(t.dtype)))
        for t, arr in staged:
            t.array = _device.backend(t.device).asarray(np.array(arr, copy=True))
            t._version += 1
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ calling and printing
    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if "_forward_pre_hooks" not in d and "_forward_hooks" not in d and "_backward_hooks" not in d \
                and "_backward_pre_hooks" not in d:
            return self.forward(*args, **kwargs)
        return _hooks.call(self, args, kwargs)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) before every forward; a returned value (a tuple, or one value)
        replaces args. with_kwargs: hook(module, args, kwargs) returns None or (args, kwargs).
        prepend: run before the hooks already registered. Returns a handle whose remove() takes
        the hook off."""
        return _hooks.register(self, "_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) after every forward (with_kwargs: hook(module, args,
        kwargs, output)); a returned value replaces the output. always_call: also run when
        forward raises. Returns a handle whose remove() takes the hook off."""
        return _hooks.register(self, "_forward_hooks", hook, prepend, with_kwargs, always_call)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) when the gradients of the module's outputs are computed;
        a returned tuple replaces grad_output (module_hooks.py)."""
        return _hooks.register(self, "_backward_pre_hooks", hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) when the gradients of the module's positional
        inputs are computed; a returned tuple replaces grad_input (module_hooks.py)."""
        return _hooks.register(self, "_backward_hooks", hook, prepend)

    def apply(self, fn):
        """fn(module) for every submodule (children first) and then this one; returns self, as
        torch's (`model.apply(init_weights)`)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def get_submodule(self, target):
        """The submodule at a dotted path ("encoder.rnn"); "" is this module."""
        m = self
        for part in target.split(".") if target else ():
            if part not in m._modules or m._modules[part] is None:
                raise AttributeError(f"{type(m).__name__} has no submodule {part!r} (path {target!r})")
            m = m._modules[part]
        return m

    def get_parameter(self, target):
        """The parameter at a dotted path ("encoder.rnn.weight_hh_l0")."""
        path, _, name = target.rpartition(".")
        m = self.get_submodule(path)
        if name not in m._parameters or m._parameters[name] is None:
            raise AttributeError(f"{type(m).__name__} has no parameter {name!r} (path {target!r})")
        return m._parameters[name]

    def type(self, dst_type):
        """Casts every floating parameter and buffer to dst_type (a dtype), as to(dtype)."""
        return self.to(dtype=dst_type)

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for k, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({k}): {body}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"{extra}" if extra else "")
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules)


class _IncompatibleKeys(tuple):
    def __new__(cls, missing, unexpected):
        return super().__new__(cls, (missing, unexpected))

    missing_keys = property(lambda self: self[0])
    unexpected_keys = property(lambda self: self[1])

    def __repr__(self):   # torch's
        if not self[0] and not self[1]:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self[0]}, unexpected_keys={self[1]})"
