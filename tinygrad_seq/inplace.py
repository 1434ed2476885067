"""Tensor's in-place operations (InPlaceOps, a base of Tensor): zero_, fill_, copy_, add_ ..., clamp_,
masked_fill_, index_fill_, scatter_, the unary ones (exp_, ...), uniform_ / normal_, +=, item assignment.

Outside the graph an in-place op computes its result from a detached alias and writes it into the
tensor's memory. Inside it (grad mode on, an operand requiring grad) it is recorded as PyTorch
records it (_rebase): the result is computed out of place from a snapshot and the tensor's node
becomes the result's; the replaced node stays in the tensor's history (_hist), so nodes that used
the tensor before still reach the old node. A write through a view (t[i], t.view(...), t.t()) is
recorded on its base, so `buf[i] = out` and `t[i].add_(x)` give torch's gradients. Every write
ticks autograd's clock; a node whose saved arrays were overwritten raises at backward. Writes
through `.data` are untracked."""
import numpy as np

from tinygrad_seq import autograd, device as _device, index_scatter_writes as _isw, ops_extra, writes
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.operand_types import defer_unknown
from tinygrad_seq.internal_overlap import (check_elementwise_operands, check_item_assignment,
                                           check_item_assignment_reads, check_no_internal_overlap,
                                           check_no_partial_overlap,
                                           has_internal_overlap, masked_fill_expanded)
from tinygrad_seq.argument_types import python_type_name
from tinygrad_seq.engine_messages import NO_GRAD_VIEW
from tinygrad_seq.errors import DTypeMismatch, ShapeMismatch
from tinygrad_seq.inplace_fast import arith_in_place, broadcasts_to, copy_in_place
from tinygrad_seq.inplace_reshape import (refuse_write_through_view_of_reshaped, reshape_in_graph, squeeze_node,
                                          t_order, transpose_order)
from tinygrad_seq.indexing import drop_leading_ones, ints_first, normalize_index, refuse_byte_mask_fill
from tinygrad_seq.int_convert import float_scalar, int_scalar
from tinygrad_seq.tensor_logic import alpha_form
from tinygrad_seq.tensor_autograd import retain_on, view_root
from tinygrad_seq.tensor_shape import view_fns
from tinygrad_seq.view_regen import refuse_inplace_on_multi_output_view
from tinygrad_seq.write_history import History


def _detached(x):
    return autograd._Tensor._wrap(x.array, x.device) if isinstance(x, InPlaceOps) else x


def _own_array(t):
    # a 0-d numpy reduction's numpy scalar cannot be written in place (`loss += criterion(...)`):
    # a 0-d array of its own first (a node that saved the scalar sees the write: note_scalar_array)
    if isinstance(t.array, np.generic):
        t._shared_array()


def _saves_self(out, arr, B):
    """out's node saved its result (relu_, exp_, tanh_ ...), just copied into arr, the memory of the
    tensor written in place: the node saves arr instead, as torch's saves the tensor, so that a later
    write to it makes backward raise (writes.saved_was_written). The node's clock moves past this
    write of arr; not when it saved another array sharing arr's memory (that change still raises)."""
    ctx = out._ctx
    saved = ctx.saved_tensors if ctx is not None else None
    res = out.array
    if not saved or res.shape != arr.shape or not any(a is res for a in saved):
        return
    if any(a is not res and hasattr(a, "shape") and B.may_share_memory(a, arr) for a in saved):
        return
    ctx.saved_tensors = tuple(arr if a is res else a for a in saved)
    ctx._clock = writes.clock


