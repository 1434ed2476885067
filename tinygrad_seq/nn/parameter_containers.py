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


# torch.typename of a tensor, by dtype ("torch.FloatTensor"), which ParameterDict's repr shows
_TENSOR_TYPES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                 "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _describe(parameters, type_name):
    """torch's ParameterList / ParameterDict extra_repr: one line per parameter, each indented by
    two spaces, "(k): Parameter containing: [<type_name(p)> of size 3x4]"."""
    lines = []
    for k, p in parameters.items():
        size = "x".join(str(n) for n in p.shape)
        where = " (cuda:0)" if str(p.device).startswith("cuda") else ""
        lines.append(f"  ({k}): Parameter containing: [{type_name(p)} of size {size}{where}]")
    return "\n".join(lines)


def _dtype_name(p):
    return f"torch.{p.dtype}"


def _tensor_type_name(p):
    kind = _TENSOR_TYPES.get(str(p.dtype), str(p.dtype))
    return f"torch.cuda.{kind}Tensor" if str(p.device).startswith("cuda") else f"torch.{kind}Tensor"


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
        return _describe(self._parameters, _dtype_name)


class ParameterDict(_RegistryDict):
    _registry, _noun = "_parameters", "parameter"

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __setitem__(self, key, value):
        self.register_parameter(str(key), _as_parameter(value))

    def setdefault(self, key, default=None):
        """self[key], first set to default when key is missing (torch's)."""
        if key not in self:
            self[key] = default
        return self[key]

    def extra_repr(self):
        return _describe(self._parameters, _tensor_type_name)
