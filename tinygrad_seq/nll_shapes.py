"""torch's shape checks of nll_loss / cross_entropy with class-index targets (nll_loss_nd,
nll_loss2d), with its error types and messages; losses._class_targets runs them."""
from tinygrad_seq.errors import ShapeMismatch


def check_nll_shapes(x, target):
    """torch's nll_loss_nd shape checks, in its order and words (ValueError where torch raises
    one): input (C,) with a 0-d or one-element target, (N, C) with (N,), (N, C, H, W) with
    (N, H, W), else (N, C, d1, ...) with (N, d1, ...)."""
    if x.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if x.ndim != 1:
        batch = target.shape[0] if target.ndim else 0   # torch reads 0 for a 0-d target
        if x.shape[0] != batch:
            raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size ({batch}).")
        if target.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if x.ndim <= 2:
        if target.ndim > 1:
            raise ShapeMismatch("0D or 1D target tensor expected, multi-target not supported")
        if x.ndim == 1 and target.ndim == 1 and target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
    elif x.ndim == 4:   # torch's nll_loss2d
        if target.ndim != 3:
            raise ShapeMismatch(f"only batches of spatial targets supported (3D tensors) but got targets of "
                                f"dimension: {target.ndim}")
        if tuple(target.shape[1:]) != tuple(x.shape[2:]):
            raise ShapeMismatch(f"size mismatch (got input: {list(x.shape)} , target: {list(target.shape)}")
    elif tuple(target.shape) != (x.shape[0],) + tuple(x.shape[2:]):
        raise ShapeMismatch(f"Expected target size {[x.shape[0], *x.shape[2:]]}, got {list(target.shape)}")
