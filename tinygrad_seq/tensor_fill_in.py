"""Tensor methods torch has that are thin forms of what exists here: the in-place `x_` form of a
method (`gt_`, `cumsum_`, `tril_`, ...), aliases (`multiply_`, `fix`, `arcsinh`, `adjoint`, `H`),
predicates and storage queries (`is_cpu`, `get_device`, `is_nonzero`, `stride`, `data_ptr`),
`resize_` / `resize_as_`, and
methods of free functions (`unique`, `multinomial`). The math ones (kron, cross, quantile,
masked_scatter, ...) are in tensor_fill_math.py. tinygrad_seq/__init__.py attaches both last, so
every method they build on exists; FREE lists the ones torch also has as free functions."""
import numpy as np

from tinygrad_seq.dim_alias import dim_from_axis, takes_axis


def _inplace_of(name):
    """x.name_(*args): x = x.name(*args) written into x (torch's dtype and shape rules,
    autograd as for the other in-place ops: inplace.py)."""
    def method(self, *args, **kwargs):
        return self._write(name + "_", lambda t, *a: getattr(t, name)(*a, **kwargs), *args)
    method.__name__ = name + "_"
    method.__doc__ = f"In-place {name}."
    return method


def _alias(name):
    def method(self, *args, **kwargs):
        return getattr(self, name)(*args, **kwargs)
    method.__name__ = name
    return method


def _is_nonzero(self):
    if self.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous"
                           if self.numel() else "Boolean value of Tensor with no values is ambiguous")
    return bool(self.item())


def _get_device(self):
    """-1 on the CPU, the device index on CUDA (torch's)."""
    dev = self.device
    if getattr(dev, "type", "cpu") == "cpu":
        return -1
    return dev.index or 0


def _stride(self, dim=None, *, axis=None):
    """Strides in elements, as torch's (from the array's byte strides); axis= is dim's alias."""
    if axis is not None:
        dim = dim_from_axis(dim, axis, "stride")
    arr = self.array
    strides = tuple(s // arr.itemsize for s in arr.strides) if arr.ndim else ()
    if 0 in strides and arr.size == 0 and not any(strides):   # numpy's for a fresh empty array
        from tinygrad_seq.storage_layout import _contiguous_strides
        strides = tuple(_contiguous_strides(arr.shape))   # torch's: the row-major strides (sizes 0 as 1)
    if dim is None:
        return strides
    if not -len(strides) <= dim < max(len(strides), 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-self.ndim}, "
                         f"{self.ndim - 1}], but got {dim})")
    return strides[dim]


def _data_ptr(self):
    arr = self.array
    if hasattr(arr, "__cuda_array_interface__"):
        return arr.__cuda_array_interface__["data"][0]
    return arr.__array_interface__["data"][0]


def _storage_offset(self):
    """Elements between the start of the memory this tensor views and its first element."""
    arr = self.array
    base = arr
    while getattr(base, "base", None) is not None and isinstance(base.base, np.ndarray):
        base = base.base
    if base is arr or not isinstance(arr, np.ndarray):
        return 0
    return (arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // arr.itemsize


def _positive(self):
    if self.dtype == np.bool_:
        from tinygrad_seq.errors import DTypeMismatch   # torch's RuntimeError (a TypeError too, as before)
        raise DTypeMismatch("The `+` operator, on a bool tensor is not supported.")
    return self


def _adjoint(self):
    return self.mT


def _h(self):
    if self.ndim > 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor.")
    return self.mT if self.ndim == 2 else self.T   # mT: torch's TransposeBackward0 node


def _imag(self):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def _split_with_sizes(self, split_sizes, dim=0):
    return self.split(list(split_sizes), dim)


def _hsplit(self, sections, *more):   # hsplit(1, 3): the indices given one by one, as torch's
    sections = (sections,) + more if more else sections
    if self.ndim == 0:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with 0 dimensions!")
    return _directional_split(self, sections, 1 if self.ndim > 1 else 0, "hsplit")


def _vsplit(self, sections, *more):
    sections = (sections,) + more if more else sections
    if self.ndim < 2:
        raise RuntimeError(f"torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with "
                           f"{self.ndim} dimensions!")
    return _directional_split(self, sections, 0, "vsplit")


def _dsplit(self, sections):
    if self.ndim < 3:
        raise RuntimeError(f"torch.dsplit requires a tensor with at least 3 dimension, but got a tensor with "
                           f"{self.ndim} dimensions!")
    return _directional_split(self, sections, 2, "dsplit")


def _directional_split(self, sections, dim, name):
    if isinstance(sections, int) and (sections == 0 or self.shape[dim] % sections):
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                           f"dimension {self.shape[dim]} is not divisible by the split_size {sections}!")
    return self.tensor_split(sections if isinstance(sections, int) else list(sections), dim)


