"""ts.backends: the torch.backends flags PyTorch scripts set at startup (cudnn.deterministic,
cudnn.benchmark, mps.is_available()). tinygrad_seq's kernels are its own and deterministic, so
the flags are accepted and change nothing."""


class _Flags:
    def __init__(self, name, **defaults):
        self._name = name
        self.__dict__.update(defaults)

    def is_available(self):
        return False

    def __repr__(self):
        return f"<ts.backends.{self._name}>"


cudnn = _Flags("cudnn", enabled=True, deterministic=False, benchmark=False, allow_tf32=False)
mps = _Flags("mps")
mkldnn = _Flags("mkldnn", enabled=False)
