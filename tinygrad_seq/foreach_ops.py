"""torch._foreach_*: an op applied to each tensor of a list (EMA updates, optimizers written by
hand, gradient clipping code). torch fuses them into few kernels; here each is the per-tensor
op in a loop, with torch's argument forms: a second operand may be a list of tensors, a list of
scalars, one scalar, or one tensor; addcmul / addcdiv take a value, a list of values or a 1-D
tensor of them; the out-of-place form returns a tuple, the in-place form (trailing _) writes
each tensor and returns the list it was given (the same object), as torch's."""
import numbers

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1", "floor", "frac",
          "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round", "rsqrt", "sigmoid", "sign",
          "sin", "sinh", "sqrt", "tan", "tanh", "trunc")
# (torch name, Tensor method): a second operand per tensor, or one for all
_BINARY = (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("div", "div"), ("maximum", "maximum"),
           ("minimum", "minimum"), ("clamp_min", "clamp_min"), ("clamp_max", "clamp_max"), ("pow", "pow"))
_WITH_ALPHA = ("add", "sub")


def _tensor_list(tensors, name):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("Tensor list must have at least one tensor.")   # (torch's words, without the op's name)
    return tensors


def _per_tensor(tensors, other, name):
    """other for each tensor: a list / tuple is paired (of the same length, torch's check), a
    scalar or a single tensor goes to every tensor; a 1-D tensor of scalars (addcmul / addcdiv's
    `scalars`) is read as its list."""
    if isinstance(other, (list, tuple)):
        if len(other) != len(tensors):
            raise RuntimeError(f"Tensor lists must have the same number of tensors, got {len(tensors)} and {len(other)}")
        return list(other)
    if getattr(other, "ndim", 0) != 0 and name not in ("cmul", "cdiv", "lerp"):   # one tensor for all: 0-d
        raise RuntimeError(f"scalar tensor expected to be 0 dim but it has {other.ndim} dimensions and "
                           f"{other.numel()} elements.")
    return [other] * len(tensors)


def _unary(op):
    def out_of_place(self):
        return tuple(getattr(t, op)() for t in _tensor_list(self, op))

    def in_place(self):
        for t in _tensor_list(self, op + "_"):
            getattr(t, op + "_")()
        return self
    out_of_place.__name__, in_place.__name__ = f"_foreach_{op}", f"_foreach_{op}_"
    return out_of_place, in_place


def _binary(name, method):
    def out_of_place(self, other, *, alpha=_NO_ALPHA):
        if isinstance(self, numbers.Number) and name == "pow":   # _foreach_pow(scalar, exponents): promoted
            return tuple(t.__rpow__(self) for t in _tensor_list(other, name))
        tensors = _tensor_list(self, name)
        return tuple(_one(t, o, name, method, alpha) for t, o in zip(tensors, _per_tensor(tensors, other, name)))

    def in_place(self, other, *, alpha=_NO_ALPHA):
        tensors = _tensor_list(self, name + "_")
        for t, o in zip(tensors, _per_tensor(tensors, other, name)):
            if method in ("maximum", "minimum"):   # (no Tensor.maximum_ in torch: a copy back)
                t.copy_(_one(t, o, name, method, alpha))
            else:
                getattr(t, method + "_")(o, **_alpha_kw(name, alpha, o))
        return self
    out_of_place.__name__, in_place.__name__ = f"_foreach_{name}", f"_foreach_{name}_"
    return out_of_place, in_place


_NO_ALPHA = object()


def _alpha_kw(name, alpha, other):
    """alpha= for add / sub with tensors only (torch's overloads: a scalar or scalars take none)."""
    if alpha is _NO_ALPHA:
        return {}
    if name not in _WITH_ALPHA or not hasattr(other, "shape"):
        raise TypeError(f"_foreach_{name}() received an invalid combination of arguments: alpha= goes with a "
                        f"list of tensors only")
    return {"alpha": alpha}


