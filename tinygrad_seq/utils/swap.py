"""torch.utils.swap_tensors(t1, t2): the two Tensor objects exchange everything they hold (data,
dtype, device, grad, graph node, version, hooks, their own attributes and their class, so a
Parameter and a plain tensor trade places), as torch's swaps the objects' TensorImpls: every
reference to t1 now sees what t2 was."""

_NOTHING = object()


def swap_tensors(t1, t2):
    from tinygrad_seq.tensor import Tensor
    for t in (t1, t2):
        if not isinstance(t, Tensor):
            raise AttributeError(f"'{type(t).__name__}' object has no attribute '_use_count'")
    if t1 is t2:
        return
    for name in Tensor.__slots__:
        if name in ("__weakref__", "__dict__"):
            continue
        a, b = getattr(t1, name, _NOTHING), getattr(t2, name, _NOTHING)
        for t, value in ((t1, b), (t2, a)):
            if value is _NOTHING:
                if hasattr(t, name):
                    delattr(t, name)
            else:
                setattr(t, name, value)
    d1 = dict(getattr(t1, "__dict__", {}))
    d2 = dict(getattr(t2, "__dict__", {}))
    t1.__dict__.clear()
    t1.__dict__.update(d2)
    t2.__dict__.clear()
    t2.__dict__.update(d1)
    if type(t1) is not type(t2):
        t1.__class__, t2.__class__ = type(t2), type(t1)
