"""torch.return_types: the named-tuple result classes of max(dim), sort, topk, slogdet, ... and
their out= variants (max_out, ...), one class per name, made on first use (import stays cheap).

As torch's structseq, a class is built from one sequence, `return_types.max([values, indices])`,
is a tuple (isinstance, ==, unpacking), names its fields, has n_fields / n_sequence_fields /
n_unnamed_fields and prints as `torch.return_types.max(\\nvalues=...,\\nindices=...)`. Unlike
torch's, the fields one by one are taken too (`max(values, indices)`, namedtuple's constructor):
the library's generic named-tuple code (pytree, vmap, hooks, DataLoader) rebuilds results so."""
import collections

_VALUES_INDICES = ("values", "indices")

# name -> field names, for every torch 2.13 return type the library produces
FIELDS = {
    "max": _VALUES_INDICES, "min": _VALUES_INDICES, "sort": _VALUES_INDICES, "topk": _VALUES_INDICES,
    "kthvalue": _VALUES_INDICES, "median": _VALUES_INDICES, "nanmedian": _VALUES_INDICES,
    "mode": _VALUES_INDICES, "cummax": _VALUES_INDICES, "cummin": _VALUES_INDICES,
    "aminmax": ("min", "max"),
    "frexp": ("mantissa", "exponent"),
    "histogram": ("hist", "bin_edges"),
    "histogramdd": ("hist", "bin_edges"),
    "slogdet": ("sign", "logabsdet"),
    "qr": ("Q", "R"),
    "svd": ("U", "S", "V"),
    "triangular_solve": ("solution", "cloned_coefficient"),
    "lu_unpack": ("P", "L", "U"),
    "_lu_with_info": ("LU", "pivots", "info"),
    "linalg_slogdet": ("sign", "logabsdet"),
    "linalg_qr": ("Q", "R"),
    "linalg_svd": ("U", "S", "Vh"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
}
# torch has no out= variant of these two
_NO_OUT_VARIANT = ("histogramdd", "_lu_with_info")

__all__ = sorted([*FIELDS, *(f"{name}_out" for name in FIELDS if name not in _NO_OUT_VARIANT)])
_made = {}


def _fields_of(name):
    """The field names of return type `name` (a base name or `<base>_out`), None if there is none."""
    if name in FIELDS:
        return FIELDS[name]
    base = name[:-len("_out")] if name.endswith("_out") else None
    if base in FIELDS and base not in _NO_OUT_VARIANT:
        return FIELDS[base]
    return None


def _structseq(name, fields):
    """One torch.return_types class: a namedtuple (so pytree, vmap and DataLoader see a named tuple)
    whose constructor takes one sequence of len(fields) items, as torch's structseq."""
    base = collections.namedtuple(name, fields)

    def __new__(cls, *args):
        # torch's form: one sequence; the fields one by one are namedtuple's form, which the
        # library's generic named-tuple code (pytree, vmap, hooks, DataLoader) rebuilds with
        if len(args) == len(fields):
            return tuple.__new__(cls, args)
        if len(args) != 1:
            raise TypeError(f"torch.return_types.{name}() takes one sequence ({len(args)} arguments given)")
        sequence = args[0]
        if isinstance(sequence, (str, bytes)) or not hasattr(sequence, "__iter__"):
            raise TypeError("constructor requires a sequence")
        items = tuple(sequence)
        if len(items) != len(fields):
            raise TypeError(f"torch.return_types.{name}() takes a {len(fields)}-sequence "
                            f"({len(items)}-sequence given)")
        return tuple.__new__(cls, items)

    def __repr__(self):
        return f"torch.return_types.{name}(\n" + ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self)) + ")"

    def __reduce__(self):   # pickle / copy rebuild through the one-sequence constructor
        return type(self), (tuple(self),)

    namespace = {"__slots__": (), "__new__": __new__, "__repr__": __repr__, "__reduce__": __reduce__,
                 "n_fields": len(fields), "n_sequence_fields": len(fields), "n_unnamed_fields": 0,
                 "__doc__": f"torch.return_types.{name}: a named tuple of ({', '.join(fields)})."}
    cls = type(name, (base,), namespace)
    cls.__module__, cls.__qualname__ = __name__, name
    return cls


def __getattr__(name):
    """return_types.<name>: the class, made once on first use."""
    cls = _made.get(name)
    if cls is None:
        fields = _fields_of(name)
        if fields is None:
            raise AttributeError(f"module 'tinygrad_seq.return_types' has no attribute {name!r}")
        cls = _made[name] = _structseq(name, fields)
    return cls


def __dir__():
    return [*globals(), *__all__]


def build(name, *fields):
    """An instance of return_types.<name> from its fields given one by one (library code's form)."""
    return __getattr__(name)._make(fields)


def out_variant(result):
    """The `<name>_out` class matching a named-tuple result (torch's out= results print as
    torch.return_types.max_out(...)); the result's own class where torch has no out variant."""
    name = type(result).__name__
    return __getattr__(f"{name}_out") if _fields_of(f"{name}_out") is not None else type(result)
