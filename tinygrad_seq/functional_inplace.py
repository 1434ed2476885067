"""torch.nn.functional's in-place activations (relu_, elu_, leaky_relu_, hardtanh_, threshold_,
celu_, selu_): each the activation with inplace=True, writing into input and returning it.
Re-exported by tinygrad_seq.functional."""


def relu_(input):
    from tinygrad_seq.functional import relu
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    from tinygrad_seq.functional import elu
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    from tinygrad_seq.functional import leaky_relu
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
    return rrelu(input, lower, upper, training, inplace=True)
