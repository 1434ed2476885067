"""nn.Buffer (torch 2.5+): `self.x = nn.Buffer(tensor, persistent=True)` in a Module registers x
as a buffer, as register_buffer does (torch.nn.parameter.Buffer).

Buffer(data) is a detached Tensor sharing data's memory, of class Buffer until a Module takes
it: Module.__setattr__ (nn/module_registration.py) tests the tensor's `_is_buffer` flag, as
torch's does, and register_assigned then makes it a plain Tensor, as torch's registered buffers
are. The flag stays, so `self.tied = self.buf` registers that tensor under a second name, as
torch's. `isinstance(t, nn.Buffer)` is true for any tensor made by Buffer(), registered or not
(torch's _BufferMeta tests the `_is_buffer` flag the same way)."""
import numpy as np

from tinygrad_seq import dtypes
from tinygrad_seq.tensor import Tensor


class _BufferMeta(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A Tensor that a Module registers as a buffer on assignment: Buffer(data=None, *,
    persistent=True); persistent=False keeps it out of state_dict(). data None: an empty
    tensor of the default dtype. requires_grad is data's."""
    __slots__ = ()

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor(np.empty((0,), dtypes.get_default_dtype()))
        if not isinstance(data, Tensor):
            raise TypeError(f"nn.Buffer: data must be a Tensor, got {type(data).__name__} "
                            "(wrap arrays with ts.tensor(...))")
        t = data.detach()
        t.requires_grad = data.requires_grad
        t.__class__ = cls
        t.persistent, t._is_buffer = bool(persistent), True
        return t

    def __init__(self, data=None, *, persistent=True):
        pass   # __new__ did the work; Tensor.__init__ must not run again


def register_assigned(module, name, buffer):
    """module.name = Buffer(...) (or a tensor once made by Buffer(...)): register it, persistent
    as its `persistent` flag says, as a plain Tensor."""
    call_register_buffer(module, name, buffer, buffer.persistent)
    buffer.__class__ = Tensor


def call_register_buffer(module, name, value, persistent):
    """module.register_buffer(name, value, persistent) as torch's Module.__setattr__ calls it: a
    subclass whose own register_buffer(name, tensor) lacks `persistent` gets two arguments
    (persistent=True, what register_buffer did before the argument existed); a non-persistent
    buffer then is an error."""
    from tinygrad_seq.nn.module_registration import RegistrationMixin   # (it imports this file)
    method = module.register_buffer
    if getattr(method, "__func__", None) is RegistrationMixin.register_buffer or _takes_persistent(method):
        method(name, value, persistent)
    elif not persistent:
        raise RuntimeError("Registering a non-persistent buffer on a Module subclass that implements "
                           "register_buffer() without the persistent argument is not allowed.")
    else:
        method(name, value)


def _takes_persistent(method):
    import inspect   # (only for a subclass's own register_buffer)
    return "persistent" in inspect.signature(method).parameters
