"""Tensor methods that make new tensors like this one (torch's new_zeros / new_ones / new_empty /
new_full / new_tensor): this tensor's dtype and device unless given. Attached to Tensor by
tensor.py."""


def _new(self, fill, size, dtype, device, requires_grad):
    from tinygrad_seq.creation import full
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    return full(shape, fill, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


# the size as varargs, one sequence, or torch's size= keyword
def new_zeros(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
    return self._new(0, sizes if size is None else (size,), dtype, device, requires_grad)


def new_ones(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
    return self._new(1, sizes if size is None else (size,), dtype, device, requires_grad)


def new_empty(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
    return self._new(0, sizes if size is None else (size,), dtype, device, requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    return self._new(fill_value, (size,), dtype, device, requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A copy of data with this tensor's dtype and device unless given (torch's new_tensor)."""
    from tinygrad_seq.creation import tensor
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


METHODS = {"_new": _new, "new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty,
           "new_full": new_full, "new_tensor": new_tensor}
