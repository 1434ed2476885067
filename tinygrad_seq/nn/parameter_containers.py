"""PyTorch's ParameterList and ParameterDict: parameters held in a list or a dict, registered
under their index or key (state_dict keys "0", "1", ... or the dict's keys), moved by to() and
listed by parameters() like any other."""
from tinygrad_seq.nn.container import _RegistryDict
from tinygrad_seq.nn.module import Module, Parameter
from tinygrad_seq.tensor import Tensor


def _as_parameter(value):
    """A Parameter as given; a plain Tensor becomes one (torch wraps it too)."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value.detach().array)
    raise TypeError(f"expected a Parameter or a Tensor, got {type(value).__name__}")


def _describe(parameters):
    return "\n".join(f"({k}): Parameter containing: [{p.dtype} of size {tuple(p.shape)}]"
                     for k, p in parameters.items())


class ParameterList(Module):
    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def _index(self, i):
        n = len(self._parameters)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a ParameterList of {n} parameters")
        return str(i % n)

    def append(self, value):
        self.register_parameter(str(len(self._parameters)), _as_parameter(value))
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ParameterList(list(self)[i])
        return self._parameters[self._index(i)]

    def __setitem__(self, i, value):
        self.register_parameter(self._index(i), _as_parameter(value))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __iadd__(self, values):
        return self.extend(values)

    def extra_repr(self):
        return _describe(self._parameters)


class ParameterDict(_RegistryDict):
    _registry, _noun = "_parameters", "parameter"

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __setitem__(self, key, value):
        self.register_parameter(str(key), _as_parameter(value))

    def extra_repr(self):
        return _describe(self._parameters)
