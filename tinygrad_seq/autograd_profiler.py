"""ts.autograd.profiler (torch.autograd.profiler): record_function and the older profile(enabled=...)
that torch.profiler.profile grew from; both record into the same events (profiler.py)."""
from tinygrad_seq.profiler import EventList, FunctionEvent, FunctionEventAvg, record_function  # noqa: F401
from tinygrad_seq.profiler import LegacyProfile as profile  # noqa: F401
import sys  # noqa: E402

sys.modules["tinygrad_seq.autograd.profiler"] = sys.modules[__name__]   # `import torch.autograd.profiler`
