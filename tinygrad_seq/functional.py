"""tinygrad_seq.functional (also tinygrad_seq.nn.functional): PyTorch's torch.nn.functional
subset: softmax family, activations, linear, embedding, dropout, one_hot, pad, normalize; the
losses live in losses.py and are re-exported here."""
import warnings

import numpy as np

from tinygrad_seq import ops_extra, random
from tinygrad_seq.activation_nodes import elu_family
from tinygrad_seq.argument_types import not_a_tensor
from tinygrad_seq.autograd import Function
from tinygrad_seq.embedding_grad import embedding_grad_cpu, looked_up_rows
from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.functional_checks import require_float, require_same_dtype, torch_type_name
from tinygrad_seq.functional_ints import integer_dropout, integer_hardtanh_bounds
from tinygrad_seq.gelu_node import _ErfGelu, _TanhGelu  # noqa: F401  (_ErfGelu: grad_fn_names, saved_as_tensors)
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.half_opmath import HALF, in_float32, opmath
from tinygrad_seq.linear_errors import linear_odd_bias, linear_shape_error
from tinygrad_seq.linear_vector_weight import linear_vector_weight
from tinygrad_seq.outer_grad import OuterGrad
from tinygrad_seq.softmax_empty import softmax_over_empty_dim
from tinygrad_seq.tensor import Tensor


def _dim(dim, ndim):
    if not -max(ndim, 1) <= dim < max(ndim, 1):   # a 0-d tensor takes dim 0 or -1, as torch's
        raise IndexError(f"dimension {dim} out of range for a tensor of {ndim} dimensions")
    return dim % max(ndim, 1)


def _softmax_dim(name, dim, ndim, stacklevel=3):
    if dim is None:
        # PyTorch's legacy implicit choice, with its warning
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                      "to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
        return 0 if ndim in (0, 1, 3) else 1
    return dim


def _cast(x, dtype):
    return x if dtype is None else x.to(dtype=dtype)


def _along_rare(op, x, dim, kernel):
    """op (Softmax / LogSoftmax) over dim of what the hot path leaves: an integer x refused as
    torch's, a 0-d x as one element, a dim of size 0 as the empty result."""
    require_float(x, kernel if dim == x.ndim - 1 or x.ndim == 0 else kernel.replace("_lastdim", ""))
    if x.ndim:   # the hot path left it for its empty dim
        return softmax_over_empty_dim(x, dim, log=op is ops_extra.LogSoftmax)
    return op.apply(x.reshape(1), dim=0).reshape(())


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along dim (max subtracted). dtype casts the input first (an integer
    input needs it, as torch's)."""
    x = input if dtype is None else input.to(dtype=dtype)
    nd = x.ndim
    dim = _dim(dim if dim is not None else _softmax_dim("softmax", dim, nd, _stacklevel), nd)
    a = x.array
    if nd and a.dtype.kind in "fc" and a.shape[dim]:   # the hot path: three cheap tests
        return ops_extra.Softmax.apply(x, dim=dim)
    return _along_rare(ops_extra.Softmax, x, dim, "softmax_lastdim_kernel_impl")


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - log(sum(exp(x))) along dim, in one stable pass."""
    x = input if dtype is None else input.to(dtype=dtype)
    nd = x.ndim
    dim = _dim(dim if dim is not None else _softmax_dim("log_softmax", dim, nd, _stacklevel), nd)
    a = x.array
    if nd and a.dtype.kind in "fc" and a.shape[dim]:
        return ops_extra.LogSoftmax.apply(x, dim=dim)
    return _along_rare(ops_extra.LogSoftmax, x, dim, "log_softmax_lastdim_kernel_impl")


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    x = _cast(input, dtype)
    dim = _dim(_softmax_dim("softmin", dim, x.ndim, _stacklevel), x.ndim)
    require_float(x, "softmax_lastdim_kernel_impl")   # before the negation (a bool x)
    if x.ndim and x.array.shape[dim]:
        return ops_extra.Softmax.apply(-x, dim=dim)
    return _along_rare(ops_extra.Softmax, -x, dim, "")


def _applied(input, fn, inplace):
    """fn(input), or with inplace=True fn's result written into input, which is returned (torch's;
    autograd records the write, and a grad-requiring leaf refuses it as torch's does). fn then
    runs on a copy, so the values its backward saves are not the ones overwritten. The write's
    node takes fn's name, as torch's in-place op is fn's own node (ReluBackward0, not a copy's)."""
    if not inplace:
        return fn(input)
    out, before = fn(input.clone()), input._ctx
    ctx = input.copy_(out)._ctx   # a view's node is its view of the written base's: left as it is
    if ctx is not before and out._ctx is not None and ctx.__dict__.get("_torch_name") == "CopyBackwards":
        name = out._ctx.name()
        ctx._torch_name = name[:-1] + "1" if name in _IN_PLACE_FORMS else name
    return input


# torch's nodes whose in-place form (backward from the result) is <Name>Backward1
_IN_PLACE_FORMS = frozenset(("LeakyReluBackward0", "EluBackward0", "CeluBackward0", "ThresholdBackward0",
                             "RreluWithNoiseBackward0"))


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p)."""
    x = input
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    if x.array.dtype.kind not in "fc":   # O(1): torch refuses a float mask on an integer tensor
        return integer_dropout(input, p, inplace)
    if p == 1.0:
        return _applied(input, lambda t: t * 0.0, inplace)
    mask = random.bernoulli_mask(1.0 - p, x.shape, x.dtype, random.element_strides(x.array))
    return _applied(input, lambda t: t * Tensor(mask, device=t.device), inplace)


