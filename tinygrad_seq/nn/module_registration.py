"""nn.Module's registration of parameters, buffers and submodules (torch's Module.__setattr__,
__getattr__, __delattr__, register_parameter / register_buffer / add_module), as a mixin that
nn.Module (nn/module.py) derives from."""
from __future__ import annotations

from tinygrad_seq.tensor import Tensor
from tinygrad_seq.nn.parameter import Parameter
from tinygrad_seq.nn.buffer import call_register_buffer, register_assigned as register_assigned_buffer
from tinygrad_seq.nn.lazy_parameter import UninitializedBuffer


# torch.nn.Module methods a PyTorch program may call that this Module lacks, with what to do instead
_TORCH_MODULE_METHODS_MISSING = {
    "register_backward_hook": "register_full_backward_hook (torch deprecates this non-full hook, whose "
                              "grad_input is that of the module's last op)",
}


def _typename(value):
    """torch.typename: a tensor's legacy type name ("torch.FloatTensor"), else the qualified class
    name of a value ("int", "tinygrad_seq.nn.activation.ReLU")."""
    if isinstance(value, Tensor):
        return value.type()
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _check_name(kind, name, module, registry):
    """torch's checks of a name given to register_parameter / register_buffer / add_module."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
    if "." in name:
        raise KeyError(f"{kind} name can't contain \".\"" + (f", got: {name}" if kind == "module" else ""))
    if name == "":
        raise KeyError(f"{kind} name can't be empty string \"\"")
    d = module.__dict__
    if name not in registry and (name in d or name in d["_parameters"] or name in d["_modules"]
                                 or name in d["_buffers"] or hasattr(type(module), name)):
        raise KeyError(f"attribute '{name}' already exists")


def _is_buffer_tensor(value):
    """torch's isinstance(value, nn.Buffer): a tensor made by nn.Buffer(...), still so after a
    module registered it (the `_is_buffer` flag lives in the tensor's __dict__), so that
    `self.tied = self.buf` registers the same tensor a second time, as torch's."""
    # (getattr, not value.__dict__, which would give every tensor assigned here a dict)
    return isinstance(value, Tensor) and getattr(value, "_is_buffer", False)


class RegistrationMixin:
    """Module's attribute routing. `isinstance(value, RegistrationMixin)` below stands for
    isinstance(value, nn.Module): nn.Module is the only class made from this mixin (and it cannot
    be imported here, module.py imports this file)."""

    def __setattr__(self, name, value):
        # torch's rules: a Parameter / Module value registers (taking the name from the other
        # registries); over a registered name only a value of its kind or None may be set (the
        # name keeps its place, and so its state_dict position); plain attributes may be set
        # before Module.__init__(), registered ones may not
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            d.pop(name, None)
            d["_buffers"].pop(name, None)
            d["_modules"].pop(name, None)
            d["_non_persistent_buffers_set"].discard(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        else:
            modules = d.get("_modules")
            if isinstance(value, RegistrationMixin):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                d.pop(name, None)
                params.pop(name, None)
                d["_buffers"].pop(name, None)
                d["_non_persistent_buffers_set"].discard(name)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                    "(torch.nn.Module or None expected)")
                modules[name] = value
            elif type(value) is UninitializedBuffer:   # a lazy placeholder registers (torch's is an nn.Buffer)
                call_register_buffer(self, name, value, value.persistent)
            elif _is_buffer_tensor(value):   # nn.Buffer(...), new or already registered elsewhere
                register_assigned_buffer(self, name, value)
            else:
                buffers = d.get("_buffers")
                if buffers is not None and name in buffers:
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                        "(torch.nn.Buffer, torch.Tensor or None expected)")
                    buffers[name] = value
                else:
                    object.__setattr__(self, name, value)

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
        d = self.__dict__
        if name in d["_parameters"]:
            del d["_parameters"][name]
        elif name in d["_buffers"]:
            del d["_buffers"][name]
            d["_non_persistent_buffers_set"].discard(name)
        elif name in d["_modules"]:
            del d["_modules"][name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Registers param (a Parameter, or None for an empty slot) under name, as torch's."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        params = self._parameters
        _check_name("parameter", name, self, params)
        if param is not None:
            if not isinstance(param, Parameter):
                raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                                "(torch.nn.Parameter or None required)")
            if param._ctx is not None:
                raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must "
                                 f"be created explicitly. To express '{name}' as a function of another Tensor, "
                                 "compute the value in the forward() method.")
        params[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor moved by to(), but not a parameter; saved in state_dict unless persistent=False."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name, self, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._buffers[name] = tensor
        kept_out = self._non_persistent_buffers_set
        (kept_out.discard if persistent else kept_out.add)(name)

    def add_module(self, name, module):
        """Registers module (a Module, or None for an empty slot) under name, as torch's."""
        if module is not None and not isinstance(module, RegistrationMixin):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        _check_name("module", name, self, self._modules)
        self._modules[name] = module

    def register_module(self, name, module):
        self.add_module(name, module)