class InPlaceOps:
    """The in-place methods of Tensor (a base of it), on its slots (array, device, requires_grad, _ctx, ...)."""
    __slots__ = ()

    def _inplace_check(self, whole=True):
        """Refuse a write torch refuses, else record it (the version and autograd's clock).
        whole=False: the write's own region was checked for internal overlap (item assignment,
        fill_: torch allows them on an expand)."""
        self._refuse_inplace(whole)
        self._record_write()

    def _record_write(self):
        """Count a write that passed _refuse_inplace: the version (shared with base and views), autograd's clock."""
        self._bump_version()
        if not self._untracked:
            writes.note_inplace(self.array)

    def _refuse_inplace(self, whole=True):
        """Raise when self may not be written in place (nothing is recorded: a refused op is no write)."""
        grad_on = autograd.is_grad_enabled()
        if self._view is not None and grad_on:
            root = view_root(self)   # a view taken before its base was made to require grad too
            if root.requires_grad and (root._ctx is None or not self.requires_grad):   # (not: taken under no_grad)
                raise RuntimeError(NO_GRAD_VIEW if root._ctx is not None else "a view of a leaf Variable that "
                                   "requires grad is being used in an in-place operation.")
        if self.requires_grad and self._ctx is None and grad_on:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation (wrap it in ts.no_grad(), or write to .data)")
        if not autograd._state.inference and self.is_inference():
            raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed")
        if whole:
            check_no_internal_overlap(self.array)   # an expand's repeated elements: torch's RuntimeError

    def _in_graph(self, *others):
        """True when an in-place op must be recorded: grad mode is on and self or an operand
        requires grad (a grad-requiring leaf raises in _inplace_check)."""
        return autograd.is_grad_enabled() and (self.requires_grad or any(
            isinstance(o, InPlaceOps) and o.requires_grad for o in others))

    def _result(self, out, name):
        """out converted to self's dtype, checked to fit self's shape (torch's rules)."""
        if not isinstance(out, InPlaceOps):
            out = self._other(out)
        if out.shape != self.shape:
            if not broadcasts_to(out.shape, self.shape):
                raise ShapeMismatch(f"{name}: the result of shape {out.shape} does not fit the "
                                 f"tensor of shape {self.shape} written in place")
            out = out.expand(self.shape)
        if out.dtype != self.dtype:
            if (out.dtype.kind == "f" and self.dtype.kind != "f") or (self.dtype == np.bool_ and out.dtype != np.bool_):
                hint = ("; ts.Tensor(integers) is int64 here (API.md): make the tensor with "
                        "ts.tensor(data, dtype=ts.float32) or ts.zeros(...)") if self.dtype == np.int64 else ""
                raise RuntimeError(f"{name}: result type {out.dtype} can't be cast to the desired "
                                   f"output type {self.dtype}{hint}")
            out = out.to(dtype=self.dtype)
        return out

    def _write(self, name, fn, *args):
        """The in-place op self = fn(self, *args), recorded by autograd when needed."""
        _own_array(self)
        self._refuse_inplace()   # torch's leaf error first, then its operand checks
        check_elementwise_operands(self, name, args)
        if self._in_graph(*args):
            return self._rebase(fn, *args, name=name)
        out = self._result(fn(_detached(self), *[_detached(a) for a in args]), name)
        self._record_write()   # once computed: an op that raised wrote nothing
        _device.backend(self.device).copy_into(self.array, out.array)
        self._sync_base()
        return self

    def _rebase(self, fn, *args, name="in-place op"):
        """Differentiable in-place op, as PyTorch records it (see the module docstring)."""
        _own_array(self)
        B = _device.backend(self.device)
        view = self._live_view()
        if view is not None:
            base, kind, arg = view
            view_fn, put_fn = view_fns(kind, arg)
            dtype = self.dtype
            self._refuse_inplace()   # the write is recorded once the base took it (a refused one is none)
            refuse_inplace_on_multi_output_view(self)
            if base._shape_history is not None:
                refuse_write_through_view_of_reshaped(self, base)
            # torch's nodes: the base's CopySlices, the view read again from it an AsStridedBackward0
            base._rebase(lambda b, *a: named(put_fn(b, self._result(fn(view_fn(b), *a), name).to(dtype=dtype)),
                                             "CopySlices"), *args, name=name)
            if not self._untracked:   # the shared version went up in base's write
                writes.note_inplace(self.array)
            new = named(view_fn(base), "AsStridedBackward0")
            if not B.may_share_memory(self.array, base.array):
                B.copy_into(self.array, new.array)
            self._retarget(new)
            return self
        self._refuse_inplace()
        # the op's nodes get a clock of their own, after every node that used self before (the
        # write itself is recorded below, once the op did not raise: a refused op is no write)
        writes.tick()
        old = autograd._Tensor._wrap(B.copy(self.array), self.device, self.requires_grad)
        old._ctx, old._idx = self._ctx, self._idx
        # an operand that is self reads the snapshot (y += y): self's edge would be the new node's own
        out = self._result(fn(old, *[old if a is self else a for a in args]), name)
        self._bump_version()
        B.copy_into(self.array, out.array)
        if not self._untracked:
            writes.note_inplace(self.array)   # after the node: an operand it saved that is a view of self changed
        _saves_self(out, self.array, B)
        self._retarget(out, old.array.nbytes)
        return self

    def _put_in_graph(self, nidx, v, name):
        """self[nidx] = v recorded by autograd, written into self's memory: index_put's backward
        reads no values, so its input is a broadcast zero standing for self's node, and no copy of
        self is made (a decoder writing a buffer row per step would copy and keep it each step)."""
        _own_array(self)
        self._inplace_check()
        old = autograd._Tensor._wrap(np.broadcast_to(np.zeros((), self.dtype), self.shape), self.device,
                                     self.requires_grad)
        old._ctx, old._idx = self._ctx, self._idx
        out = ops_extra.IndexPutInto.apply(old, v.to(dtype=self.dtype), idx=nidx, into=self.array)   # (torch's errors)
        self._retarget(out)
        return self

    def _reshaped_in_place(self, fn, name, node, order=None):
        """The shape ops' in-place forms (unsqueeze_, squeeze_, t_, transpose_): self takes the
        shape of fn(self), its data unchanged; in the graph recorded as torch's node `node`
        (inplace_reshape.py; order: the permutation of t_ / transpose_)."""
        if self.requires_grad and autograd.is_grad_enabled():
            if self._ctx is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                                   "operation (wrap it in ts.no_grad(), or write to .data)")
            return reshape_in_graph(self, fn, name, node, order)
        self.array = fn(self).array
        self._bump_version()   # torch's: autograd's saved-tensor checks see the change of shape
        return self

    def unsqueeze_(self, dim):
        return self._reshaped_in_place(lambda t: t.unsqueeze(dim), "unsqueeze_", "UnsqueezeBackward1")

    def squeeze_(self, dim=None):
        return self._reshaped_in_place(lambda t: t.squeeze(dim), "squeeze_", squeeze_node(dim))

    def t_(self):
        return self._reshaped_in_place(lambda t: t.t(), "t_", "TBackward1", t_order)

    def transpose_(self, dim0, dim1):
        return self._reshaped_in_place(lambda t: t.transpose(dim0, dim1), "transpose_", "TransposeBackward1",
                                       transpose_order(dim0, dim1))

    def _retarget(self, out, snapshot_bytes=0, move_retain=True):
        """Make self's node out's, keeping the replaced one for nodes that used self before
        (write_history.History); a retain_grad() of self moves to the new node, as torch's
        (not for a shape change in place: move_retain False)."""
        hist = self._hist
        if hist is None:
            hist = self._hist = History()
        boundary = out._ctx._clock if out._ctx is not None else writes.clock + 1
        old_ctx, old_idx = self._ctx, self._idx
        hist.add(boundary, old_ctx, old_idx, self.requires_grad, snapshot_bytes)
        self._ctx, self._idx, self.requires_grad = out._ctx, out._idx, out.requires_grad
        if move_retain and old_ctx is not None and old_ctx._retained and old_ctx._retained.get(old_idx) is self:
            del old_ctx._retained[old_idx]
            if out._ctx is not None:
                retain_on(out._ctx, out._idx, self)
        writes.tick()   # nodes created from here on see the new node (autograd._stale_view)

    def _live_view(self):
        """self's _view (base, kind, arg), or None: for a non-view, and for a view cut off from its
        base, whose base's memory was replaced since the view was taken (x.data = ..., set_): the
        view keeps the old memory and its writes no longer reach the base, as torch's."""
        view = self._view
        if view is not None and _cut_off(self.array, view[0].array):
            return None
        return view

    def _sync_base(self):
        """After a write outside the graph: a view whose array is a copy of its base's region
        (element reads on "cuda") writes the region back, up the chain of bases."""
        view = getattr(self, "_view", None)
        if view is None:
            return
        base, kind, arg = view
        B = _device.backend(self.device)
        if B.may_share_memory(self.array, base.array):
            base._sync_base()
            return
        if _cut_off(self.array, base.array):
            return
        new = view_fns(kind, arg)[1](_detached(base), _detached(self))
        B.copy_into(base.array, new.array)   # the write's version was counted on the shared counter
        writes.note_inplace(base.array)
        base._sync_base()

    # ------------------------------------------------------------ the ops
    def zero_(self):
        return self._fill(0, "ZeroBackward0")

    def fill_(self, value):
        return self._fill(value, "FillBackward3" if isinstance(value, InPlaceOps) else "FillBackward2")

    def _fill(self, value, node):
        if isinstance(value, (str, bytes)):   # torch's TypeError, not numpy's ValueError
            raise TypeError(f"fill_(): expected a number or a 0-dimensional Tensor, got {type(value).__name__}")
        if isinstance(value, InPlaceOps) and value.ndim != 0:
            raise ShapeMismatch(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                                f"dimensions.")
        _own_array(self)   # a numpy scalar's fill() writes nothing
        if not self._in_graph(value):
            self._inplace_check(whole=False)   # torch's fill_ / zero_ write an expand's repeats
            v = value.item() if isinstance(value, InPlaceOps) else value
            if self.dtype.kind != "f":
                if isinstance(v, float) and not float(v).is_integer():
                    v = int(v)
                elif type(v) is int and self.dtype.kind in "iu":
                    v = int_scalar(v, self.dtype)   # uint8.fill_(-1) is 255, fill_(300) raises, as torch's
            elif not isinstance(value, InPlaceOps):   # a tensor's value is cast, a number checked
                v = float_scalar(v, self.dtype)   # fill_(1e5) on float16 raises, as torch's
            _device.backend(self.device).fill(self.array, v)
            self._sync_base()
            return self
        if not isinstance(value, InPlaceOps) and self.dtype.kind == "f":
            float_scalar(value, self.dtype)
        return self._rebase(lambda t, v: named(_filled(t, v), node),
                            self._other(value) if not isinstance(value, InPlaceOps) else value, name="fill_")

    def copy_(self, other, non_blocking=False):   # (torch 2.13's name for the source)
        src = other
        if isinstance(src, InPlaceOps):   # numpy's copyto outside the graph (inplace_fast.py)
            fast = copy_in_place(self, src)
            if fast is not None:
                return fast
        if isinstance(src, InPlaceOps) and src.device != self.device:
            src = src.to(self.device)
        if not isinstance(src, InPlaceOps):
            src = autograd._Tensor(np.asarray(src), device=self.device)
        else:   # x[1:].copy_(x[:-1]): torch's RuntimeError, after its leaf error
            self._refuse_inplace()
            check_no_partial_overlap(self, src)
        if src.dtype != self.dtype:
            src = src.to(dtype=self.dtype)
        # s.clone(): a graph node of its own, so that self does not become src itself (src a
        # grad-requiring leaf made self that leaf's twin, and the gradient stopped at self)
        if self.requires_grad and autograd.is_grad_enabled():
            # torch's: the overwritten value's graph gets a zero gradient (not none): a where that
            # takes every element from src
            keep = autograd._Tensor(np.ones(self.shape, np.bool_), device=self.device)
            return self._rebase(lambda t, s: named(s.where(keep, t), "CopyBackwards"), src, name="copy_")
        return self._write("copy_", lambda t, s: named(s.clone(), "CopyBackwards"), src)   # torch's node

    # add_ / sub_ / mul_ / div_ try numpy's out= first (inplace_fast.py: outside the graph, a float
    # CPU tensor and a number or a tensor of its dtype), else the general _write
    def add_(self, other, *rest, alpha=1):
        other, alpha = alpha_form("add_", other, rest, alpha)
        fast = arith_in_place(self, "add_", other, alpha)
        return self._write("add_", lambda t, o: t.add(o, alpha=alpha), other) if fast is None else fast

    def sub_(self, other, *rest, alpha=1):
        other, alpha = alpha_form("sub_", other, rest, alpha)
        fast = arith_in_place(self, "sub_", other, alpha)
        return self._write("sub_", lambda t, o: t.sub(o, alpha=alpha), other) if fast is None else fast

    def mul_(self, other):
        fast = arith_in_place(self, "mul_", other)
        return self._write("mul_", lambda t, o: t * o, other) if fast is None else fast

    def div_(self, other, rounding_mode=None):
        fast = arith_in_place(self, "div_", other) if rounding_mode is None else None
        return (self._write("div_", lambda t, o: t.div(o, rounding_mode=rounding_mode), other)
                if fast is None else fast)

    def floor_divide_(self, other):
        return self._write("floor_divide_", lambda t, o: t // o, other)

    def remainder_(self, other):
        return self._write("remainder_", lambda t, o: t % o, other)

    def pow_(self, exponent):
        return self._write("pow_", lambda t, o: t ** o, exponent)

    def clamp_(self, min=None, max=None):
        return self._write("clamp_", lambda t, lo, hi: t.clamp(lo, hi), min, max)

    clip_ = clamp_

    def clamp_min_(self, min):
        return self.clamp_(min=min)

    def clamp_max_(self, max):
        return self.clamp_(max=max)

    def masked_fill_(self, mask, value):
        check_no_partial_overlap(self, mask)   # torch's: the mask may be self, not part of it
        arr = self.array
        if type(arr) is np.ndarray and has_internal_overlap(arr.shape, arr.strides) and not self._in_graph(mask, value):
            return masked_fill_expanded(self, mask, value)   # torch's deprecation warning, then the fill
        return self._write("masked_fill_", lambda t, m, v: t.masked_fill(m, v), mask, value)

    # the index / scatter writes (index_scatter_writes.py)
    index_fill_, scatter_, scatter_add_ = _isw.index_fill_, _isw.scatter_, _isw.scatter_add_
    index_add_, index_copy_, index_add = _isw.index_add_, _isw.index_copy_, _isw.index_add
    scatter, scatter_add, index_fill = _isw.scatter, _isw.scatter_add, _isw.index_fill

    # t += Foo(): NotImplemented, so Python tries t + Foo() and then Foo.__radd__, as torch's
    __iadd__ = defer_unknown(lambda self, o: self.add_(o))
    __isub__ = defer_unknown(lambda self, o: self.sub_(o))
    __imul__ = defer_unknown(lambda self, o: self.mul_(o))
    __itruediv__ = defer_unknown(lambda self, o: self.div_(o))
    __ifloordiv__ = defer_unknown(lambda self, o: self.floor_divide_(o))
    __imod__ = defer_unknown(lambda self, o: self.remainder_(o))
    __ipow__ = defer_unknown(lambda self, o: self.pow_(o))

    def __setitem__(self, idx, value):
        """t[idx] = value: recorded by autograd (index_put) when value or t requires grad."""
        if type(value) is float and not -3.4e38 < value < 3.4e38 and self.array.dtype == np.float32:
            float_scalar(value, self.array.dtype)   # torch's: float32 refuses what it cannot hold (float16 takes inf)
        if not isinstance(value, (InPlaceOps, bool, int, float, complex, np.integer)):   # torch's (None wrote nan)
            raise TypeError(f"can't assign a {python_type_name(value)} to a {self.type()}")
        if type(idx) is not int and type(idx) is not slice:
            refuse_byte_mask_fill(idx, value)
        _own_array(self)   # a 0-d reduction's numpy scalar: an array to write into (a[...] = 2.)
        nidx, advanced = normalize_index(idx, self)
        split = ints_first(nidx, advanced)
        if split is not None:   # torch's order: the integers select a view, the arrays index it
            self._view_getitem(split[0])[split[1]] = value
            return
        given = None
        if isinstance(value, InPlaceOps):
            if value.device != self.device:
                value = value.to(self.device)
            given, value = value, drop_leading_ones(value)
            arrays = [i for i in nidx if hasattr(i, "dtype")]   # (host or device index arrays)
            if value.dtype != self.dtype and advanced and not (
                    value.ndim == 0 and len(arrays) == 1 and arrays[0].dtype == np.bool_ and arrays[0].ndim
                    and all(i is None or i is Ellipsis or isinstance(i, slice) or hasattr(i, "dtype") for i in nidx)):
                # torch's index_put: no conversion (a basic index, or a 0-d value under one mask
                # beside slices, converts, as copy_ and masked_fill do)
                raise DTypeMismatch(f"Index put requires the source and destination dtypes match, got "
                                    f"{self.dtype} for the destination and {value.dtype} for the source.")
        value_array = value.array if isinstance(value, InPlaceOps) else None
        check_item_assignment_reads(self.array, nidx, advanced, value_array,   # torch's overlap refusals
                                    None if given is None else given.array)
        if self._in_graph(value):
            v = value if isinstance(value, InPlaceOps) else self._other(value)
            node = "IndexPutBackward0" if advanced else "CopySlices"   # torch's index_put_ / copy_ of a view
            if self.device == "cpu" and self._live_view() is None and v is not self:
                named(self._put_in_graph(nidx, v, "item assignment"), node)
                return
            self._rebase(lambda t, vv: named(ops_extra.IndexPut.apply(t, vv.to(dtype=t.dtype), idx=nidx), node), v,
                         name="item assignment")
            return
        check_item_assignment(self.array, nidx, advanced)   # the written region's overlap, as torch's
        self._inplace_check(whole=False)
        v = value.array if isinstance(value, InPlaceOps) else value
        if type(v) is int and self.array.dtype.kind in "iu":
            v = int_scalar(v, self.array.dtype)   # t[i] = -1 on uint8 is 255 (300 raises), as torch's
        _device.backend(self.device).setitem(self.array, nidx, v)   # (torch's RuntimeError where v does not fit)
        self._sync_base()


def _cut_off(view_array, base_array):
    """Whether a host view's array, made by numpy as a view of some memory, no longer views its
    base's array: the base's memory was replaced (x.data = ...). On "cuda" a view's array may be a
    copy of its base's region (written back by _sync_base), so only numpy arrays are judged."""
    return (type(view_array) is np.ndarray and view_array.base is not None
            and type(base_array) is np.ndarray and not np.may_share_memory(view_array, base_array))


def _unary_inplace(name):
    def method(self, **kwargs):   # (round_(decimals=))
        return self._write(name + "_", lambda t: getattr(t, name)(**kwargs))
    method.__name__ = name + "_"
    method.__doc__ = f"In-place {name}."
    return method


for _name in ("exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "neg", "floor", "ceil", "round",
              "trunc", "sign", "reciprocal", "sin", "cos", "log1p", "expm1", "square", "rsqrt"):
    setattr(InPlaceOps, _name + "_", _unary_inplace(_name))


def _filled(t, v):
    """t filled with v, as a graph node: v everywhere (t * 0 + v gave nan where t held inf or nan),
    a zero gradient to t and the summed one to v (a 0-d tensor's)."""
    from tinygrad_seq.functions import where
    from tinygrad_seq.tensor import Tensor
    return where(Tensor(np.True_, device=t.device), v, t)
