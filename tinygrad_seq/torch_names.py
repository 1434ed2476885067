"""torch's top-level names for memory formats and layouts (every tensor here is dense and
row-major: contiguous_format / strided; preserve_format of such a tensor is the same), the
legacy set_default_tensor_type, and is_complex (no complex dtypes here: always False)."""
import warnings

import numpy as np

from tinygrad_seq import dtypes


class memory_format:
    """torch.memory_format: a named token, passed as memory_format= (contiguous(), zeros_like, ...)."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):   # pickled by name: unpickling gives the one module-level object
        return self.name


class layout(memory_format):
    """torch.layout: only strided (dense) tensors exist here."""
    __slots__ = ()


preserve_format = memory_format("preserve_format")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
strided = layout("strided")
sparse_coo = layout("sparse_coo")   # named for comparisons (t.layout == torch.sparse_coo); no sparse tensors here
sparse_csr = layout("sparse_csr")


def set_default_tensor_type(t):
    """torch's legacy form of set_default_dtype: t is a float tensor type (ts.DoubleTensor) or its
    name ("torch.DoubleTensor"); the default dtype becomes its dtype. Deprecated, as in torch."""
    warnings.warn("set_default_tensor_type() is deprecated as of PyTorch 2.1, please use set_default_dtype() "
                  "instead", UserWarning, stacklevel=2)
    if getattr(t, "is_legacy_type", False):
        dt = t.dtype
    elif isinstance(t, str):
        dt = dtypes.as_dtype(t)
    else:
        raise TypeError(f"set_default_tensor_type: expected a tensor type or its name, got {t!r}")
    if np.dtype(dt).kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, got {dtypes.type_name(dt)}")
    dtypes.set_default_dtype(dt)


def is_complex(input):
    """False: tinygrad_seq has no complex dtypes (torch.is_complex)."""
    return False
