"""torch.nn.modules.container: the containers."""
from tinygrad_seq.nn import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa: F401
