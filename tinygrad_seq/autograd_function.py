"""torch.autograd.Function for user code: forward and backward see Tensors, as torch's do.

    class MyReLU(ts.autograd.Function):
        @staticmethod
        def forward(ctx, x):                       # Tensors in, grad mode off
            ctx.save_for_backward(x)
            return x.clamp(min=0)
        @staticmethod
        def backward(ctx, grad_output):            # one gradient Tensor per output
            x, = ctx.saved_tensors
            return grad_output * (x > 0)            # one per forward argument (None: no gradient)

The engine's own ops subclass the same Function with array_io (forward/backward on raw backend
arrays, the hot path); a subclass defined outside tinygrad_seq gets this Tensor interface unless
it sets ``array_io = True``. The user's class instance is the graph node as for the engine's ops:
Function.__init_subclass__ installs apply (below) and wraps backward so the sweep, which hands
arrays, calls the user's backward with Tensors. Also torch's forward(*args) + setup_context(ctx,
inputs, output) form, mark_non_differentiable, mark_dirty (dirty_inputs.py), set_materialize_grads and
once_differentiable.
"""
from __future__ import annotations

import functools
import inspect
import weakref

import numpy as np

from tinygrad_seq import anomaly_mode as _anomaly
from tinygrad_seq import autograd_graph as _saved_hooks
from tinygrad_seq import device as _device
from tinygrad_seq import writes as _writes
from tinygrad_seq.dirty_inputs import adopt_dirty
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.graph_walk import next_seq
from tinygrad_seq.grad_mode import _state


