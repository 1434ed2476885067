"""tinygrad_seq.nn: PyTorch's torch.nn subset for sequence models."""
from tinygrad_seq.nn.module import Module, ModuleList, Parameter, Sequential  # noqa: F401
