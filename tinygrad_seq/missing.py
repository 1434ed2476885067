"""The AttributeError a PyTorch name tinygrad_seq lacks raises: it says the name is missing (not
misspelled) and, where one exists, the supported way to do the same."""

# torch names people reach for, with the supported alternative
ALTERNATIVES = {
    "conv3d": "F.conv2d over merged axes (3-D convolutions are out of scope)",
    "autocast": "float32 or float64 throughout",
    "sparse": "dense tensors with index_select / gather",
    "fft": "numpy.fft on t.numpy()",
    "mps": "ts.cuda or the CPU",
    "bucketize": "numpy.searchsorted on t.numpy()",
    "searchsorted": "numpy.searchsorted on t.numpy()",
    "cdist": "((a.unsqueeze(1) - b.unsqueeze(0)) ** 2).sum(-1).sqrt()",
    "baddbmm": "ts.bmm(a, b) * alpha + input * beta",
    "addmm": "input + a @ b",
    "histc": "numpy.histogram on t.numpy()",
    "quantize_per_tensor": "float32 tensors",
    "channels_last": "the default (contiguous) layout",
    "save_for_backward": "a ts.autograd.Function subclass (ctx.save_for_backward)",
}

TENSOR_ALTERNATIVES = {
    "data_ptr": "t.array (the backend array) for low-level access",
    "storage": "t.array (the backend array)",
    "pin_memory": "nothing: host tensors need no pinning here",
    "share_memory_": "ts.distributed over MPI",
    "to_sparse": "dense tensors",
    "stride": "t.array.strides (bytes) on the CPU",
    "index_put_": "item assignment, t[idx] = value",
    "bernoulli": "(ts.rand(t.shape) < t).float()",
    "backward_hook": "register_hook",
    "mode": "numpy on t.numpy()",
    "median": "t.sort(dim).values.narrow(dim, (n - 1) // 2, 1)",
}


def _message(owner, name, alternative):
    msg = f"tinygrad_seq does not have {owner}.{name} yet"
    return msg + (f"; instead use {alternative}" if alternative else "")


def module_attribute_error(name):
    return AttributeError(_message("torch", name, ALTERNATIVES.get(name)))


def tensor_attribute_error(name):
    return AttributeError(_message("torch.Tensor", name, TENSOR_ALTERNATIVES.get(name)))


# the same for the submodules a PyTorch program reaches into (torch.optim.NAdam, F.layer_norm, ...)
SUBMODULE_ALTERNATIVES = {
    "torch.optim": {},
    "torch.nn": dict(BatchNorm3d="nn.BatchNorm2d over merged axes, or nn.LayerNorm",
                     Conv3d="nn.Conv2d over merged axes (3-D convolutions are out of scope)"),
    "torch.nn.functional": {},
    "torch.nn.init": {},
    "torch.nn.utils": {},
    "torch.optim.lr_scheduler": dict(SWALR="optim.swa_utils.SWALR"),
}


def submodule_attribute_error(owner, module, name):
    """The AttributeError of `module.name` (owner: the torch module it stands for, "torch.optim");
    names with two leading underscores keep Python's plain error (import machinery asks them)."""
    if name.startswith("__"):
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    return AttributeError(_message(owner, name, SUBMODULE_ALTERNATIVES.get(owner, {}).get(name)))
