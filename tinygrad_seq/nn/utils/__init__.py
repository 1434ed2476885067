"""nn.utils: PyTorch's gradient clipping (clip_grad), parameters <-> one vector
(convert_parameters), and nn.utils.rnn (PackedSequence and its helpers)."""
from tinygrad_seq.nn.utils.clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_,  # noqa: F401
                                             clip_grads_with_norm_, get_total_norm)
from tinygrad_seq.nn.utils.convert_parameters import (parameters_to_vector,  # noqa: F401
                                                      vector_to_parameters)
from tinygrad_seq.nn.utils import rnn  # noqa: E402,F401


def __getattr__(name):
    """A torch name this module lacks: an AttributeError that says so (tinygrad_seq.missing)."""
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.nn.utils", "tinygrad_seq.nn.utils", name)
