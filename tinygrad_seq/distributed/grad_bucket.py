"""GradBucket: what a DDP communication hook receives (torch.distributed.GradBucket).

A bucket is a flat buffer of the gradients of a few parameters, filled in reverse order of
parameter registration (bucket 0 holds the last layers' gradients and is reduced first). The hook
reduces buffer() across the ranks and returns a Future of the reduced flat tensor, which DDP
then writes into the parameters' .grad (nn/ddp_comm_hook.py).
"""
from __future__ import annotations


class GradBucket:
    """index(): the bucket's position in reduction order; buffer(): the flat gradients, shape
    [numel] (a view of DDP's bucket: in-place ops on it write into the bucket); gradients(): one
    view of it per parameter, shaped like the parameter; parameters(): the parameters, in the
    order of their gradients in buffer(); is_last(): the last bucket of the step (the first
    layers); set_buffer(tensor): buffer() returns `tensor` from then on (gradients() keeps
    viewing the bucket)."""

    __slots__ = ("_index", "_buffer", "_gradients", "_parameters", "_is_last")

    def __init__(self, index, buffer, gradients, parameters, is_last):
        self._index, self._buffer, self._is_last = index, buffer, is_last
        self._gradients, self._parameters = gradients, parameters

    def index(self) -> int:
        return self._index

    def buffer(self):
        return self._buffer

    def gradients(self) -> list:
        return list(self._gradients)

    def parameters(self) -> list:
        return list(self._parameters)

    def is_last(self) -> bool:
        return self._is_last

    def set_buffer(self, buffer) -> None:
        from tinygrad_seq.tensor import Tensor
        if not isinstance(buffer, Tensor):
            raise TypeError(f"GradBucket.set_buffer: expected a Tensor, got {type(buffer).__name__}")
        self._buffer = buffer

    def __repr__(self):
        return (f"<GradBucket {self._index}: {len(self._parameters)} parameters, "
                f"{self._buffer.numel()} elements{', last' if self._is_last else ''}>")
