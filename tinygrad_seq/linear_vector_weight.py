"""F.linear with a 1-D weight w (in,): x (..., in) @ w -> (...), plus a bias, accepted and
refused where torch's linear accepts and refuses it (its fused addmm takes only a matrix
weight; its matmul-then-add_ path cannot grow the output)."""
from tinygrad_seq.broadcast_errors import broadcast_shape
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.functional_checks import require_same_dtype


def linear_vector_weight(x, weight, bias=None):
    """x @ weight (+ bias) for a 1-D weight, of one dtype (torch promotes none of them)."""
    require_same_dtype("linear", x, weight)
    if bias is not None:
        require_same_dtype("linear", x, bias, "input", "bias")
    out = x @ weight
    return out if bias is None else _add_bias(x, out, bias)


def _add_bias(x, out, bias):
    """torch takes addmm (a matrix weight only: "mat2 must be a matrix") for a 2-D x, or a
    contiguous x with a 1-D bias or a bias of more than one element; otherwise it adds the bias
    in place to out (shape x.shape[:-1]), which cannot grow to a larger broadcast shape."""
    if x.ndim == 2 or ((bias.ndim == 1 or bias.numel() != 1) and x.is_contiguous()):
        raise ShapeMismatch("mat2 must be a matrix, got 1-D tensor")
    if bias.ndim > out.ndim or any(b != 1 and b != o for b, o in zip(bias.shape[::-1], out.shape[::-1])):
        raise ShapeMismatch(f"output with shape {list(out.shape)} doesn't match the broadcast shape "
                            f"{list(broadcast_shape(out.shape, bias.shape))}")
    return out + bias