def _msort(self):
    return self.sort(dim=0).values


def _narrow_copy(self, dim, start, length):
    from tinygrad_seq.dim_arg import dim_int
    from tinygrad_seq.errors import IndexOutOfRange
    if self.ndim and dim_int(dim) >= self.ndim:   # torch's narrow_copy: a RuntimeError past the last dim
        raise IndexOutOfRange(f"narrow_copy(): dim {dim} is out of range for a tensor of {self.ndim} dimensions")
    return self.narrow(dim, start, length).clone()


def _sum_to_size(self, *size):
    """Sum the broadcast dimensions away so the result has `size` (torch's sum_to_size)."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    try:
        ok = np.broadcast_shapes(size, self.shape) == self.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"size {list(size)} is not expandable to size {list(self.shape)}.")
    if not size:   # torch's sum_to: the whole sum, a new node even of a 0-d tensor
        return self.sum()
    out = self
    lead = self.ndim - len(size)
    if lead:
        out = out.sum(dim=tuple(range(lead)))
    dims = tuple(i for i, s in enumerate(size) if s == 1 and out.shape[i] != 1)
    return out.sum(dim=dims, keepdim=True) if dims else out


def _new_empty_strided(self, size, stride, dtype=None, device=None, requires_grad=False, **kw):
    """A tensor of `size` laid out with `stride`, self's dtype and device unless given (torch's)."""
    from tinygrad_seq.torch_misc import empty_strided
    return empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype,
                         device=self.device if device is None else device, requires_grad=requires_grad)


def _check_python_fn_target(self, name):
    if getattr(self.device, "type", "cpu") != "cpu":
        raise TypeError(f"{name} is only implemented on CPU tensors")
    if self.requires_grad:   # torch's, in no_grad mode too
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")


def _apply_(self, fn):
    """fn on every element, in place, through any strides (a view writes into its base), CPU
    only. torch's apply_ leaves _version as it is."""
    _check_python_fn_target(self, "apply_")
    with np.nditer(self.array, op_flags=["readwrite"]) as it:
        for x in it:
            x[...] = fn(x.item())
    return self


def _map_(self, other, fn):
    """self[i] = fn(self[i], other[i]) (other broadcast to self), in place, CPU only."""
    _check_python_fn_target(self, "map_")
    o = other.numpy() if hasattr(other, "numpy") else np.asarray(other)
    try:
        o = np.broadcast_to(o, self.shape)
    except ValueError:   # torch's expand of other to self's shape: its RuntimeError and words
        from tinygrad_seq.linear_errors import _expand_to
        _expand_to(o, tuple(self.shape))
        raise
    out = self.array
    for idx in np.ndindex(*self.shape):
        out[idx] = fn(out[idx].item(), o[idx].item())
    return self


def _resize_shape(sizes):
    """resize_'s sizes: ints, or one tuple / list / Size of them; checked as torch checks them."""
    if not sizes:
        raise TypeError('resize_() missing 1 required positional arguments: "size"')
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    shape = []
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"resize_(): argument 'size' must be tuple of ints, not {type(s).__name__}")
        shape.append(int(s))
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {shape}")
    return tuple(shape)


def _storage_from(arr, n):
    """The n elements of memory starting at arr's first element, as torch's resize_ reads its
    storage (a transposed or sliced tensor gives its memory order): a view sharing that memory
    when arr's owning array holds n elements from there, else a new array with the elements there
    are in front and zeros after (torch leaves those uninitialised)."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    contiguous_root = root.flags.c_contiguous or root.flags.f_contiguous
    if not contiguous_root or any(s < 0 for s in arr.strides) or arr.dtype != root.dtype:
        flat = arr.reshape(-1)   # not laid out as torch's storage: the elements in logical order
        out = np.zeros(n, arr.dtype)
        out[:min(n, flat.size)] = flat[:n]
        return out
    start = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    held = (root.nbytes - start) // arr.itemsize if root.size else 0
    if n <= held:
        return np.lib.stride_tricks.as_strided(arr, (n,), (arr.itemsize,))
    out = np.zeros(n, arr.dtype)
    if held > 0:
        out[:held] = np.lib.stride_tricks.as_strided(arr, (held,), (arr.itemsize,))
    return out


def _resize_(self, *sizes, memory_format=None):
    """torch's resize_: self takes the shape `sizes` over its memory read in order; the leading
    elements stay, elements beyond the old memory are zeros (uninitialised in torch). Returns self.
    A tensor that requires grad raises, as torch's (resize is not differentiable)."""
    shape = _resize_shape(sizes)
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    return resize_memory(self, shape)


