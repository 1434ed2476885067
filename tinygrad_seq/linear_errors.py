"""F.linear's checks off its hot path, in torch's words: the shape error of an input / weight
that do not multiply, and a bias other than (out_features,), which torch expands (its fused
addmm) or adds in place (its matmul-then-add_), refusing it in those kernels' words."""
import math

from tinygrad_seq.broadcast_errors import broadcast_shape
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.functional_checks import torch_type_name
from tinygrad_seq.matmul_shape_errors import OperandShape, raise_matmul_error


def linear_shape_error(x, weight):
    """Raise torch's error for F.linear(x, weight) with a weight that is not a matrix of x's
    in_features columns."""
    if x.ndim == 0 or weight.ndim == 0:
        raise ShapeMismatch(f"both arguments to linear need to be at least 1D, but they are {x.ndim}D and "
                            f"{weight.ndim}D")
    if weight.ndim > 2:
        raise ShapeMismatch(f"t() expects a tensor with <= 2 dimensions, but self is {weight.ndim}D")
    # torch multiplies x by weight.t(), an (in, out) matrix
    raise_matmul_error(x, OperandShape((weight.shape[1], weight.shape[0]), weight.requires_grad, None))


def _expand_to(bias, target):
    """torch's Tensor.expand(target) checks (last dim first), in its words."""
    if bias.ndim > len(target):
        raise ShapeMismatch(f"expand(torch.{torch_type_name(bias.dtype)}Tensor{{{list(bias.shape)}}}, "
                            f"size={list(target)}): the number of sizes provided ({len(target)}) must be greater "
                            f"or equal to the number of dimensions in the tensor ({bias.ndim})")
    offset = len(target) - bias.ndim
    for i in range(bias.ndim - 1, -1, -1):
        size, want = bias.shape[i], target[offset + i]
        if size != want and size != 1:
            raise ShapeMismatch(f"The expanded size of the tensor ({want}) must match the existing size ({size}) "
                                f"at non-singleton dimension {offset + i}.  Target sizes: {list(target)}.  "
                                f"Tensor sizes: {list(bias.shape)}")


def linear_odd_bias(x, weight, bias, linear_no_bias):
    """F.linear(x, weight, bias) for a bias not of shape (out_features,). torch's fused path (a
    2-D x, or a contiguous one with a 1-D bias or one of more than one element) expands bias to
    (rows, out) (rows: x's leading dims multiplied); the other path adds it in place to the
    output, which cannot grow. linear_no_bias(x, weight): the product, (..., out)."""
    out_shape = (*x.shape[:-1], weight.shape[0])
    fused = x.ndim == 2 or ((bias.ndim == 1 or bias.numel() != 1) and x.is_contiguous())
    if fused and (x.ndim <= 2 or bias.ndim == 1):
        _expand_to(bias, (math.prod(x.shape[:-1]), weight.shape[0]))
        return (linear_no_bias(x, weight) + bias).reshape(out_shape)
    # the in-place add (also, approximately, a >= 3-D x with a >= 2-D bias: a broadcast then)
    try:
        grown = broadcast_shape(out_shape, bias.shape)
    except ShapeMismatch as error:   # torch's text only (its add_ names no shapes)
        raise ShapeMismatch(str(error).split(" (shapes ")[0]) from None
    if grown != out_shape:
        raise ShapeMismatch(f"output with shape {list(out_shape)} doesn't match the broadcast shape {list(grown)}")
    return linear_no_bias(x, weight) + bias
