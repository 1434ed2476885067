"""Tensor's autograd attributes and entry points (AutogradAttrs, a base of Tensor): backward,
retain_grad, the gradient hooks, detach / detach_, requires_grad_, and the torch internals that
programs read: _version (one counter shared by a view and its base), _base (a view's base Tensor),
_grad (an alias of .grad).

A view keeps (base, kind, arg) in its `_view` slot (tensor_shape.view_fns); views of views chain
to the root tensor whose memory they all view, as torch's views share their base's version
counter and name that root as their _base."""
import warnings
import weakref

import numpy as np

from tinygrad_seq import autograd, writes
from tinygrad_seq.grad_mode import _state
from tinygrad_seq.graph_walk import record_detach

_SCALAR_WARNING = ("Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                   "behavior.\nConsider using tensor.detach() first.")
_scalar_warned = [False]   # torch warns once per process (TORCH_WARN_ONCE)


def warn_scalar_of_grad_tensor():
    """float(t) / complex(t) of a tensor that requires grad, in grad mode: torch's one-time warning."""
    if not _scalar_warned[0]:
        _scalar_warned[0] = True
        warnings.warn(_SCALAR_WARNING, UserWarning, stacklevel=3)


def view_root(t):
    """The tensor whose memory view t (and the views it was taken from) views; t when no view."""
    view = t._view
    while view is not None:
        t = view[0]
        view = t._view
    return t


class AutogradAttrs:
    """Autograd methods of Tensor, which derives from this class; they use Tensor's slots."""
    __slots__ = ()

    @property
    def _version(self):
        """Count of in-place writes to this tensor's memory: a view and its base share one
        counter (held by the root, torch's shared VersionCounter); raising it records the write."""
        return (self if self._view is None else view_root(self))._ver

    @_version.setter
    def _version(self, value):
        root = self if self._view is None else view_root(self)
        if value > root._ver and not self._untracked:
            writes.note_inplace(self.array)
        root._ver = value

    def _bump_version(self):
        """One in-place write to this tensor's memory: the shared counter goes up by one."""
        (self if self._view is None else view_root(self))._ver += 1

    @property
    def _base(self):
        """The tensor this view views (the root of a chain of views), None for a non-view: torch's."""
        return None if self._view is None else view_root(self)

    @property
    def _grad(self):   # torch's alias of .grad (A3C's `shared_param._grad = param.grad`)
        return self.grad

    @_grad.setter
    def _grad(self, value):
        self.grad = value

    @_grad.deleter
    def _grad(self):
        self.grad = None

    @property
    def volatile(self):
        """torch 0.3's flag, read by old training code: always False, with torch's warning."""
        warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)
        return False

    @volatile.setter
    def volatile(self, value):
        warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                      UserWarning, stacklevel=2)

    def detach(self):
        out = autograd._Tensor._wrap(self._shared_array() if self.device == "cpu" else self.array, self.device)
        inference = self.is_inference()   # the same memory: an inference tensor exactly when self is
        if inference or out._inference:   # (written only when it differs from the class default)
            out._inference = inference
        return out

    def is_inference(self) -> bool:
        """Made under inference_mode(), or a view or detach() of such a tensor (torch's: a view
        of a normal tensor is normal, wherever it was taken)."""
        view = self._view
        return view[0].is_inference() if view is not None else self._inference

    def detach_(self):
        """Only self leaves the graph: earlier nodes keep their path through its old node (kept in
        _hist, graph_walk.record_detach); one that saved self raises at backward, as torch's."""
        if self._view is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        if self._ctx is not None:
            record_detach(self)
        self._ctx, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad=True):
        if type(requires_grad) is not bool and not isinstance(requires_grad, np.bool_):
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must be bool, not "
                            f"{type(requires_grad).__name__}")
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")   # torch's words
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables")
        if requires_grad and not _state.inference and self.is_inference():
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode "
                               "is not allowed (make a clone() of it first)")
        self.requires_grad = requires_grad
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if inputs is not None or create_graph:   # autograd_api.backward: inputs=, higher_order.py
            return autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)
        autograd.backward_from(self, gradient, bool(retain_graph))

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor after backward (PyTorch's retain_grad). The node
        holds self weakly, as torch's: a retained tensor the program dropped is freed (its
        gradient then goes nowhere)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None:
            retain_on(self._ctx, self._idx, self)

    def register_hook(self, hook):
        """hook(grad) runs when this tensor's gradient is computed; a Tensor it returns
        replaces the gradient (torch's Tensor.register_hook)."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._ctx is None:
            if self._hooks is None:
                self._hooks = []
            entry = autograd.GradHook(hook)
            self._hooks.append(entry)
            return _HookHandle(self._hooks, entry)
        ctx = self._ctx
        if getattr(ctx, "_grad_hooks", None) is None:
            ctx._grad_hooks = {}
        hooks = ctx._grad_hooks.setdefault(self._idx, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs after this leaf's .grad got its final value in a backward()."""
        if self._ctx is not None:
            raise RuntimeError("post accumulate grad hooks can only be registered on leaf tensors")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)


def retain_on(ctx, idx, t):
    """Record that node ctx's output idx, tensor t, keeps its .grad (retain_grad). The table holds
    t weakly (the sweep fills .grad of the ones still alive), so the graph does not keep t alive."""
    if ctx._retained is None:
        ctx._retained = weakref.WeakValueDictionary()
    ctx._retained[idx] = t


class _HookHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        for i, h in enumerate(self.hooks):
            if h is self.hook:
                del self.hooks[i]
                break