def resize_memory(self, shape):
    """resize_ without its checks (the out= of an op resizes a tensor that requires grad under
    no_grad, as torch's resize_output): a view becomes a contiguous tensor over the base's memory
    from its first element (x.t() resized to 4 elements writes the base's first four), or new
    memory where the base holds too few (torch grows the storage the base shares)."""
    if shape == tuple(self.shape):   # torch's resize_ keeps a tensor of that shape as it is
        return self
    n = int(np.prod(shape, dtype=np.int64))
    if getattr(self.device, "type", "cpu") == "cpu":
        arr = self.array if isinstance(self.array, np.ndarray) else np.array(self.array)
        new = _storage_from(arr, n).reshape(shape)
    else:   # a device array: its elements in order, then zeros, copied into a new device array
        from tinygrad_seq import device as _device
        flat = self.numpy().reshape(-1)
        host = np.zeros(n, flat.dtype)
        host[:min(n, flat.size)] = flat[:n]
        new = _device.backend(self.device).asarray(host.reshape(shape))
    self._version += 1   # a resize is a write: graph nodes that saved this tensor see it
    self.array = new
    if getattr(self, "_view", None) is not None:   # no longer one of the base's view kinds
        self._view = None
    return self


def _resize_as_(self, the_template, memory_format=None):
    from tinygrad_seq.tensor import Tensor
    if not isinstance(the_template, Tensor):
        raise TypeError(f"resize_as_(): argument 'the_template' (position 1) must be Tensor, not "
                        f"{type(the_template).__name__}")
    return _resize_(self, tuple(the_template.shape))


def _free(name):
    def method(self, *args, **kwargs):
        import tinygrad_seq
        return getattr(tinygrad_seq, name)(self, *args, **kwargs)
    method.__name__ = name
    return method


def _free_from(module, name):
    def method(self, *args, **kwargs):
        import importlib
        return getattr(importlib.import_module(f"tinygrad_seq.{module}"), name)(self, *args, **kwargs)
    method.__name__ = name
    return method


def _same(self, *args, **kwargs):
    return self


# x_ for these methods x (swapaxes_ / swapdims_ change the shape: they are transpose_)
INPLACE = ("absolute acos acosh addbmm addmm arccos arcsin arctan2 arctan asin asinh atan2 atan atanh "
           "baddbmm bitwise_and bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor "
           "cosh cumprod cumsum divide eq erf erfc erfinv exp2 fmod frac ge greater greater_equal gt hypot "
           "le less less_equal log10 log2 logical_and logical_or logical_xor logit lt multiply nan_to_num "
           "ne negative not_equal sgn sinh subtract tan tril triu true_divide xlogy arcsinh arccosh arctanh "
           "fix deg2rad rad2deg copysign float_power lgamma digamma i0 sinc ldexp gcd lcm heaviside "
           "nextafter addmv addr renorm").split()


def _layout(self):
    from tinygrad_seq.torch_names import strided
    return strided


def _bernoulli_(self, p=0.5, *, generator=None):
    """Each element 1 with probability p, else 0, in self's dtype (torch's draws). p: a number,
    or a floating tensor broadcast to self's shape (per-element)."""
    from tinygrad_seq import autograd, random
    from tinygrad_seq.errors import ShapeMismatch
    if isinstance(p, autograd._Tensor):
        if p.dtype.kind != "f":
            raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for {p.dtype}: '
                                      f"p must be a floating tensor")
        probs = p.detach().cpu().numpy()
        try:
            probs = np.broadcast_to(probs, self.shape)
        except ValueError:
            raise ShapeMismatch(f"bernoulli_: p of shape {tuple(p.shape)} cannot be broadcast to the "
                                f"tensor's shape {tuple(self.shape)}") from None
        if not ((probs >= 0) & (probs <= 1)).all():   # NaN fails too, as torch's
            raise RuntimeError("bernoulli_: every probability in p must be in [0, 1]")
    else:
        probs = float(p)
        if not 0 <= probs <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    from tinygrad_seq.random_fills import in_memory_order_of
    stream = random.generator(generator).stream   # torch's draws, in self's memory order
    if isinstance(probs, np.ndarray):   # a uniform of p's dtype per element < its p
        kind = np.float64 if probs.dtype == np.float64 else np.float32
        mask = in_memory_order_of(self, stream.uniform(probs.size, 0.0, 1.0, kind)) < probs
    else:
        mask = in_memory_order_of(self, stream.bernoulli(int(np.prod(self.shape)), probs))
    mask = mask.astype(self.dtype)
    if self._in_graph():   # torch keeps the tensor in the graph, with a zero gradient
        cond = autograd._Tensor(np.ones(self.shape, np.bool_), device=self.device)
        return self._rebase(lambda t, m: m.where(cond, t), autograd._Tensor(mask, device=self.device),
                            name="bernoulli_")
    return self.copy_(mask)


