"""torch's legacy Tensor.new (attached by tensor_more.METHODS), with the keywords torch's takes."""
import numpy as np


def _tensor_options_text(dtype, device_type):
    from tinygrad_seq.out_dtypes import c_type_name as _c_name
    return (f"TensorOptions(dtype={_c_name(dtype)}, device={device_type}, layout=Strided, requires_grad=false "
            "(default), pinned_memory=false (default), memory_format=(nullopt))")


def alias_of(data, dtype, device_type):
    """A legacy constructor given a Tensor (x.new(t), ts.FloatTensor(t)): an alias of t (its memory,
    its graph: AliasBackward0) when t has the constructor's dtype and device type, else torch's
    TypeError naming both."""
    if data.dtype != dtype or data.device.type != device_type:
        raise TypeError(f"expected {_tensor_options_text(dtype, device_type)} "
                        f"(got {_tensor_options_text(data.dtype, data.device.type)})")
    return data[...]


def new(self, *args, size=None, data=None, device=None, **kwargs):
    """torch's legacy Tensor.new: new(*sizes) or new(size=) a (zero-filled) tensor of that shape,
    new(data) or new(data=) a tensor of data, new() an empty one, each of self's dtype and device
    (device= may only name self's device type, as torch's; it takes no dtype=)."""
    if kwargs:
        raise TypeError(f"new() got an unexpected keyword argument {next(iter(kwargs))!r}: the legacy new takes "
                        f"size=, data= and device= only (new_zeros / new_tensor take dtype=)")
    if (size is not None) + (data is not None) + bool(args) > 1:
        raise TypeError("new(): give the sizes or the data once, positionally or as size= / data=")
    if device is not None:
        from tinygrad_seq import device as _device
        wanted, own = _device.canonical(device).type, _device.canonical(self.device).type
        if wanted != own:
            raise RuntimeError(f"legacy constructor expects device type: {own} but device type: {wanted} was passed")
    if size is not None:
        return self.new_zeros(tuple(int(s) for s in size))
    from tinygrad_seq.tensor import Tensor
    if isinstance(data, Tensor):
        raise TypeError("new(): data must be a sequence (got Tensor)")
    if data is not None:
        args = (data,)
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        data = args[0]
        if isinstance(data, (tuple, list)) and all(isinstance(d, (int, np.integer)) for d in data) and \
                type(data).__name__ == "Size":
            return self.new_zeros(tuple(data))
        from tinygrad_seq.creation import tensor
        if isinstance(data, Tensor):
            if device is not None:
                raise RuntimeError("Legacy tensor new of the form tensor.new(tensor, device=device) is not "
                                   "supported.  Use torch.as_tensor(...) instead.")
            return alias_of(data, self.dtype, self.device.type)
        return tensor(data, dtype=self.dtype, device=self.device)
    return self.new_zeros(tuple(int(a) for a in args) if args else (0,))