def tanh(input):
    return input.tanh()


def sigmoid(input):
    return input.sigmoid()


def relu(input, inplace=False):
    # Tensor.relu refuses bool input, as torch's (it returned int64 here)
    return _applied(input, lambda t: t.relu(), True) if inplace else input.relu()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, negative_slope * x elsewhere (the gradient at 0 is negative_slope, as torch's)."""
    from tinygrad_seq.functions import where
    require_float(input, "leaky_relu_cpu")
    if inplace and negative_slope < 0:   # torch's in-place form with a negative slope refuses backward
        from tinygrad_seq.functional_inplace import leaky_relu_ as negative_slope_in_place
        return negative_slope_in_place(input, negative_slope)
    return _applied(input, lambda t: named(where(t > 0, t, t * negative_slope), "LeakyReluBackward0"), inplace)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, alpha expm1(x) elsewhere, one node (activation_nodes.Elu): the gradient at 0
    is alpha and the second derivative there 0, as torch's. In place with alpha < 0, backward
    raises torch's RuntimeError."""
    require_float(input, "elu_cpu")
    return elu_family(input, alpha, 1.0, 1.0, inplace, "EluBackward0")


def silu(input, inplace=False):
    require_float(input, "silu_cpu")
    return _applied(input, lambda t: opmath(t, lambda u: u * u.sigmoid(), "SiluBackward0"), inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's)."""
    require_float(input, "softplus_cpu")
    if input.dtype == HALF:   # in float32, rounded once (half_opmath.py)
        return opmath(input, lambda u: softplus(u, beta, threshold), "SoftplusBackward0")
    bx = input * beta if beta != 1 else input
    soft = ops_extra.Softplus.apply(bx) / beta if beta != 1 else ops_extra.Softplus.apply(bx)
    # the host values, without making the tensor's numpy scalar (a 0-d result) an array: Softplus
    # saved that scalar, which the double backward matches to its parent by identity
    host = np.asarray(bx.array if bx.device == "cpu" else bx.numpy())
    reached = host >= threshold
    if not reached.any():
        return named(soft, "SoftplusBackward0")
    from tinygrad_seq.creation import where
    above = host > threshold
    out = where(Tensor(above, device=input.device), input, soft)
    kink = reached & ~above & np.isfinite(host)
    if kink.any():   # beta x == threshold: slope sigmoid(beta x), but second derivative 0 (torch's x < threshold mask)
        linear = soft.detach() + (input - input.detach()) * bx.detach().sigmoid()
        out = where(Tensor(kink, device=input.device), linear, out)
    return named(out, "SoftplusBackward0")


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), without overflow, and without softplus's linear piece
    past its threshold (torch's: its gradient 1 - sigmoid(x), not 1, below x = -20)."""
    require_float(input, "log_sigmoid_cpu")
    from tinygrad_seq.ops_extra import Softplus
    return named(-opmath(-input, Softplus.apply), "LogSigmoidBackward0")


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]; the gradient is 1 strictly inside and 0 at and beyond the
    bounds, as torch's (clamp's passes it at the bounds). An integer x stays integer, clamped to
    the bounds truncated to integers (torch's; a negative one refused for uint8); a bool x is
    refused."""
    from tinygrad_seq.functions import where
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input.dtype.kind not in "fc":
        lo, hi = integer_hardtanh_bounds(input, min_val, max_val)
        return _applied(input, lambda t: t.clamp(lo, hi), inplace)
    return _applied(input, lambda t: named(where((t > min_val) & (t < max_val), t, t.clamp(min_val, max_val).detach()),
                                           "HardtanhBackward0"), inplace)


def gelu(input, approximate="none"):
    """x * Phi(x); approximate='tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (gelu_node.py)."""
    require_float(input, "GeluKernelImpl")
    if input.dtype == HALF and approximate in ("none", "tanh"):   # in float32, rounded once
        return opmath(input, lambda u: gelu(u, approximate), "GeluBackward0")
    if approximate == "tanh":
        return named(_TanhGelu.apply(input), "GeluBackward0")
    if approximate != "none":
        raise InvalidArgument(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
    return _ErfGelu.apply(input)


def one_hot(*args, **kwargs):
    """int64 (*, num_classes) with a 1 at each index of the integer tensor (*,); a list or an
    array is torch's TypeError, and so is tensor= (torch's parameter is positional: input)."""
    if not args or len(args) > 2 or set(kwargs) - {"num_classes"} or (len(args) == 2 and kwargs):
        if not args:
            raise TypeError('one_hot() missing 1 required positional arguments: "input"')
        raise TypeError(f"one_hot() got an unexpected combination of arguments: {len(args)} positional, "
                        f"keywords {sorted(kwargs)} (expected (Tensor input, int num_classes = -1))")
    tensor, num_classes = args[0], args[1] if len(args) > 1 else kwargs.get("num_classes", -1)
    if not isinstance(tensor, Tensor):
        raise not_a_tensor("one_hot", "input", 1, tensor)
    t = tensor
    if t.dtype != np.int64:   # torch's RuntimeError for int32, uint8, float, ... indices too
        raise DTypeMismatch(f"one_hot is only applicable to index tensor of type LongTensor. (got {t.dtype})")
    idx = t.numpy()
    if idx.size and idx.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {int(idx.min())}")
    if num_classes == -1:
        if not idx.size:
            raise InvalidArgument("one_hot: Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError(f"one_hot: class value {int(idx.max())} is out of range for "
                           f"num_classes={num_classes}")
    out = np.zeros(idx.shape + (num_classes,), np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return Tensor(out, device=t.device)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p along dim, eps); with out=, written into out and out returned (torch's
    div(out=): refused where a gradient is wanted)."""
    denominator = input.norm(p, dim, keepdim=True).clamp(min=eps)   # a zero row: gradient 0
    if out is None:
        return input / denominator
    from tinygrad_seq.functions import div
    return div(input, denominator.expand(*input.shape), out=out)


def linear(input, weight, bias=None):
    """input @ weight^T + bias; input (..., in), weight (out, in) or (in,) (then the out axis is
    dropped, as torch's), bias (out,). A non-Tensor input (the (output, (h, c)) tuple of an LSTM
    in an nn.Sequential, a PackedSequence, an array) raises torch's TypeError."""
    if not isinstance(input, Tensor):
        raise not_a_tensor("linear", "input", 1, input)
    x = input
    if x.dtype.kind == "b" and weight.dtype.kind == "b":   # O(1): torch's addmm / addmv have no bool kernel
        kernel = "addmv_impl_cpu" if weight.ndim == 1 else "addmm_impl_cpu_"
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if weight.ndim == 1:   # torch: x @ w (+ b)
        if x.ndim == 0:
            linear_shape_error(x, weight)
        return linear_vector_weight(x, weight, bias)
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        linear_shape_error(x, weight)   # raises torch's error
    if bias is None:
        return _Linear.apply(x, weight)
    if bias.array.shape != weight.array.shape[:1]:   # a shape compare only on the hot path (raw tuples)
        return linear_odd_bias(x, weight, bias, _Linear.apply)
    if x.array.dtype is HALF and weight.array.dtype is HALF and bias.array.dtype is HALF:
        return in_float32(_Linear.apply, x, weight, bias)   # the bias added before rounding, as torch's addmm
    return _Linear.apply(x, weight, bias)


class _Linear(Function):
    """Fused x @ W^T (+ b): one node instead of three, no transposed copy of W. Leading dims
    of x are merged first, so the product is one [rows, in] @ [in, out] GEMM (a 3-D x would go
    through numpy's per-batch loop, re-packing W for each slice)."""
    fresh_grads = True  # gx, gb are new arrays (gx a view of one: copied as before); gw factored

    @staticmethod
    def forward(ctx, x, w, b=None):
        # torch refuses to promote here; the backend arrays' dtypes are at hand (numpy's are
        # singletons, so `is` decides it): no cost on the hot path
        if x.dtype is not w.dtype or (b is not None and b.dtype is not x.dtype):
            _refuse_mixed_dtypes(x, w, b)
        B = ctx.b
        n_in = x.shape[x.ndim - 1]   # -1 cannot infer the rows when there are 0 features
        x2 = B.reshape(x, (-1 if n_in else int(np.prod(x.shape[:-1])), n_in))
        # each operand only where backward reads it, as torch's: W for x's gradient, x for W's (a
        # weight written in place before backward then raises only where it would be read)
        needs = ctx.needs_input_grad
        ctx.save_for_backward(x2 if needs[1] else None, w if needs[0] else None)
        ctx.lead, ctx.rows = tuple(x.shape[:-1]), x2.shape[0]
        out = B.matmul(x2, B.transpose(w, (1, 0)))
        if b is not None:
            out = B.iadd(out, b)           # the product is a fresh array: add the bias in place
        return B.reshape(out, ctx.lead + (w.shape[0],))

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        x2, w = ctx.saved_tensors
        g2 = B.reshape(g, (ctx.rows, g.shape[g.ndim - 1]))                # (rows, out)
        gx = B.reshape(B.matmul(g2, w), ctx.lead + (w.shape[1],)) if ctx.needs_input_grad[0] else None
        # W's gradient g2^T x2 stays factored until final (outer_grad): one GEMM for a weight used
        # at every step of a decoder
        gw = OuterGrad(g2, x2) if ctx.needs_input_grad[1] else None
        if len(ctx.needs_input_grad) == 2:
            return gx, gw
        gb = B.sum(g2, axis=0) if ctx.needs_input_grad[2] else None
        return gx, gw, gb


def _refuse_mixed_dtypes(x, w, b):
    require_same_dtype("linear", x, w)
    if b is not None:
        require_same_dtype("linear", x, b, "input", "bias")


class _Embedding(Function):
    holds_saved = True   # its indices, saved in torch's node: a second backward raises
    fresh_grads = True  # its weight's gradient is a new array (leaf_grads.adoptable)

    @staticmethod
    def forward(ctx, weight, idx=None, padding_idx=None, scale_grad_by_freq=False, sparse_table=None):
        ctx.shape, ctx.idx, ctx.padding_idx, ctx.by_freq = weight.shape, idx, padding_idx, scale_grad_by_freq
        ctx.sparse_table = sparse_table
        return ctx.b.take_rows(weight, idx)

    @staticmethod
    def backward(ctx, g):
        if ctx.sparse_table is not None:
            looked_up_rows(ctx.sparse_table, ctx.b.to_host(ctx.idx), ctx.padding_idx)
        if isinstance(g, np.ndarray) and ctx.idx.size:
            grad = embedding_grad_cpu(ctx.shape, ctx.idx, g, ctx.padding_idx)   # embedding_grad.py
        else:
            grad = ctx.b.index_add_rows(ctx.shape, ctx.idx, g, ctx.padding_idx)
        if ctx.by_freq and ctx.idx.size:
            # each occurrence's gradient over its index's count in the batch (torch's)
            counts = np.bincount(np.asarray(ctx.b.to_host(ctx.idx)).reshape(-1), minlength=ctx.shape[0])
            scale = (1.0 / np.maximum(counts, 1)).astype(grad.dtype).reshape(-1, 1)
            grad = ctx.b.mul(grad, ctx.b.asarray(scale))
        return grad


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of weight (num, dim) picked by integer input (any shape) -> input.shape + (dim,).
    The padding_idx row gets no gradient. max_norm: the rows input picks whose norm_type-norm is
    above it are first scaled down to it, in place (torch's embedding_renorm_); scale_grad_by_freq:
    each row's gradient over the number of times input picks it. sparse=True: the gradient is
    dense (every optimizer here takes it), and the rows looked up are noted on weight for
    SparseAdam (a looked-up row whose gradient is zero is still stepped, as torch's)."""
    if not isinstance(input, Tensor):   # torch's position: its native embedding(weight, indices)
        raise not_a_tensor("embedding", "indices", 2, input)
    idx = input
    if idx.dtype != np.int64 and idx.dtype != np.int32:
        got = "CPUBoolType" if idx.dtype == np.bool_ else f"torch.{torch_type_name(idx.dtype)}Tensor"
        raise DTypeMismatch("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                            f"Long, Int; but got {got} instead (while checking arguments for embedding)")
    if weight.ndim != 2:   # torch's RuntimeError
        raise ShapeMismatch(f"embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape "
                            f"{tuple(weight.shape)}")
    num = weight.shape[0]
    host = idx.numpy()
    bad = host[(host < 0) | (host >= num)]
    if bad.size:
        raise IndexOutOfRange(f"embedding: index {int(bad.flat[0])} is out of range for a table of {num} rows")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError(f"Padding_idx must be within num_embeddings (got {padding_idx} for {num} rows)")
        padding_idx %= num
    if max_norm is not None:
        _renorm_rows(weight, np.unique(host), max_norm, norm_type)
    return _Embedding.apply(weight, idx=idx.array, padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq),
                            sparse_table=weight if sparse and weight.requires_grad and "_sparse_adam" in weight.__dict__
                            else None)


def _renorm_rows(weight, rows, max_norm, norm_type):
    # torch's embedding_renorm_: rows above max_norm scaled by max_norm / (norm + 1e-7), in place,
    # outside the graph
    from tinygrad_seq.autograd import no_grad
    if rows.size == 0:
        return
    with no_grad():
        picked = weight[rows]
        norms = (picked.norm(p=norm_type, dim=-1) if norm_type in (0, float("inf"))   # the max; the nonzeros' count
                 else picked.abs().pow(norm_type).sum(-1).pow(1.0 / norm_type)).numpy()
        over = norms > max_norm
        if over.any():
            scale = np.where(over, max_norm / (norms + 1e-7), 1.0).astype(weight.dtype).reshape(-1, 1)
            weight[rows] = picked * Tensor(scale, device=weight.device)


# the losses live in losses.py (it imports log_softmax from here, so this import comes last)
from tinygrad_seq.losses import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: E402,F401
                                 cross_entropy, huber_loss, l1_loss, mse_loss, nll_loss,
                                 smooth_l1_loss)
from tinygrad_seq.ctc import ctc_loss  # noqa: E402,F401
from tinygrad_seq.linear_cross_entropy import linear_cross_entropy  # noqa: E402,F401
from tinygrad_seq.functional_more import (bilinear, cosine_embedding_loss, dropout1d, embedding_bag,  # noqa: E402,F401
                                          gaussian_nll_loss, group_norm, gumbel_softmax, hinge_embedding_loss,
                                          margin_ranking_loss, multi_margin_loss, multilabel_soft_margin_loss,
                                          poisson_nll_loss, prelu, rms_norm, rrelu, soft_margin_loss, tanhshrink,
                                          threshold, triplet_margin_loss)
from tinygrad_seq.conv import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, conv1d,  # noqa: E402,F401
                               max_pool1d)
from tinygrad_seq.conv2d import conv2d  # noqa: E402,F401
from tinygrad_seq.conv_transpose import conv_transpose1d, conv_transpose2d  # noqa: E402,F401
from tinygrad_seq.pool2d import (adaptive_avg_pool2d, adaptive_max_pool2d,  # noqa: E402,F401
                                 adaptive_max_pool2d_with_indices, avg_pool2d, max_pool2d,
                                 max_pool2d_with_indices)
from tinygrad_seq.interpolate import interpolate, upsample, upsample_bilinear, upsample_nearest  # noqa: E402,F401
from tinygrad_seq.functional_extra import (batch_norm, celu, cosine_similarity, glu, hardshrink,  # noqa: E402,F401
                                           hardsigmoid, hardswish, kl_div, layer_norm, mish, pairwise_distance, pdist,
                                           relu6, scaled_dot_product_attention, selu, softshrink, softsign)
from tinygrad_seq.functional_dropout import alpha_dropout, dropout2d, dropout3d  # noqa: E402,F401
from tinygrad_seq.functional_pad import pad  # noqa: E402,F401
from tinygrad_seq.functional_2d import (fold, instance_norm, local_response_norm, lp_pool1d,  # noqa: E402,F401
                                        lp_pool2d, max_unpool1d, max_unpool2d, pixel_shuffle, pixel_unshuffle,
                                        unfold)
from tinygrad_seq.functional_inplace import celu_, elu_, hardtanh_, leaky_relu_, relu_, rrelu_, selu_, threshold_  # noqa
from tinygrad_seq.functional_more2 import (adaptive_max_pool1d_with_indices, channel_shuffle,  # noqa: E402,F401
                                          feature_alpha_dropout, max_pool1d_with_indices,
                                          multi_head_attention_forward, multilabel_margin_loss,
                                          native_channel_shuffle, triplet_margin_with_distance_loss)
from tinygrad_seq.functional_grid import affine_grid, grid_sample  # noqa: E402,F401
from tinygrad_seq.functional_aten import conv_tbc  # noqa: E402,F401  (F.conv_tbc is torch.conv_tbc)


def __getattr__(name):
    """A torch name this module lacks: an AttributeError that says so (tinygrad_seq.missing)."""
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.nn.functional", "tinygrad_seq.functional", name)
