"""torch.nn.functional's in-place activations (relu_, elu_, leaky_relu_, hardtanh_, threshold_,
celu_, selu_, rrelu_): each the activation with inplace=True, writing into input and returning
it. Re-exported by tinygrad_seq.functional.

leaky_relu_ (and rrelu_ in eval) with a negative slope, and elu_ / celu_ with a negative alpha
(activation_nodes.elu_family), cannot be differentiated from their output, which is all an
in-place op leaves: their backward raises torch's RuntimeError."""
from tinygrad_seq.activation_nodes import RefuseInPlaceBackward

NEGATIVE_SLOPE_IN_PLACE = (
    "In-place leakyReLu backward calculation is triggered with a negative slope which is not supported. This is "
    "caused by calling in-place forward function with a negative slope, please call out-of-place version instead. "
    "File an issue at https://github.com/pytorch/pytorch if you do require supporting in-place leakRelu backward "
    "calculation with negative slope")


def _negative_slope_in_place(input, negative_slope, node_name):
    from tinygrad_seq.functional import _applied, leaky_relu
    from tinygrad_seq.grad_fn_names import named
    return _applied(input, lambda t: named(RefuseInPlaceBackward.apply(leaky_relu(t, negative_slope),
                                                                       message=NEGATIVE_SLOPE_IN_PLACE), node_name),
                    True)


def relu_(input):
    from tinygrad_seq.functional import relu
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    from tinygrad_seq.functional import elu
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    from tinygrad_seq.functional import leaky_relu
    if negative_slope < 0:
        return _negative_slope_in_place(input, negative_slope, "LeakyReluBackward1")
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    from tinygrad_seq.functional import hardtanh
    if min_val > max_val:   # torch's hardtanh_ skips F.hardtanh's ValueError: its clamp gives max_val
        return input.clamp_(min_val, max_val)
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    from tinygrad_seq.functional_more import threshold as threshold_fn
    return threshold_fn(input, threshold, value, inplace=True)


def celu_(input, alpha=1.0):
    from tinygrad_seq.functional_extra import celu
    return celu(input, alpha, inplace=True)


def selu_(input):
    from tinygrad_seq.functional_extra import selu
    return selu(input, inplace=True)


def rrelu_(input, lower=1.0 / 8.0, upper=1.0 / 3.0, training=False):
    from tinygrad_seq.functional_more import rrelu
    if not training and (lower + upper) / 2.0 < 0 and lower <= upper:   # eval: a leaky ReLU of their mean
        return _negative_slope_in_place(input, (lower + upper) / 2.0, "RreluWithNoiseBackward1")
    return rrelu(input, lower, upper, training, inplace=True)
