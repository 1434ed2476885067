"""nn.utils: PyTorch's gradient clipping (clip_grad), parameters <-> one vector
(convert_parameters), nn.utils.rnn (PackedSequence and its helpers), weight and spectral
normalisation (weight_norm.py, spectral_norm.py: the old hook-based API) and parametrizations
(parametrize.py, parametrizations.py), and pruning (prune.py)."""
from tinygrad_seq.nn.utils.clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_,  # noqa: F401
                                             clip_grads_with_norm_, get_total_norm)
from tinygrad_seq.nn.utils.convert_parameters import (parameters_to_vector,  # noqa: F401
                                                      vector_to_parameters)
from tinygrad_seq.nn.utils import rnn  # noqa: E402,F401
from tinygrad_seq.nn.utils.weight_norm import remove_weight_norm, weight_norm  # noqa: E402,F401
from tinygrad_seq.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402,F401
from tinygrad_seq.nn.utils import parametrize, parametrizations  # noqa: E402,F401
from tinygrad_seq.nn.utils import stateless  # noqa: E402,F401
from tinygrad_seq.nn.utils import prune  # noqa: E402,F401
from tinygrad_seq.nn.utils.fusion import (convert_conv2d_weight_memory_format,  # noqa: E402,F401
                                          convert_conv3d_weight_memory_format, fuse_conv_bn_eval,
                                          fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights,
                                          skip_init)


def __getattr__(name):
    """A torch name this module lacks: an AttributeError that says so (tinygrad_seq.missing)."""
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.nn.utils", "tinygrad_seq.nn.utils", name)
