"""The small torch modules scripts touch while picking a device and setting up workers:
`torch.cpu`, `torch.mps`, `torch.xpu` (the CPU is the one device of those here), and
`torch.multiprocessing` (Python's own module, plus torch's sharing-strategy calls, which matter
only for tensors shared between processes through torch's shared memory; they are recorded)."""
import multiprocessing as _python_multiprocessing
import sys
import types


def _module(name, doc, **names):
    mod = types.ModuleType(f"tinygrad_seq.{name}", doc)
    mod.__dict__.update(names)
    sys.modules[mod.__name__] = mod   # import tinygrad_seq.mps as mps
    return mod


def _no_backend(what):
    def call(*args, **kwargs):
        raise RuntimeError(f"Cannot execute {what}() without MPS backend.")   # torch's words
    return call


cpu = _module("cpu", "torch.cpu: the CPU, always available, one device.",
              is_available=lambda: True, device_count=lambda: 1, current_device=lambda: "cpu",
              synchronize=lambda device=None: None)


class _CpuAmp(types.ModuleType):
    """torch.cpu.amp: autocast and GradScaler, deprecated in torch for torch.amp's (with its
    warnings); read from cuda_amp when first used (amp imports the engine)."""
    def __getattr__(self, name):
        if name in ("autocast", "GradScaler"):
            from tinygrad_seq import cuda_amp
            return getattr(cuda_amp, "cpu_" + name)
        raise AttributeError(f"module 'tinygrad_seq.cpu.amp' has no attribute {name!r}")

    def __dir__(self):
        return sorted(set(super().__dir__()) | {"autocast", "GradScaler"})


cpu.amp = _module("cpu.amp", _CpuAmp.__doc__)
cpu.amp.__class__ = _CpuAmp
mps = _module("mps", "torch.mps: no Metal device here (torch's answers on a machine without one).",
              is_available=lambda: False, device_count=lambda: 0, manual_seed=lambda seed: None,
              seed=lambda: None, empty_cache=_no_backend("emptyCache"), synchronize=_no_backend("deviceSynchronize"))
xpu = _module("xpu", "torch.xpu: no Intel GPU here.", is_available=lambda: False, device_count=lambda: 0)


class _Multiprocessing(types.ModuleType):
    """tinygrad_seq.multiprocessing: Python's multiprocessing (every name of it), with torch's
    set_sharing_strategy / get_sharing_strategy / get_all_sharing_strategies."""
    _strategy = "file_descriptor"

    def __getattr__(self, name):
        return getattr(_python_multiprocessing, name)

    def __dir__(self):
        return sorted(set(dir(_python_multiprocessing)) | set(self.__dict__))

    @staticmethod
    def get_all_sharing_strategies():
        return {"file_descriptor", "file_system"}

    def set_sharing_strategy(self, new_strategy):
        if new_strategy not in self.get_all_sharing_strategies():   # torch's AssertionError
            raise AssertionError(f"set_sharing_strategy: unknown strategy {new_strategy!r}: expected "
                                 f"'file_descriptor' or 'file_system'")
        type(self)._strategy = new_strategy

    def get_sharing_strategy(self):
        return self._strategy


multiprocessing = _Multiprocessing("tinygrad_seq.multiprocessing", _Multiprocessing.__doc__)
sys.modules[multiprocessing.__name__] = multiprocessing
