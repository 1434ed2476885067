"""Tensor's in-place operations: zero_, fill_, copy_, add_, sub_, mul_, div_, clamp_, uniform_,
normal_, +=, -=, *= and item assignment, as the InPlaceOps base class of Tensor.

Outside the graph an in-place op writes the tensor's memory through its device's backend. Inside
it (grad mode on and an operand requiring grad) it is recorded as PyTorch records it (_rebase).
Every write raises the tensor's version, so graph nodes that saved the tensor before raise at
backward.
"""
import numpy as np

from tinygrad_seq import autograd, device as _device, random
from tinygrad_seq.indexing import normalize_index


class InPlaceOps:
    """The in-place methods of Tensor, which derives from this class (every Tensor is an
    InPlaceOps); they work on Tensor's slots (data, device, requires_grad, _ctx, _idx, _version)."""
    __slots__ = ()

    def _inplace_check(self):
        if self.requires_grad and self._ctx is None and autograd.is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation (wrap it in ts.no_grad())")
        self._version += 1

    def _in_graph(self, *others):
        """True when an in-place op must be recorded: grad mode is on and self or an operand
        requires grad (a grad-requiring leaf raises in _inplace_check)."""
        return autograd.is_grad_enabled() and (self.requires_grad or any(
            isinstance(o, InPlaceOps) and o.requires_grad for o in others))

    def _rebase(self, fn, *args):
        """Differentiable in-place op, as PyTorch records it: out = fn(old self, *args) is computed
        out of place from a snapshot of self, written into self's memory, and self becomes out's
        node. Nodes that saved self before see its version change and raise at backward."""
        self._inplace_check()
        B = _device.backend(self.device)
        # a plain Tensor (autograd._Tensor, which tensor.py sets: importing it here is a cycle)
        old = autograd._Tensor._wrap(B.copy(self.array), self.device, self.requires_grad)
        old._ctx, old._idx = self._ctx, self._idx
        out = fn(old, *args)
        if out.dtype != self.dtype:
            out = out.to(dtype=self.dtype)
        B.copy_into(self.array, out.array)
        self._ctx, self._idx, self.requires_grad = out._ctx, out._idx, out.requires_grad
        return self

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        if self._in_graph():
            return self._rebase(lambda t: t * 0 + value)
        self._inplace_check()
        _device.backend(self.device).fill(self.array, value)
        return self

    def copy_(self, src):
        if self._in_graph(src):
            if isinstance(src, InPlaceOps) and src.shape != self.shape:
                src.expand(self.shape)  # raises the shape error
            return self._rebase(lambda t, s: t * 0 + s, src)
        self._inplace_check()
        src = src.array if isinstance(src, InPlaceOps) else np.asarray(src)
        B = _device.backend(self.device)
        if getattr(src, "shape", None) != self.shape and np.broadcast_shapes(np.shape(src), self.shape) != self.shape:
            raise ValueError(f"copy_: cannot copy shape {np.shape(src)} into shape {self.shape}")
        B.copy_into(self.array, B.asarray(src, self.dtype) if isinstance(src, np.ndarray) else src)
        return self

    def add_(self, other, alpha=1):
        if self._in_graph(other):
            return self._rebase(lambda t, o: t + (o * alpha if alpha != 1 else o), other)
        self._inplace_check()
        B = _device.backend(self.device)
        o = other.array if isinstance(other, InPlaceOps) else other
        B.iadd(self.array, B.mul(o, alpha) if alpha != 1 else o)
        return self

    def sub_(self, other, alpha=1):
        return self.add_(other, -alpha)

    def mul_(self, other):
        if self._in_graph(other):
            return self._rebase(lambda t, o: t * o, other)
        self._inplace_check()
        B = _device.backend(self.device)
        B.imul(self.array, other.array if isinstance(other, InPlaceOps) else other)
        return self

    def div_(self, other):
        if self._in_graph(other):
            return self._rebase(lambda t, o: t / o, other)
        return self.mul_(1.0 / other if not isinstance(other, InPlaceOps) else 1.0 / other.array)

    def clamp_(self, min=None, max=None):
        if self._in_graph():
            return self._rebase(lambda t: t.clamp(min, max))
        self._inplace_check()
        B = _device.backend(self.device)
        B.copy_into(self.array, B.clip(self.array, min, max))
        return self

    def uniform_(self, a=0.0, b=1.0):
        return self.copy_(random.uniform(a, b, self.shape).astype(self.dtype))

    def normal_(self, mean=0.0, std=1.0):
        return self.copy_((random.normal(self.shape) * std + mean).astype(self.dtype))

    def __iadd__(self, o):
        return self.add_(o) if not self.requires_grad or not autograd.is_grad_enabled() else self + o

    def __isub__(self, o):
        return self.sub_(o) if not self.requires_grad or not autograd.is_grad_enabled() else self - o

    def __imul__(self, o):
        return self.mul_(o) if not self.requires_grad or not autograd.is_grad_enabled() else self * o

    def __setitem__(self, idx, value):
        """In-place assignment outside the graph (e.g. building inputs); not differentiable."""
        self._inplace_check()
        idx, _ = normalize_index(idx, self)
        v = value.array if isinstance(value, InPlaceOps) else value
        _device.backend(self.device).setitem(self.array, idx, v)
