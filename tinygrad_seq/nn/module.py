"""nn.Module (and nn.Parameter, from nn/parameter.py): PyTorch's naming, traversal, modes, devices and repr;
registration (__setattr__, register_buffer, ...) is nn/module_registration.py's."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from tinygrad_seq import device as _device, dtypes
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.leaf_grads import zero_in_place
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.nn import module_hooks as _hooks
from tinygrad_seq.nn.parameter import Parameter  # noqa: F401  (re-exported: nn.module.Parameter)
from tinygrad_seq.nn.lazy_parameter import is_lazy
from tinygrad_seq.nn.module_registration import RegistrationMixin, _typename  # noqa: F401
from tinygrad_seq.nn.module_state import StateDictMixin, _IncompatibleKeys  # noqa: F401
from tinygrad_seq.nn.module_compile import CompileMixin

# nonempty while a global hook (nn.modules.module.register_module_forward_hook, ...) exists;
# Module.__call__ tests it
_GLOBAL_HOOK_IDS = _hooks.GLOBAL_HOOK_IDS


_NOT_GIVEN = object()   # Module.to's copy default: torch refuses copy=False too


def _forward_unimplemented(self, *input):
    """Module.forward of a module that defines none (ModuleList, a subclass missing it)."""
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')


def _addindent(s, spaces):
    """torch's: every line but the first of s indented by `spaces` (blank lines left empty)."""
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join((" " * spaces + line) if line.strip() else "" for line in lines[1:])


