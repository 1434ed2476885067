"""The engine's rule for an op's two tensors on two devices: a 0-d cpu tensor joins the other's
device (torch takes it for a scalar: t * lr where lr is a cpu tensor); otherwise torch's error."""


def _scalar_to_device(cls, t0, t1):
    """Two tensors on different devices: a 0-d cpu one joins the other's device, as torch takes
    it for a scalar (t * lr where lr is a cpu tensor); otherwise torch's device error."""
    if t1.device == "cpu" and t1.ndim == 0:
        return t0, t1.to(t0.device)
    if t0.device == "cpu" and t0.ndim == 0:
        return t0.to(t1.device), t1
    _device_mismatch(cls, t0.device, t1.device)


def _device_mismatch(cls, dev, other):
    raise RuntimeError(f"{cls.__name__}: expected all tensors on one device, got {getattr(dev, 'type', dev)} and {getattr(other, 'type', other)}")
