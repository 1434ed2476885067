"""parameters_to_vector and vector_to_parameters, PyTorch's."""
from tinygrad_seq.tensor import Tensor


def parameters_to_vector(parameters):
    """One 1-D tensor of every parameter's values, in order (differentiable)."""
    from tinygrad_seq.functions import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Point each parameter's data at the next slice of vec, as torch's `param.data =
    vec[i:i + n].view_as(param).data`: the parameters then share vec's memory (writing to vec
    changes them). Elements past the parameters' total are ignored; too few elements raise
    view_as's RuntimeError at the first parameter that does not fit."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    start = 0
    for p in parameters:
        n = p.numel()
        p.data = vec[start:start + n].view_as(p).data
        start += n