def _one(t, o, name, method, alpha):
    """t <method> o for one tensor: maximum / minimum of a number is a clamp, as torch's."""
    if method in ("maximum", "minimum") and isinstance(o, numbers.Number):
        return t.clamp_min(o) if method == "maximum" else t.clamp_max(o)
    return getattr(t, method)(o, **_alpha_kw(name, alpha, o))


def _values(value, tensors, name):
    if hasattr(value, "tolist") and getattr(value, "ndim", 0) == 1:   # a 1-D tensor of scalars (torch's `scalars`)
        value = value.tolist()
    return _per_tensor(tensors, value, name)


def _addc(kind):
    def out_of_place(self, tensor1, tensor2, value=1, *, scalars=None):
        tensors = _tensor_list(self, "add" + kind)
        value = value if scalars is None else scalars   # torch's keyword for a list / tensor of values
        pairs = zip(_per_tensor(tensors, tensor1, kind), _per_tensor(tensors, tensor2, kind), _values(value, tensors, kind))
        return tuple(getattr(t, "add" + kind)(a, b, value=v) for t, (a, b, v) in zip(tensors, pairs))

    def in_place(self, tensor1, tensor2, value=1, *, scalars=None):
        value = value if scalars is None else scalars
        tensors = _tensor_list(self, "add" + kind + "_")
        pairs = zip(_per_tensor(tensors, tensor1, kind), _per_tensor(tensors, tensor2, kind), _values(value, tensors, kind))
        for t, (a, b, v) in zip(tensors, pairs):
            getattr(t, "add" + kind + "_")(a, b, value=v)
        return self
    out_of_place.__name__, in_place.__name__ = f"_foreach_add{kind}", f"_foreach_add{kind}_"
    return out_of_place, in_place


def _foreach_lerp(self, tensors1, weight):
    tensors = _tensor_list(self, "lerp")
    return tuple(t.lerp(e, w) for t, e, w in zip(tensors, _per_tensor(tensors, tensors1, "lerp"), _values(weight, tensors, "lerp")))


def _foreach_lerp_(self, tensors1, weight):
    tensors = _tensor_list(self, "lerp_")
    for t, e, w in zip(tensors, _per_tensor(tensors, tensors1, "lerp"), _values(weight, tensors, "lerp")):
        t.lerp_(e, w)
    return self


def _foreach_copy_(self, src, non_blocking=False):
    tensors = _tensor_list(self, "copy_")
    for t, s in zip(tensors, _per_tensor(tensors, list(src), "copy_")):
        t.copy_(s)
    return self


def _foreach_zero_(self):
    for t in _tensor_list(self, "zero_"):
        t.zero_()
    return self


def _foreach_clone(self):
    return tuple(t.clone() for t in _tensor_list(self, "clone"))


def _foreach_norm(self, ord=2, dtype=None):
    """Each tensor's vector norm of order ord (0-d results), torch's linalg.vector_norm."""
    from tinygrad_seq.linalg_norms import vector_norm
    return tuple(vector_norm(t, ord, dtype=dtype) for t in _tensor_list(self, "norm"))


def _foreach_max(self):
    return tuple(t.max() for t in _tensor_list(self, "max"))


def _foreach_powsum(self, ord=2, dtype=None):
    """Each tensor's sum of |x| ** ord (0-d): torch's vector norm before its root."""
    return tuple((t if dtype is None else t.to(dtype)).abs().pow(ord).sum() for t in _tensor_list(self, "powsum"))


def _foreach_mm(self, mat2):
    tensors = _tensor_list(self, "mm")
    return tuple(t.mm(m) for t, m in zip(tensors, _per_tensor(tensors, list(mat2), "mm")))


__all__ = ["_foreach_lerp", "_foreach_lerp_", "_foreach_copy_", "_foreach_zero_", "_foreach_clone", "_foreach_norm",
           "_foreach_max", "_foreach_powsum", "_foreach_mm"]
for _made in ([_unary(op) for op in _UNARY] + [_binary(n, m) for n, m in _BINARY] + [_addc("cmul"), _addc("cdiv")]):
    for _fn in _made:
        globals()[_fn.__name__] = _fn
        __all__.append(_fn.__name__)
