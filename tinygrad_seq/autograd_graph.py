"""ts.autograd.graph (torch.autograd.graph): saved_tensors_hooks, save_on_cpu and
disable_saved_tensors_hooks.

Inside `with saved_tensors_hooks(pack_hook, unpack_hook):` a node that saves tensors for its
backward calls pack_hook(tensor) on each and keeps only what it returns; its backward calls
unpack_hook(packed) on each and uses the Tensor that returns. The innermost hooks of nested
blocks are the ones used, as torch's. Where the engine calls them:
  - every engine op that saves through ctx.save_for_backward (autograd.Function.save_for_backward:
    the elementwise, reduction, matmul, shape and loss ops of ops*.py and the others) when one of
    its inputs requires grad, with each saved array wrapped as a Tensor; None entries are skipped;
  - custom autograd.Function subclasses: each Tensor given to ctx.save_for_backward
    (autograd_function._apply), unpacked before their backward reads ctx.saved_tensors.
Not hooked: nodes that keep arrays as their own ctx attributes instead (the fused recurrent
kernels' workspaces, index arrays). With no hooks registered, save_for_backward tests one list.
"""
import contextlib
import sys

STACK: list = []   # (pack_hook, unpack_hook) of each open saved_tensors_hooks block, innermost last
_disabled = [None]   # disable_saved_tensors_hooks' error message while it is open


class _Packed:
    """Stands in ctx.saved_tensors for a packed tensor until backward unpacks it (no shape: the
    engine's checks of saved arrays skip it)."""
    __slots__ = ()

    def __repr__(self):
        return "<packed saved tensor>"


PACKED = _Packed()


class saved_tensors_hooks:
    """Context manager: pack_hook(tensor) -> anything, called when a tensor is saved for
    backward; unpack_hook(packed) -> Tensor, called when backward uses it."""

    def __init__(self, pack_hook, unpack_hook):
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("saved_tensors_hooks(pack_hook, unpack_hook): both hooks must be callable")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        if _disabled[0] is not None:
            raise RuntimeError(_disabled[0])
        STACK.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        STACK.pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU and moved back to their device in backward (on the CPU
    already: kept as they are). pin_memory is accepted: host memory needs no pinning here."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            return tensor.device, tensor.cpu()

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device)
        super().__init__(pack_to_cpu, unpack_from_cpu)
        self.pin_memory, self.device_type = pin_memory, device_type


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Inside, opening saved_tensors_hooks raises RuntimeError(error_message)."""
    previous, _disabled[0] = _disabled[0], error_message
    try:
        yield
    finally:
        _disabled[0] = previous


def pack(ctx, arrays):
    """An engine op's save_for_backward(*arrays) while hooks are registered: packed when the
    node joins the graph (an input needs its gradient). A custom Function's ctx keeps its
    Tensors until autograd_function._apply has checked them, and packs them there."""
    if not ctx.array_io or True not in ctx.needs_input_grad:
        return arrays
    return pack_saved(ctx, arrays)


def pack_saved(ctx, saved):
    """The saved values with the innermost pack hook applied: the packed values go to
    ctx._packed_saves, a PACKED placeholder to saved_tensors. Engine ops save arrays, custom
    Functions Tensors: each hook sees a Tensor."""
    from tinygrad_seq.autograd import _Tensor
    pack_hook, unpack_hook = STACK[-1]
    entries, placeholders = [], []
    for value in saved:
        if isinstance(value, _Tensor):
            entries.append(("tensor", pack_hook(value)))
        elif value is not None and hasattr(value, "shape") and hasattr(value, "dtype"):
            entries.append(("array", pack_hook(_Tensor._wrap(value, ctx.device))))
        else:
            entries.append(("value", value))
            placeholders.append(value)
            continue
        placeholders.append(PACKED)
    ctx._packed_saves = (unpack_hook, entries)
    return tuple(placeholders)


def unpack(ctx):
    """Before ctx's backward: ctx.saved_tensors from the unpack hook (again on each backward of
    a retained graph, as torch calls it on each use)."""
    from tinygrad_seq.autograd import _Tensor
    unpack_hook, entries = ctx._packed_saves
    values = []
    for kind, value in entries:
        if kind == "value":
            values.append(value)
            continue
        t = unpack_hook(value)
        if not isinstance(t, _Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                            f"{type(t).__name__}")
        values.append(t.array if kind == "array" else t)
    ctx.saved_tensors = tuple(values)


# `import torch.autograd.graph` / `from torch.autograd.graph import ...` (ts.autograd is a module)
sys.modules["tinygrad_seq.autograd.graph"] = sys.modules[__name__]


from tinygrad_seq.autograd_multi_hook import register_multi_grad_hook  # noqa: E402,F401


def __getattr__(name):
    # ts.autograd.graph.X for a torch.autograd.graph name this engine lacks
    if name.startswith("__"):
        raise AttributeError(name)
    from tinygrad_seq.missing import _message
    raise AttributeError(_message("torch.autograd.graph", name, None))
