"""Pointwise pieces the regression losses share (losses.py)."""
import numpy as np

from tinygrad_seq.autograd import Function


class PiecewiseQuadratic(Function):
    """torch's smooth L1 / Huber pointwise loss of differences d: 0.5 d^2 / div where |d| < bound,
    (|d| - shift) * outer elsewhere, one node (a composition of where / masked_fill ran 4-5x the
    old time). Gradient torch's: d / div inside, outer * sign(d) at and beyond the bound; a nan d
    is inside, as in torch's kernel (gradient nan). Second derivative (create_graph: this backward
    on the graph backend) 1 / div inside, 0 at the bound and beyond (at d = 0 too)."""
    saved_are_inputs = True

    @staticmethod
    def forward(ctx, d, bound=1.0, div=1.0, shift=0.5, outer=1.0):
        B = ctx.b
        ctx.save_for_backward(d)
        ctx.piece = (bound, div, shift, outer)
        with np.errstate(invalid="ignore", over="ignore"):
            a = B.abs(d)
            inside = B.logical_not(B.ge(a, bound))
            quadratic = B.div(B.mul(B.mul(d, d), 0.5), div)
            linear = B.sub(a, shift) if outer == 1.0 else B.mul(B.sub(a, shift), outer)
            return B.where(inside, quadratic, linear)

    @staticmethod
    def backward(ctx, g):
        d, = ctx.saved_tensors
        bound, div, shift, outer = ctx.piece
        B = ctx.b
        inside = B.logical_not(B.ge(B.abs(d), bound))
        slope = B.where(inside, B.div(d, div), B.mul(B.sign(d), outer))
        return B.mul(g, slope)


def piecewise_quadratic(d, bound, div, shift, outer):
    return PiecewiseQuadratic.apply(d, bound=float(bound), div=float(div), shift=float(shift), outer=float(outer))
