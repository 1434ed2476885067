"""ts.backends: the torch.backends flags PyTorch scripts set at startup (cudnn.deterministic,
cudnn.benchmark, cuda.matmul.allow_tf32, the scaled-dot-product-attention kernel switches,
mha's fast-path switch, mps.is_available()). tinygrad_seq's kernels are its own and
deterministic, so the flags are accepted, read back as set, and change nothing."""
import sys as _sys
import contextlib


class _Flags:
    _flag_defaults = {}

    def __init__(self, name, **defaults):
        self._name = name
        self.__dict__.update(defaults)

    def is_available(self):
        return False

    def is_built(self):   # torch.backends.mps.is_built(): False on a build without it
        return False

    def flags(self, *args, **values):
        """torch.backends.cudnn.flags(...) / mkldnn.flags(...): the flags set for a with-block and
        restored after it, with torch's defaults for the ones not given (they change nothing here);
        torch's argument order and names."""
        names = list(self._flag_defaults)
        if len(args) > len(names) or set(values) - set(names):
            bad = sorted(set(values) - set(names))
            raise TypeError(f"flags() takes the arguments {names}; got {len(args)} positional"
                            + (f" and unknown {bad}" if bad else ""))
        return _set_for_block(self, dict(self._flag_defaults, **dict(zip(names, args)), **values))

    def is_acceptable(self, tensor):   # torch.backends.cudnn.is_acceptable: no cuDNN here
        return False

    def __repr__(self):
        return f"<ts.backends.{self._name}>"


@contextlib.contextmanager
def _set_for_block(flags, values):
    before = {k: getattr(flags, k, None) for k in values}
    flags.__dict__.update(values)
    try:
        yield
    finally:
        flags.__dict__.update(before)


cudnn = _Flags("cudnn", enabled=True, deterministic=False, benchmark=False, allow_tf32=True)
cudnn.version = lambda: None   # torch's without cuDNN
cudnn._flag_defaults = dict(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True)
mps = _Flags("mps")
mkldnn = _Flags("mkldnn", enabled=False)
mkldnn._flag_defaults = dict(enabled=False, deterministic=False)
mkl = _Flags("mkl")
openmp = _Flags("openmp")


class _Cuda(_Flags):
    """torch.backends.cuda: matmul.allow_tf32 (torch's defaults) and the attention kernel switches,
    each on by default as torch's, set by enable_*_sdp(bool)."""

    def __init__(self):
        super().__init__("cuda")
        self.matmul = _Flags("cuda.matmul", allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                             allow_bf16_reduced_precision_reduction=True)
        self._sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}

    def is_built(self):
        return False

    def preferred_linalg_library(self, backend=None):
        return "default"

    @contextlib.contextmanager
    def sdp_kernel(self, enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
        saved = dict(self._sdp)
        self._sdp.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient,
                         cudnn=enable_cudnn)
        try:
            yield
        finally:
            self._sdp = saved


def _sdp_switches(kind):
    def enabled(self):
        return self._sdp[kind]

    def enable(self, value):
        self._sdp[kind] = bool(value)
    return enabled, enable


for _kind in ("flash", "mem_efficient", "math", "cudnn"):
    _on, _set = _sdp_switches(_kind)
    setattr(_Cuda, f"{_kind}_sdp_enabled", _on)
    setattr(_Cuda, f"enable_{_kind}_sdp", _set)

cuda = _Cuda()


class _Cpu:
    @staticmethod
    def get_cpu_capability():
        """What the machine's vector units are, in torch's words (Numba's target decides ours)."""
        try:
            flags = open("/proc/cpuinfo").read()
        except OSError:
            return "DEFAULT"
        return "AVX512" if " avx512f" in flags else ("AVX2" if " avx2" in flags else "DEFAULT")


cpu = _Cpu()


class _Mha:
    """torch.backends.mha: the switch for torch's fused MultiheadAttention / TransformerEncoder
    kernel (on by default). tinygrad_seq has one path, so the value is only recorded."""

    def __init__(self):
        self._fastpath_enabled = True

    def get_fastpath_enabled(self):
        return self._fastpath_enabled

    def set_fastpath_enabled(self, value):
        self._fastpath_enabled = value   # torch stores the value as given

    def __repr__(self):
        return "<ts.backends.mha>"


mha = _Mha()


class _OptEinsum:
    """torch.backends.opt_einsum: whether the opt_einsum package is installed (is_available()),
    and the `enabled` / `strategy` torch would hand it ("auto" when installed, else None; torch
    checks a new strategy only when the package is there). ts.einsum never calls opt_einsum,
    so the values are recorded and read back, changing nothing."""

    def __init__(self):
        import importlib.util
        self._available = importlib.util.find_spec("opt_einsum") is not None
        self.enabled, self.strategy = self._available, ("auto" if self._available else None)

    def is_available(self):
        return self._available

    def get_opt_einsum(self):
        if not self._available:
            return None
        import opt_einsum
        return opt_einsum

    def __repr__(self):
        return "<ts.backends.opt_einsum>"


opt_einsum = _OptEinsum()

# `import torch.backends.cudnn as cudnn` (a submodule import): the flag objects answer as modules
for _name in ("cudnn", "mps", "mkldnn", "mkl", "openmp", "cuda", "cpu", "mha", "opt_einsum"):
    _sys.modules[f"{__name__}.{_name}"] = globals()[_name]