class Module(RegistrationMixin, StateDictMixin, CompileMixin):
    forward = _forward_unimplemented
    call_super_init = False   # torch's: True makes __init__ call super().__init__(*args, **kwargs) (a mixin)

    def __init__(self, *args, **kwargs):
        if self.call_super_init is False and kwargs:   # torch's checks: no arguments unless passed on
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        if self.call_super_init is False and args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but {len(args) + 1} "
                            "were given")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        for name in _hooks.HOOK_DICTS:
            d[name] = OrderedDict()
        d["_modules"] = OrderedDict()
        if self.call_super_init:   # the next class in the MRO after Module's mixins (a mixin listed after it)
            super().__init__(*args, **kwargs)

    def __setstate__(self, state):
        """A module pickled before these dicts existed gets them empty (as torch's)."""
        d = self.__dict__
        d.update(state)
        for name in _hooks.HOOK_DICTS:
            d.setdefault(name, OrderedDict())
        for name in _hooks.CALL_HOOK_DICTS:
            d["_call_hook_ids"].update(dict.fromkeys(d[name], True))
        self.__dict__.setdefault("_non_persistent_buffers_set", set(self.__dict__.pop("_non_persistent", ())))

    # ------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Pre-order (name, module) pairs, as torch's: a module in memo (a set) is skipped, and
        one reachable twice is listed once unless remove_duplicate=False (state dicts list it
        under every name). A child whose class overrides named_modules lists its own subtree
        (torch calls each child's method: a block may hide an auxiliary head)."""
        if isinstance(memo, str):  # named_modules(prefix) called positionally
            memo, prefix = None, memo
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if m is not self and type(m).named_modules is not Module.named_modules:
                yield from m.named_modules(memo, name, remove_duplicate)
                continue
            if m in memo:
                continue
            if remove_duplicate:
                memo.add(m)
            yield name, m
            stack.extend(reversed([((f"{name}.{k}" if name else k), c) for k, c in m._modules.items()
                                   if c is not None]))

    def modules(self, remove_duplicate=True):
        return (m for _, m in self.named_modules(remove_duplicate=remove_duplicate))

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
        """Set training = mode here and call each child's train(mode), as torch's (a block that
        overrides train to stay frozen stays frozen)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        stack = [self]   # (a loop over the modules that keep this method, not a call each)
        while stack:
            m = stack.pop()
            d = m.__dict__
            if "training" in d:
                d["training"] = mode   # (Module.__setattr__'s checks cost half the call)
            else:
                m.training = mode      # (a wrapper's property, OptimizedModule's)
            overriding = []
            for c in d["_modules"].values():
                if c is not None:
                    (stack if type(c).train is Module.train else overriding).append(c)
            for c in dict.fromkeys(overriding):   # each once, as torch's children()
                c.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            if requires_grad and p.dtype.kind not in "fc":   # torch's Tensor.requires_grad_ error
                raise RuntimeError("only Tensors of floating point dtype can require gradients")
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:   # in place, as torch's (a kept reference sees the zeros)
                zero_in_place(p)

    # ------------------------------------------------------------ devices and dtypes
    def _apply(self, fn, recurse=True):
        """Each child's _apply(fn) first (recurse; a child that overrides _apply, to keep a buffer
        in float32, is called), then each own parameter's data replaced by fn(tensor) in place
        (identity kept), then each own buffer by fn(buffer), as torch's: a reference to the old
        buffer, or a tensor another module shares as its buffer, keeps its dtype and device. As
        torch's, fn runs under no_grad for parameters and their grads (so an in-place fn such as
        `t.add_(1)` may change a leaf), but not for buffers."""
        if recurse:
            for m in self.children():
                m._apply(fn)
        for t in self._parameters.values():
            if t is None:
                continue
            with no_grad():
                new = fn(t)
            t.array, t.device = new.array, new.device
            if t.grad is not None:   # in place too, as torch's `param.grad.data = ...`: a
                with no_grad():      # reference kept to the grad sees the new dtype and device
                    g = fn(t.grad)
                t.grad.data = g   # (a grad that was a view of a buffer is no longer one)
        for k, t in list(self._buffers.items()):
            if t is None:
                continue
            new = fn(t)
            if getattr(type(t), "_is_uninitialized", False):   # a lazy module's placeholder stays
                t.array, t.device = new.array, new.device      # one, with the new dtype (torch's too)
            else:
                self._buffers[k] = new
        return self

    def to(self, device=None, dtype=None, non_blocking=False, copy=_NOT_GIVEN, *, tensor=None, memory_format=None):
        """to(device), to(dtype), to(device, dtype), to(tensor) (its device and dtype), as torch's;
        only floating-point parameters and buffers change dtype; memory_format (channels_last)
        relays the 4-D and 5-D ones, as torch's. copy (Tensor.to's) is refused, given at all."""
        if copy is not _NOT_GIVEN:
            raise RuntimeError(".to() does not accept copy argument")
        if tensor is None and hasattr(device, "dtype") and hasattr(device, "device") and \
                not isinstance(device, (str, type)):   # (np.float64, a type, has both as class attributes)
            tensor, device = device, None
        if tensor is not None:
            device, dtype = tensor.device, tensor.dtype
        if isinstance(device, (type, np.dtype, dtypes.UnsupportedDtype)):
            device, dtype = None, device
        if dtype is not None and dtypes.as_dtype(dtype).kind != "f":   # (bfloat16: as_dtype's TypeError)
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
                if memory_format is not None and out.ndim in (4, 5):
                    out = out.to(memory_format=memory_format)
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

    # ------------------------------------------------------------ calling and printing
    def __call__(self, *args, **kwargs):
        if self.__dict__["_call_hook_ids"] or _GLOBAL_HOOK_IDS:   # any hook (module_hooks.py)
            return _hooks.call(self, args, kwargs)
        return self.forward(*args, **kwargs)

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

    def get_buffer(self, target):
        """The buffer at a dotted path ("0.running_var")."""
        path, _, name = target.rpartition(".")
        m = self.get_submodule(path)
        if name not in m._buffers:
            raise AttributeError(f"{type(m).__name__} has no buffer {name!r} (path {target!r})")
        return m._buffers[name]

    def set_submodule(self, target, module, strict=False):
        """Puts module at a dotted path ("encoder.rnn"), as torch's: the parent must exist;
        strict=True: the submodule too."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def share_memory(self):
        """torch's: the parameters, buffers and gradients moved to memory that fork-started worker
        processes share (shared_memory.py: Hogwild / A3C); an uninitialized (lazy) parameter or
        buffer raises torch's RuntimeError first."""
        for t in (*self.parameters(), *self.buffers()):
            if is_lazy(t):
                t.share_memory_()
        from tinygrad_seq.shared_memory import share_module_memory
        return share_module_memory(self)

    def _get_name(self):
        return type(self).__name__

    def type(self, dst_type):
        """Casts every floating parameter and buffer to dst_type (a dtype), as to(dtype)."""
        return self.to(dtype=dst_type)

    def extra_repr(self):
        return ""

    def __repr__(self):
        """torch's layout: a one-line extra_repr inline when there are no children, else each
        extra_repr line and each child on its own line."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({k}): " + _addindent(repr(m), 2) for k, m in self._modules.items()]
        lines = extra_lines + child_lines
        main = type(self).__name__ + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        keys = list(dir(type(self))) + list(self.__dict__) + list(self._parameters) + list(self._modules) \
            + list(self._buffers)
        return sorted(k for k in set(keys) if not k[0].isdigit())


import tinygrad_seq.nn.modules  # noqa: E402,F401  torch's nn.modules paths (nn.modules.module.register_module_*)
