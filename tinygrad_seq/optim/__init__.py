"""tinygrad_seq.optim: PyTorch's torch.optim subset, and optim.lr_scheduler."""
from tinygrad_seq.optim.optimizer import Optimizer  # noqa: F401
from tinygrad_seq.optim.sgd import SGD  # noqa: F401
from tinygrad_seq.optim.adam import Adam, AdamW  # noqa: F401
from tinygrad_seq.optim.rmsprop import RMSprop  # noqa: F401
from tinygrad_seq.optim.adagrad import Adagrad  # noqa: F401
from tinygrad_seq.optim.adadelta import Adadelta  # noqa: F401
from tinygrad_seq.optim.asgd import ASGD  # noqa: F401
from tinygrad_seq.optim.adam_variants import Adamax, NAdam, RAdam  # noqa: F401
from tinygrad_seq.optim.lbfgs import LBFGS  # noqa: F401
from tinygrad_seq.optim.rprop import Rprop  # noqa: F401
from tinygrad_seq.optim.sparse_adam import SparseAdam  # noqa: F401
from tinygrad_seq.optim.adafactor import Adafactor  # noqa: F401
from tinygrad_seq.optim.muon import Muon  # noqa: F401
from tinygrad_seq.optim import lr_scheduler, swa_utils  # noqa: F401


def _submodules():
    """torch.optim's modules of one optimizer each (`from torch.optim.adamw import AdamW`), as
    modules naming it and Optimizer."""
    import sys
    import types
    for name, cls in (("adamw", AdamW), ("adamax", Adamax), ("nadam", NAdam), ("radam", RAdam),
                      ("_adafactor", Adafactor), ("_muon", Muon)):
        module = types.ModuleType(f"{__name__}.{name}", f"torch.optim.{name}: {cls.__name__} (tinygrad_seq.optim's)")
        module.Optimizer, module.__all__ = Optimizer, [cls.__name__]
        setattr(module, cls.__name__, cls)
        sys.modules[module.__name__] = module
        globals()[name] = module


_submodules()


def __getattr__(name):
    """A torch name this module lacks: an AttributeError that says so (tinygrad_seq.missing)."""
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.optim", "tinygrad_seq.optim", name)
