"""fmod and remainder of floats with gradients: the exact value (C's fmod, Python's %; the no-grad
paths compute it) and torch's gradients, 1 for the dividend and -trunc(a / b) (fmod) or
-(a // b) (remainder) for the divisor. The composition a - b * floor(a / b) it replaces gave
another value where the quotient overflows or the divisor is inf or 0 (remainder(5., inf) is 5
and fmod(-3., inf) is -3 in torch; the composition gave nan, and -inf for 1.8e308 % 3)."""
from tinygrad_seq.autograd import Function


class ExactRemainder(Function):
    saved_are_inputs = True   # create_graph: backward runs on the operands as Tensors (higher_order)

    @staticmethod
    def forward(ctx, a, b, value=None, rounding="floor"):
        """a, b: the operands (promoted, broadcastable); value: their exact fmod / remainder;
        rounding: 'trunc' (fmod) or 'floor' (remainder), the quotient the divisor's gradient takes."""
        if ctx.needs_input_grad[1]:   # the operands only for the divisor's gradient (torch's saved tensors:
            ctx.save_for_backward(a, b)   # fmod(x, 1.5) keeps nothing, a write to x after is no error)
        else:
            ctx.save_for_backward(None, None)
        ctx.rounding = rounding
        return value

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        B = ctx.b
        gb = None
        if ctx.needs_input_grad[1]:
            # torch's div(rounding_mode=...): the exact floored quotient (-3. // inf is -1), trunc(a / b)
            quotient = B.floor_divide(a, b) if ctx.rounding == "floor" else B.trunc(B.div(a, b))
            gb = B.mul(B.neg(g), quotient)
        return (g if ctx.needs_input_grad[0] else None), gb