METHODS = dict(
    fix=_alias("trunc"), arcsinh=_alias("asinh"), arccosh=_alias("acosh"), arctanh=_alias("atanh"),
    swapaxes_=_alias("transpose_"), swapdims_=_alias("transpose_"), split_with_sizes=_split_with_sizes,
    hsplit=_hsplit, vsplit=_vsplit, dsplit=_dsplit, msort=_msort, narrow_copy=_narrow_copy,
    sum_to_size=_sum_to_size, new_empty_strided=_new_empty_strided, positive=_positive,
    adjoint=_adjoint, H=property(_h), mH=property(_adjoint), conj=_same, conj_physical=_same,
    resolve_conj=_same, resolve_neg=_same, pin_memory=_same, share_memory_=_free_from("shared_memory", "share_memory_"),
    resize_=_resize_, resize_as_=_resize_as_, bernoulli_=_bernoulli_,
    is_conj=lambda self: False, is_neg=lambda self: False,
    is_pinned=lambda self, *a: False, is_shared=_free_from("shared_memory", "is_shared"), is_nonzero=_is_nonzero,
    is_same_size=lambda self, other: tuple(self.shape) == tuple(other.shape),
    is_cpu=property(lambda self: getattr(self.device, "type", "cpu") == "cpu"),
    # dense, strided, plain tensors only: the layout queries optimizers and collate code test
    is_sparse=property(lambda self: False), is_sparse_csr=property(lambda self: False),
    is_nested=property(lambda self: False), is_meta=property(lambda self: False),
    is_quantized=property(lambda self: False), is_mkldnn=property(lambda self: False),
    layout=property(_layout),
    get_device=_get_device, stride=_stride, data_ptr=_data_ptr, storage_offset=_storage_offset,
    real=property(lambda self: self), imag=property(_imag), apply_=_apply_, map_=_map_,
    scatter_reduce=_free_from("scatter_reduce_op", "scatter_reduce"),
    scatter_reduce_=_free_from("scatter_reduce_op", "scatter_reduce_"),
    unique=_free("unique"), multinomial=_free("multinomial"), bernoulli=_free("bernoulli"),
)


def _bool_fill(fill_):
    """fill_ with torch's bool rule: any non-zero number (0.5 too) fills a bool tensor with True."""
    def fill(self, value):
        if self.array.dtype == np.bool_ and isinstance(value, float):
            value = value != 0
        return fill_(self, value)
    fill.__name__, fill.__doc__ = "fill_", fill_.__doc__
    return fill


def attach(Tensor):
    from tinygrad_seq import random_fills, tensor_fill_math, tensor_order_stats
    Tensor.fill_ = _bool_fill(Tensor.fill_)
    for name, fn in {**tensor_fill_math.METHODS, **tensor_order_stats.METHODS, **random_fills.METHODS,
                     **METHODS}.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)
    for name in INPLACE:
        if not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", _inplace_of(name))
    # torch 2.13's undeprecated linear-algebra and special-function methods (functions_numeric.py)
    from tinygrad_seq import functions_numeric as numeric
    for name in ("det", "inverse", "slogdet", "logdet", "pinverse", "frexp", "mvlgamma", "matrix_exp", "cholesky",
                 "triangular_solve", "cholesky_solve", "cholesky_inverse"):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, getattr(numeric, name))
    if not hasattr(Tensor, "polygamma"):
        Tensor.polygamma = lambda self, n: numeric.polygamma(n, self)
    for name in ("index_fill_", "scatter_", "scatter_add_", "index_add_", "index_copy_", "index_add", "scatter",
                 "scatter_add", "index_fill"):   # numpy's axis= for dim=, as torch's parser takes it (inplace.py)
        setattr(Tensor, name, takes_axis(getattr(Tensor, name)))


# torch's free functions of the methods above: ts.kron(a, b) is a.kron(b)
FREE = ("kron cross cov corrcoef quantile nanquantile nanmedian mode histc unique_consecutive deg2rad "
        "rad2deg float_power ldexp angle heaviside addmv addr dist vdot matrix_power renorm rot90 "
        "diag_embed diagflat take masked_scatter slice_scatter select_scatter diagonal_scatter as_strided "
        "lgamma digamma i0 sinc copysign logaddexp2 signbit isposinf isneginf isreal gcd lcm nextafter fix "
        "arcsinh arccosh arctanh msort hsplit vsplit dsplit split_with_sizes adjoint positive is_nonzero "
        "is_same_size conj resolve_conj resolve_neg is_conj is_neg hardshrink negative scatter_reduce").split()