class TorchContext:
    """The ctx methods of torch's Function API that the engine's own ops never call: a base of
    autograd.Function (no slots of its own: Function's __slots__ hold its state)."""
    __slots__ = ()
    _packed_saves = None   # (unpack_hook, packed values) under saved_tensors_hooks (autograd_graph.py)

    def name(self):
        """torch's grad_fn.name(): its name for the op's node where this engine's op stands for
        another torch op (grad_fn_names.py: "MmBackward0", "MeanBackward0", ...), else
        "<Op>Backward0" for the library's ops, "<Fn>Backward" for a user's custom Function."""
        if self.array_io:
            from tinygrad_seq.grad_fn_names import torch_name
            name = torch_name(self) or f"{type(self).__name__}Backward0"
            return f"torch::autograd::{name}" if name in ("CopySlices", "CopyBackwards") else name   # torch's C++ nodes
        return f"{type(self).__name__}Backward"

    def __repr__(self):
        return f"<{self.name().rsplit('::', 1)[-1]} object at {hex(id(self))}>"   # torch's

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    def __call__(self, *args, **kwargs):
        if "_out_meta" in self.__dict__ or self.array_io:   # a node made by apply: a grad_fn
            raise TypeError(f"{self.name()} object is not callable: take gradients with "
                            f"torch.autograd.grad or backward()")
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           "new-style autograd function with static forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """torch's second form: forward(*args) without ctx, then setup_context(ctx, inputs,
        output) saves what backward needs (Tensor-interface subclasses)."""
        raise NotImplementedError("setup_context is not overridden")

    @property
    def next_functions(self):
        """torch's grad_fn.next_functions: (node, output index) per input, an AccumulateGrad for
        a leaf that requires grad, (None, 0) for an input that does not (graph walkers read it)."""
        from tinygrad_seq.autograd import _parent_state
        out = []
        for p in getattr(self, "parents", ()):
            ctx, idx, req = _parent_state(p, self._clock)
            out.append((ctx, idx) if ctx is not None else ((AccumulateGrad(p), 0) if req else (None, 0)))
        return tuple(out)

    def mark_non_differentiable(self, *outputs):
        """The outputs given (Tensors forward returns) do not require grad; their gradient
        arrives in backward as zeros (None without materialized grads)."""
        self._non_differentiable = self.__dict__.get("_non_differentiable", ()) + outputs

    def set_materialize_grads(self, value):
        """False: backward gets None for an output whose gradient never arrived (default True:
        zeros of the output's shape), as torch's."""
        self._materialize = bool(value)

    def mark_dirty(self, *tensors):
        """The inputs given were written in place by forward (which returns them): each returned
        one is the input tensor itself, its history moved onto this node, as torch's
        (dirty_inputs.py)."""
        self._dirty = self.__dict__.get("_dirty", ()) + tensors


class AccumulateGrad:
    """The node torch puts under a leaf that requires grad (next_functions' entries for leaves)."""
    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    next_functions = ()


def _tensor_type():
    from tinygrad_seq.tensor import Tensor
    return Tensor


def install(cls):
    """Give a Tensor-interface subclass torch's apply, and a backward the engine can call."""
    user_backward = cls.__dict__.get("backward") or cls.__dict__.get("vjp")   # (torch's vjp is backward's alias)
    if user_backward is not None:
        fn = user_backward.__func__ if isinstance(user_backward, (staticmethod, classmethod)) else user_backward
        cls._user_backward = staticmethod(fn)
        cls.backward = staticmethod(_engine_backward)
    cls.apply = classmethod(_apply)
    cls.saved_tensors = _SAVED_TENSORS


def _saved_slot():
    global _SLOT
    if _SLOT is None:
        from tinygrad_seq.autograd import Function
        _SLOT = Function.__dict__["saved_tensors"]   # the __slots__ member the engine's nodes use
    return _SLOT


_SLOT = None


def _get_saved(ctx):
    saved = _saved_slot().__get__(ctx)
    if saved is None:   # freed by a backward without retain_graph: torch raises on access too
        from tinygrad_seq.engine_messages import BACKWARD_TWICE
        raise RuntimeError(BACKWARD_TWICE)
    return saved


# a user's Function's ctx.saved_tensors (and grad_fn.saved_tensors): torch's error once freed
_SAVED_TENSORS = property(_get_saved, lambda ctx, v: _saved_slot().__set__(ctx, v))


def _uses_setup_context(cls):
    from tinygrad_seq.autograd import Function
    setup = getattr(cls, "setup_context", None)
    return setup is not None and getattr(setup, "__func__", setup) is not getattr(
        Function.setup_context, "__func__", Function.setup_context)


def _forward_signature(cls):
    """inspect.signature(cls.forward), kept per class while forward stays the same function
    (inspect builds it in about 30 us: more than the rest of an apply)."""
    forward = cls.forward
    kept = _signatures.get(cls)
    if kept is None or kept[0] != forward:
        kept = _signatures[cls] = (forward, inspect.signature(forward))
    return kept[1]


_signatures = weakref.WeakKeyDictionary()   # a Function class -> (its forward, forward's signature)


def _bind(cls, setup_style, args, kwargs):
    """Keyword arguments bound to forward's parameters, as torch's apply binds them: a Tensor
    given by keyword is an input like a positional one; the setup_context form also fills in
    defaults (its `inputs` holds every parameter)."""
    if not kwargs and not setup_style:
        return args, kwargs
    try:
        sig = _forward_signature(cls)
        bound = sig.bind(*args, **kwargs) if setup_style else sig.bind(None, *args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{cls.__name__}.apply: {e}") from None
    if setup_style:
        bound.apply_defaults()
        return tuple(bound.args), dict(bound.kwargs)
    return tuple(bound.args[1:]), dict(bound.kwargs)


def _apply(cls, *args, **kwargs):
    """Fn.apply(*args): forward under no_grad on the Tensors given; the outputs join the graph
    with the ctx as their node when an input requires grad and grad mode is on."""
    Tensor = _tensor_type()
    setup_style = _uses_setup_context(cls)
    args, kwargs = _bind(cls, setup_style, args, kwargs)
    inputs = [a for a in args if isinstance(a, Tensor)]
    dev = inputs[0].device if inputs else _device.canonical("cpu")
    for t in inputs:
        if t.device != dev:
            raise RuntimeError(f"{cls.__name__}.apply: expected all tensors on one device, got "
                               f"{getattr(dev, 'type', dev)} and {getattr(t.device, 'type', t.device)}")
    ctx = cls.__new__(cls)
    ctx.device, ctx.b = dev, _device.backend(dev)
    ctx.saved_tensors = ()
    ctx._materialize, ctx._non_differentiable = True, ()
    needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    requires = True in needs and _state.grad
    ctx.needs_input_grad = needs   # as torch's: what the inputs require, whatever the grad mode
    prev, _state.grad = _state.grad, False
    try:
        if setup_style:
            out = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, out)
        else:
            out = cls.forward(ctx, *args, **kwargs)
    finally:
        _state.grad = prev
    single = not isinstance(out, tuple)
    outs = (out,) if single else out
    dirty = ctx.__dict__.pop("_dirty", ())
    if dirty:
        _writes.tick()   # this node's clock after every node that used a dirty input before
    for k, s in enumerate(ctx.saved_tensors):
        if s is not None and not isinstance(s, Tensor):
            raise TypeError(f"save_for_backward can only save variables, but argument {k} is of type "
                            f"{type(s).__name__}")
    # saved Tensors are kept as aliases: no cycle through an output (made under no_grad, it has
    # no node yet), backward sees the values forward saw (a later in-place write raises, as
    # torch's version check does) and the node and output index of a graph tensor (torch's)
    ctx.saved_tensors = tuple(s if s is None or not isinstance(s, Tensor) else _saved_alias(s, Tensor)
                              for s in ctx.saved_tensors)
    if requires and _saved_hooks.STACK:   # torch.autograd.graph.saved_tensors_hooks
        ctx.saved_tensors = _saved_hooks.pack_saved(ctx, ctx.saved_tensors)
    non_diff = {id(t) for t in ctx._non_differentiable}
    ctx._non_differentiable = ()
    ctx._out_meta = tuple((o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outs)
    if requires:
        ctx.parents, ctx._clock, ctx.n_outputs = tuple(inputs), _writes.clock, len(outs)
        ctx._seq = next_seq()   # numbered as torch's sequence_nr (graph_walk.py)
        ctx._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        if _anomaly.state.enabled:
            _anomaly.record_stack(ctx)
    results, made = [], {}   # made: id of a tensor forward made -> its output (returned twice: one object)
    input_ids = {id(a) for a in inputs}
    dirty_ids = {id(t) for t in dirty if id(t) in input_ids}
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            results.append(o)
            continue
        if id(o) in dirty_ids:   # an input written in place: returned as itself (dirty_inputs.py)
            results.append(adopt_dirty(ctx, o, i, requires and o.dtype.kind == "f" and id(o) not in non_diff))
            continue
        t = made.get(id(o))
        if t is None:
            t = Tensor._wrap(o.array, o.device)
            if id(o) not in input_ids:   # an input returned twice gives two tensors, as torch's
                made[id(o)] = t
        if requires and o.dtype.kind == "f" and id(o) not in non_diff:
            t.requires_grad, t._ctx, t._idx = True, ctx, i   # twice: torch's index is the last
        results.append(t)
    return results[0] if single else tuple(results)


def _saved_alias(s, Tensor):
    alias = Tensor._wrap(s.array, s.device, s.requires_grad)
    if s._ctx is not None:
        alias._ctx, alias._idx = s._ctx, s._idx
    return alias


def _engine_backward(ctx, *grads):
    """The sweep's call (array gradients, None where none arrived) -> the user's backward on
    Tensors -> one array (or None) per tensor input, checked against the inputs' shapes."""
    Tensor = _tensor_type()
    b, dev = ctx.b, ctx.device
    wrapped = []
    for g, meta in zip(grads, ctx._out_meta):
        if g is None and ctx._materialize and meta is not None:
            g = b.zeros(meta[0], meta[1])
        wrapped.append(None if g is None else Tensor._wrap(g, dev))
    name = type(ctx).__name__
    out = type(ctx)._user_backward(ctx, *wrapped)
    out = out if isinstance(out, tuple) else (out,)
    n_args = len(ctx._arg_is_tensor)
    if len(out) < n_args or any(g is not None for g in out[n_args:]):
        raise RuntimeError(f"function {name}Backward returned an incorrect number of gradients "
                           f"(expected {n_args}, got {len(out)})")
    arrays = []
    parents = iter(ctx.parents)
    for k, (g, is_tensor) in enumerate(zip(out, ctx._arg_is_tensor)):
        if not is_tensor:
            if g is not None:
                raise RuntimeError(f"function {name}Backward returned a gradient different than None "
                                   f"at position {k + 1}, but the corresponding forward input was not a Tensor")
            continue
        p = next(parents)
        if g is None:
            arrays.append(None)
            continue
        if not isinstance(g, Tensor) and (isinstance(g, bool) or not isinstance(g, (np.ndarray, np.generic, int,
                                                                                      float))):
            raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")   # torch's (a tuple, a list)
        g = g.array if isinstance(g, Tensor) else b.asarray(g, p.dtype)
        if tuple(g.shape) != tuple(p.shape) and not _expandable(tuple(p.shape), tuple(g.shape)):
            raise ShapeMismatch(f"Function {name}Backward returned an invalid gradient at index {k} - "
                                f"got {list(g.shape)} but expected shape compatible with {list(p.shape)}")
        arrays.append(g)
    return tuple(arrays)


def _expandable(shape, grad_shape):
    """shape broadcasts to grad_shape (so the engine may sum grad_shape back down to shape)."""
    if len(shape) > len(grad_shape):
        return False
    return all(s == g or s == 1 for s, g in zip(reversed(shape), reversed(grad_shape)))


def once_differentiable(fn):
    """torch.autograd.function.once_differentiable: backward runs as it is; a create_graph=True
    backward gives its gradient through a node that raises torch's error if reached again
    (higher_order.py)."""
    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        return fn(ctx, *grads)
    wrapper.once_differentiable = True
    return wrapper


def __getattr__(name):
    # torch.autograd.function.Function / FunctionCtx: the engine's Function (ctx and node at once)
    if name in ("Function", "FunctionCtx"):
        from tinygrad_seq.autograd import Function
        return Function
    raise AttributeError(f"module 'tinygrad_seq.autograd.function' has no attribute {name!r}")
