"""One-node activations whose derivatives torch defines piecewise, where a composition of
primitive ops gets the second derivative wrong at the kink:

- Elu: torch's elu(x, alpha, scale, input_scale), the node of F.elu, F.celu (input_scale
  1/alpha) and F.selu (one node where the composition had six). Its second derivative is 0
  at x == 0 (torch's elu_double_backward masks by x < 0), where alpha * (exp(x) - 1)'s is alpha.
- Prelu: torch's _prelu_kernel, the node of F.prelu (here, with its checks). Its create_graph
  backward (prelu_graph_backward, in recompose.DIRECT) is torch's _prelu_kernel_backward
  derivative, which takes x == 0 as positive (the first derivative there is the slope w all
  the same).

The in-place elu / celu with a negative alpha cannot be differentiated from the output, which
is all an in-place op leaves: its backward raises torch's RuntimeError (elu_family)."""
import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.errors import DTypeMismatch, ShapeMismatch
from tinygrad_seq.functional_checks import require_float, torch_type_name
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.half_opmath import opmath

NEGATIVE_ALPHA_IN_PLACE = (
    "In-place elu backward calculation is triggered with a negative slope which is not supported. This is "
    "caused by calling in-place forward function with a negative slope, please call out-of-place version instead.")


class Elu(Function):
    """scale * x where x > 0, alpha * scale * (exp(x * input_scale) - 1) elsewhere. Gradient:
    scale where x > 0 (and at a nan x, as torch's), alpha * scale * input_scale * exp(x *
    input_scale) at and below 0. celu passes input_scale 1 / alpha (its exponent is then x /
    alpha, as this library always computed it)."""
    saved_are_inputs = True   # a create_graph backward runs backward() on the input Tensor

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0, input_scale=1.0):
        B = ctx.b
        ctx.save_for_backward(x)
        ctx.coef, ctx.scale, ctx.input_scale = alpha * scale, scale, input_scale
        # relu(x) * scale + (exp(min(x, 0)) - 1) * alpha * scale: each term exactly 0 where the other
        # counts (the values of the former where(x > 0, ...) composition, in arithmetic: a select
        # costs more than the four passes it saves)
        below = B.minimum(x, 0)
        if input_scale != 1:
            below = B.div(below, alpha)   # input_scale is 1 / alpha (celu): x / alpha, as before
        neg = B.mul(B.sub(B.exp(below), 1), alpha)
        pos = B.maximum(x, 0)
        if scale != 1:
            neg, pos = B.mul(neg, scale), B.mul(pos, scale)
        return B.add(pos, neg)

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        x, = ctx.saved_tensors
        # exp of x where x < 0 and of a constant 0 elsewhere (x times the mask): the slope's own
        # derivative (the second derivative, on Tensors under create_graph) is then 0 at x == 0,
        # as torch's elu_double_backward's x < 0 mask
        arg = B.mul(B.minimum(x, 0), B.astype(B.lt(x, 0), x.dtype))
        if ctx.input_scale != 1:
            arg = B.mul(arg, ctx.input_scale)
        slope = B.mul(B.exp(arg), ctx.coef * ctx.input_scale)
        return B.mul(g, B.where(B.le(x, 0), slope, ctx.scale))


class RefuseInPlaceBackward(Function):
    """Identity whose backward raises `message`: the last step of an in-place activation torch
    cannot differentiate from its output (leaky_relu_ / rrelu_ / elu_ / celu_ with a negative
    slope)."""
    @staticmethod
    def forward(ctx, x, message=""):
        ctx.message = message
        return x

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(ctx.message)


def elu_family(input, alpha, scale, input_scale, inplace, name):
    """Elu on input (written into it with inplace=True), its node called `name` (EluBackward0,
    CeluBackward0; their in-place forms Backward1)."""
    from tinygrad_seq.functional import _applied
    def elu(t):   # float16 in float32, rounded once (half_opmath.py)
        return opmath(t, lambda u: Elu.apply(u, alpha=alpha, scale=scale, input_scale=input_scale))

    if inplace and alpha < 0:
        return _applied(input, lambda t: named(RefuseInPlaceBackward.apply(elu(t), message=NEGATIVE_ALPHA_IN_PLACE),
                                               name), True)
    return _applied(input, lambda t: named(elu(t), name), inplace)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x); weight has 1 or C (channel dim 1) entries, of the input's
    dtype (torch promotes neither way here), which is a float one."""
    if weight.dtype != input.dtype:
        raise DTypeMismatch(f"prelu: Type promoting not supported. Got {torch_type_name(input.dtype)} and "
                            f"{torch_type_name(weight.dtype)}")
    require_float(input, "prelu_cpu")
    _check_prelu_weight(input, weight)
    if input.ndim == 0 and weight.numel() == 1:
        w = weight.reshape(())   # a 0-d input stays 0-d, as torch's
    else:
        w = weight if weight.numel() == 1 or input.ndim < 2 else weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    return named(Prelu.apply(input, w), "PreluKernelBackward0")   # slope w at 0, as torch's


def _check_prelu_weight(input, weight):
    """torch's: weight 0-d or 1-D, one slope or one per channel (dim 1; a 1-D input has one)."""
    if weight.ndim > 1:
        raise ShapeMismatch(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    n = weight.numel()
    if n != 1:
        if input.ndim == 0:
            raise ShapeMismatch(f"prelu: Not allow zero-dim input tensor with {n} weights (one slope only)")
        channels = input.shape[1] if input.ndim >= 2 else 1
        if n != channels:
            raise ShapeMismatch(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                                f"numbers = {n} and channel size = {channels}.")


class Prelu(Function):
    """x where x > 0, w * x elsewhere; w broadcast against x (its gradient is x's shape, summed
    back to w's by the engine). Gradients: g and w * g where x > 0 or not; x * g (0 where x > 0)
    for w."""
    @staticmethod
    def forward(ctx, x, w):
        B = ctx.b
        ctx.save_for_backward(x, w)
        return B.where(B.gt(x, 0), x, B.mul(x, w))

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        x, w = ctx.saved_tensors
        positive = B.gt(x, 0)
        gx = B.where(positive, g, B.mul(g, w)) if ctx.needs_input_grad[0] else None
        gw = B.zero_where(positive, B.mul(x, g)) if ctx.needs_input_grad[1] else None
        return gx, gw


def prelu_graph_backward(ctx, ps, grads):
    """Prelu's gradients as Tensors with graphs (create_graph=True), torch's derivative of
    _prelu_kernel_backward: x >= 0 counts as positive there, so at x == 0 the gradient of x is
    w * g in value but has derivative 1 in g and 0 in w; the weight's gradient has derivative
    0 in x and g at x >= 0. A gradient that depends on no graph still requires grad when x or w
    does (torch's: its formula read them), with zero derivative."""
    from tinygrad_seq.saved_as_tensors import ConstantOf
    x, w = ps
    g = grads[0]
    nonneg = x.detach() >= 0
    gx = gw = None
    if ctx.needs_input_grad[0]:
        gx = (g * w).where(~nonneg, g)
        at_zero = (x.detach() == 0)
        if bool(np.any(at_zero.numpy())):   # value w * g, derivative 1 in g (torch's select)
            gx = gx.where(~at_zero, (g * w).detach() + (g - g.detach()))
    if ctx.needs_input_grad[1]:
        gw = (x * g).where(~nonneg, 0.0)
    read = [t for t in (x, w, g) if t is not None and t.requires_grad]
    return tuple(t if t is None or t.requires_grad or not read else ConstantOf.apply(*read, value=t.array)
                 for t in (gx, gw))
