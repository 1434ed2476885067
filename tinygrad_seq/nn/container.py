"""PyTorch's containers: Sequential, ModuleList and ModuleDict with their list/dict methods, and
the shape-only modules Identity, Flatten and Unflatten."""
import operator
from collections import OrderedDict

from tinygrad_seq.nn.module import Module, _addindent


def _index(name, i, n):
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for a {name} of {n} modules")
    return i % n


class _ModuleSequence(Module):
    """What ModuleList and Sequential share: modules in order under keys '0', '1', ..."""

    def append(self, m):
        self.add_module(str(len(self._modules)), m)   # a Module (or None): torch's TypeError otherwise
        return self

    def extend(self, ms):
        for m in ms:
            self.append(m)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the parent registers (keys '0', '1', ...)."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(() if modules is None else modules)   # ModuleList(None) is empty, as torch's

    def _renumber(self, mods):
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return type(self)(mods[i])
        return mods[_index("ModuleList", int(i), len(mods))]

    def __setitem__(self, i, m):
        i = _index("ModuleList", int(i), len(self._modules))
        setattr(self, str(i), m)

    def __repr__(self):
        """torch's: a run of modules with the same repr is one line, "(0-2): 3 x Linear(...)"."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return type(self).__name__ + "()"
        runs = []   # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [_addindent(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}", 2) for a, b, r in runs]
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"

    def __delitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            del mods[i]
        else:
            del mods[_index("ModuleList", int(i), len(mods))]
        self._renumber(mods)

    def insert(self, index, m):
        mods = list(self._modules.values())
        mods.insert(index, m)
        self._renumber(mods)

    def __iadd__(self, ms):
        return self.extend(ms)

    def __add__(self, other):
        return type(self)(list(self) + list(other))

    def pop(self, i):
        m = self[i]
        del self[i]
        return m


class Sequential(_ModuleSequence):
    """Modules called in order, each on the previous one's output (OrderedDict keys kept)."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for key, m in modules[0].items():
                self.add_module(key, m)
        else:
            self.extend(modules)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, i):
        items = list(self._modules.items())
        if isinstance(i, slice):
            return type(self)(OrderedDict(items[i]))
        # operator.index, as torch's: a str or a float index is a TypeError, not int()'s ValueError
        return items[_index("Sequential", operator.index(i), len(items))][1]

    def __setitem__(self, i, m):
        keys = list(self._modules)
        setattr(self, keys[_index("Sequential", operator.index(i), len(keys))], m)

    def __delitem__(self, i):
        """Deletes, then numbers the keys 0, 1, ... again (named keys too), as torch's: so that
        append after a del does not overwrite the last module."""
        keys = list(self._modules)
        for k in (keys[i] if isinstance(i, slice) else [keys[_index("Sequential", operator.index(i), len(keys))]]):
            del self._modules[k]
        mods = list(self._modules.values())
        self._modules.clear()
        for n, m in enumerate(mods):
            self._modules[str(n)] = m

    def insert(self, index, module):
        if not isinstance(module, Module):   # torch's assert (so an AssertionError)
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index} (a Sequential of {n} modules)")
        if index < 0:
            index += n
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for k, m in enumerate(mods):
            self._modules[str(k)] = m
        return self

    def pop(self, i):
        m = self[i]
        del self[i]
        return m

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return Sequential(*self, *other)

    def __iadd__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return self.extend(list(other))

    def _check_factor(self, times):
        if not isinstance(times, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(times)}")
        if times <= 0:
            raise ValueError(f"Non-positive multiplication factor {times} for {type(self)}")

    def __mul__(self, times):
        """A new Sequential of the same modules (not copies) repeated `times` times."""
        self._check_factor(times)
        return Sequential(*(list(self) * times))

    def __rmul__(self, times):
        return self.__mul__(times)

    def __imul__(self, times):
        """In place, as torch's: the modules appended again times - 1 times."""
        self._check_factor(times)
        return self.extend(list(self) * (times - 1))


class _RegistryDict(Module):
    """The dict methods of ModuleDict, over the registry its entries live in (``_registry``);
    the subclass's __setitem__ registers an entry. (ParameterDict, which holds non-tensor values
    too, has its own: nn/parameter_containers.py.)"""
    _registry, _noun = "_modules", "module"

    def _entries(self):
        return self.__dict__[self._registry]

    def __getitem__(self, key):
        entries = self._entries()
        if key not in entries:
            raise KeyError(f"{type(self).__name__} has no {self._noun} {key!r}; keys: {list(entries)}")
        return entries[key]

    def __delitem__(self, key):
        del self._entries()[key]

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter(self._entries())

    def __contains__(self, key):
        return key in self._entries()

    def keys(self):
        return self._entries().keys()

    def values(self):
        return self._entries().values()

    def items(self):
        return self._entries().items()

    def get(self, key, default=None):
        return self._entries().get(key, default)

    def pop(self, key):
        return self._entries().pop(key)

    def clear(self):
        self._entries().clear()

    def update(self, entries):
        pairs = entries.items() if hasattr(entries, "items") else entries
        for k, v in pairs:
            self[k] = v


class ModuleDict(_RegistryDict):
    """An ordered dict of modules whose parameters the parent registers (keys as given)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key, m):
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys must be strings, got {type(key).__name__}")
        self.add_module(key, m)


class Identity(Module):
    """Returns its input; takes and ignores any constructor arguments, as PyTorch's."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flattens dims start_dim..end_dim into one: (N, *) -> (N, prod(*)) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim into unflattened_size."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        # kept as given (a list, a tuple, a Size: the repr shows it so, as torch's), checked as torch's
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}")
        for i, size in enumerate(unflattened_size):
            if not isinstance(size, int):
                raise TypeError(f"unflattened_size must be tuple of ints, but found element of type "
                                f"{type(size).__name__} at pos {i}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)   # torch's checks (a 0-d input, sizes)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
