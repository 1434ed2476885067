"""PyTorch's ParameterList and ParameterDict: values held in a list or a dict, as torch's.

Each entry is set on the module as an attribute named by its index ("0", "1", ...) or its key,
as torch's: a Parameter (a plain Tensor is wrapped into one) is registered, so state_dict(),
parameters() and to() see it; any other value (a str, an int, None) is a plain attribute that
the container lists but that no Module method sees. ParameterList counts its entries in _size
and ParameterDict keeps its keys, in order, in _keys."""
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from tinygrad_seq.nn.module import Module, Parameter
from tinygrad_seq.tensor import Tensor


class MissingParameterKey(AttributeError, KeyError):
    """ParameterDict[key] of a missing key: torch's AttributeError (its item is an attribute),
    which a dict's `except KeyError` catches too."""


def _as_parameter(value):
    """A Tensor as a Parameter (torch wraps a plain one, sharing its memory); anything else as given."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value.detach())
    return value


# torch.typename of a tensor, by dtype ("torch.FloatTensor"), which ParameterDict's repr shows
_TENSOR_TYPES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                 "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _describe(items, type_name):
    """torch's ParameterList / ParameterDict extra_repr: one line per entry, each indented by two
    spaces, "(k): Parameter containing: [<type_name(p)> of size 3x4]" for a tensor and
    "(k): Object of type: str" for anything else."""
    lines = []
    for k, p in items:
        if isinstance(p, Tensor):
            size = "x".join(str(n) for n in p.shape)
            where = " (cuda:0)" if str(p.device).startswith("cuda") else ""
            kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
            lines.append(f"  ({k}): {kind} containing: [{type_name(p)} of size {size}{where}]")
        else:
            lines.append(f"  ({k}): Object of type: {type(p).__name__}")
    return "\n".join(lines)


def _dtype_name(p):
    return f"torch.{p.dtype}"


def _tensor_type_name(p):
    kind = _TENSOR_TYPES.get(str(p.dtype), str(p.dtype))
    return f"torch.cuda.{kind}Tensor" if str(p.device).startswith("cuda") else f"torch.{kind}Tensor"


class ParameterList(Module):
    """A list whose Parameters are registered under "0", "1", ...; other values are kept too."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _index(self, i):
        """The attribute name of entry i (an int, or anything operator.index takes: a 0-d integer tensor)."""
        i = operator.index(i)
        n = self._size
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a ParameterList of {n} entries")
        return str(i % n)

    def __getitem__(self, i):
        if isinstance(i, slice):
            out = type(self)()
            for k in range(*i.indices(self._size)):
                out.append(self[k])
            return out
        return getattr(self, self._index(i))

    def __setitem__(self, i, value):
        setattr(self, self._index(i), _as_parameter(value))

    def append(self, value):
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        # a Tensor iterates over its rows, but torch never unpacks one here
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter([self[i] for i in range(self._size)])

    def extra_repr(self):
        return _describe(enumerate(self), _dtype_name)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """An ordered dict whose Parameters are registered under their keys; other values are kept
    too. A plain dict given to the constructor or to update() goes in in sorted key order, as
    torch's; an OrderedDict, a ParameterDict or an iterable of pairs keeps its order."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _check_key(key):
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not a string "
                            f"(type is '{type(key).__name__}'). Open an issue on github if you need non-string keys.")

    def __getitem__(self, key):
        self._check_key(key)
        if key not in self._keys:
            raise MissingParameterKey(f"'ParameterDict' object has no attribute '{key}' (keys: {list(self._keys)})")
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._check_key(key)
        value = _as_parameter(value)
        setattr(self, key, value)   # before _keys, so that a refused value leaves no key behind
        self._keys[key] = None

    def __delitem__(self, key):
        self._check_key(key)
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def values(self):
        return (self[k] for k in self._keys)

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def copy(self):
        """A new ParameterDict holding the same values (not copies of them), in the same order."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key, default=None):
        """self[key], first set to default (None unless given) when key is missing, as torch's."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Removes and returns the last inserted (key, value) pair."""
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self):
        for k in list(self._keys):
            del self[k]

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with each of keys set to default (torch's is an instance method)."""
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters):
        """Sets each (key, value) of a mapping or an iterable of pairs; a plain dict (any Mapping
        but an OrderedDict or a ParameterDict) in sorted key order, as torch's."""
        if not isinstance(parameters, Iterable):
            raise TypeError("ParametersDict.update should be called with an iterable of key/value pairs, but got "
                            + type(parameters).__name__)
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            for k, v in list(parameters.items()):
                self[k] = v
        elif isinstance(parameters, Mapping):
            for k, v in sorted(parameters.items()):
                self[k] = v
        else:   # pairs, each set as it comes (a bad one leaves those before it set, as torch's)
            for j, p in enumerate(parameters):
                if not isinstance(p, Iterable):
                    raise TypeError(f"ParameterDict update sequence element #{j} should be Iterable; is"
                                    + type(p).__name__)
                if len(p) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{j} has length {len(p)}; 2 is required")
                self[p[0]] = p[1]

    def __or__(self, other):
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other):
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self):
        return _describe(self.items(), _tensor_type_name)

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")
