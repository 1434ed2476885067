"""nn.Linear, nn.Embedding, nn.Dropout, nn.LayerNorm: PyTorch's modules, initialisation and repr."""
import math
import numbers
import operator

import numpy as np

from tinygrad_seq import dtypes, functional as F
from tinygrad_seq import random
from tinygrad_seq.errors import BadArgument, InvalidArgument
from tinygrad_seq.nn import init
from tinygrad_seq.nn.module import Module, Parameter
from tinygrad_seq.nn.parameter import empty_parameter, fill_parameter
from tinygrad_seq.tensor import Tensor


def _param(host, dtype):
    """A Parameter from host data drawn in float64, stored as `dtype` (by default the default dtype,
    float32 unless ts.set_default_dtype changed it, as in PyTorch)."""
    return Parameter(np.asarray(host).astype(np.dtype(dtype or dtypes.get_default_dtype())))


def _place(module, device):
    return module.to(device) if device is not None and device != "cpu" else module


def _empty_shape(*sizes):
    """A layer's parameter shape checked as torch.empty checks it: ints (a float is torch's
    TypeError), none negative (its RuntimeError)."""
    shape = []
    for pos, size in enumerate(sizes):
        try:
            shape.append(operator.index(size))
        except TypeError:
            raise TypeError(f"empty(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(size).__name__} at pos {pos}") from None
    negative = [s for s in shape if s < 0]
    if negative:
        raise InvalidArgument(f"Trying to create tensor with negative dimension {negative[0]}: {shape}")
    return tuple(shape)


class Linear(Module):
    r"""y = x W^T + b.

    x (*, in_features) -> y (*, out_features). weight (out_features, in_features) and bias
    (out_features,) are drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)), PyTorch's
    kaiming_uniform_(a=sqrt(5)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.out_features, self.in_features = _empty_shape(out_features, in_features)
        self.weight = empty_parameter((self.out_features, self.in_features), dtype)
        if bias:
            self.bias = empty_parameter((self.out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device)

    def reset_parameters(self):
        """Draws weight, then bias, from U(-1/sqrt(in_features), 1/sqrt(in_features)), as torch's
        (kaiming_uniform_ with a=sqrt(5): an empty weight is left as it is, with its warning)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _PaddingIndexError(AssertionError, ValueError):
    """padding_idx outside the table: torch raises AssertionError; also a ValueError, what
    tinygrad_seq raised before."""


class Embedding(Module):
    r"""A lookup table: integer indices (*) -> rows of weight (*, embedding_dim).

    weight (num_embeddings, embedding_dim) ~ N(0, 1). The padding_idx row is initialised to
    zero and gets no gradient, so it stays as it is during training.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None,
                 dtype=None):
        super().__init__()
        # sparse=True: the gradient is dense (every optimizer here takes it); the rows looked up
        # are noted for SparseAdam (functional.embedding)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, float(norm_type), bool(scale_grad_by_freq)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise _PaddingIndexError(f"padding_idx must be within num_embeddings ({num_embeddings}), "
                                 f"got {padding_idx}")
            padding_idx = padding_idx % num_embeddings
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = padding_idx
        self.sparse = bool(sparse)
        if _weight is None:
            if self.num_embeddings < 0 or self.embedding_dim < 0:   # torch's RuntimeError, naming the size
                bad = self.num_embeddings if self.num_embeddings < 0 else self.embedding_dim
                raise InvalidArgument(f"Trying to create tensor with negative dimension {bad}: "
                                      f"[{self.num_embeddings}, {self.embedding_dim}]")
            self.weight = empty_parameter((self.num_embeddings, self.embedding_dim), dtype)
            self.reset_parameters()
        else:
            shape = tuple(np.shape(_weight) if not hasattr(_weight, "shape") else _weight.shape)
            if shape != (num_embeddings, embedding_dim):
                raise BadArgument(f"Shape of weight {shape} does not match num_embeddings and "
                                 f"embedding_dim ({num_embeddings}, {embedding_dim})")
            # a Tensor becomes the weight itself, sharing its memory (torch's Parameter(_weight):
            # a later write to it shows in the layer, training writes into it); array-likes are copied
            self.weight = (Parameter(_weight, requires_grad=not _freeze) if isinstance(_weight, Tensor)
                           else _param(np.asarray(_weight), dtype if dtype is not None else np.asarray(_weight).dtype))
        self.weight.requires_grad = not _freeze
        _place(self, device)

    def reset_parameters(self):
        """weight ~ N(0, 1), the padding_idx row zero."""
        w = random.normal(self.weight.shape, dtype=self.weight.dtype)
        if self.padding_idx is not None:
            w[self.padding_idx] = 0.0
        fill_parameter(self.weight, w)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is embeddings (num, dim) itself, sharing its memory as torch's
        (an array-like is copied); frozen by default."""
        arr = embeddings if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if arr.ndim != 2:
            raise BadArgument(f"Embeddings parameter is expected to be 2-dimensional, got shape {tuple(arr.shape)}")
        m = cls(arr.shape[0], arr.shape[1], padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=arr, _freeze=freeze)
        dev = getattr(embeddings, "device", "cpu")
        return m.to(dev) if dev != "cpu" else m

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s


class Dropout(Module):
    r"""During training, zeroes each element with probability p and scales the others by
    1/(1-p); in eval mode the identity. Masks come from tinygrad_seq.random (ts.manual_seed)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:   # torch's test (a nan p passes it)
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace   # kept as given, as torch's (repr: Dropout(p=0, inplace=False))

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


layer_norm = F.layer_norm   # kept for code that imported it from here


class LayerNorm(Module):
    r"""y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias over the trailing normalized_shape
    dims; weight ones and bias zeros (when elementwise_affine)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = empty_parameter(self.normalized_shape, dtype)
            if bias:
                self.bias = empty_parameter(self.normalized_shape, dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device)

    def reset_parameters(self):
        """weight ones, bias zeros."""
        if self.weight is not None:
            fill_parameter(self.weight, np.ones(self.normalized_shape))
        if self.bias is not None:
            fill_parameter(self.bias, np.zeros(self.normalized_shape))

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
