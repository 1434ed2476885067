"""clamp with tensor bounds (Tensor.clamp's rare path), its values and gradients torch's."""
import numpy as np


def clamp_tensors(self, lo, hi):
    """clamp with tensor bounds, its gradients torch's: to x where lo <= x <= hi (both ends
    included; maximum/minimum would split a tie in halves), to lo where x < lo < hi, to hi
    where x > hi or hi < lo; to none where x < lo == hi."""
    from tinygrad_seq.functions import where
    from tinygrad_seq.result_types import cast_operands, result_type
    # all three in torch's result type first (an int8 bound beside a uint8 one stays -5)
    dt = result_type(*(x for x in (self, lo, hi) if x is not None))
    if dt == np.bool_ and lo is not None and hi is not None:   # (one bound runs maximum / minimum, which have one)
        raise NotImplementedError('"clamp_cpu" not implemented for \'Bool\'')
    self, lo, hi = cast_operands(dt, self, lo, hi)
    lo = None if lo is None else self._other(lo)
    hi = None if hi is None else self._other(hi)
    nan = self.isnan() if self.dtype.kind == "f" else None
    for bound in (lo, hi):
        if nan is not None and bound is not None and bound.dtype.kind == "f":
            nan = nan | bound.isnan()
    any_nan = nan is not None and bool(nan.any().item())
    if not any_nan:
        if hi is None:
            return where(self >= lo, self, lo)
        if lo is None:
            return where(self <= hi, self, hi)
    # torch's gradients follow its comparisons, which a nan fails: with one bound, x where x >= lo,
    # lo where x < lo, else nan with no gradient; with two, a nan output keeps the comparisons'
    # gradients (x > hi still sends one to hi when lo is nan)
    if hi is None:
        return where(self >= lo, self, where(self < lo, lo, float("nan")))
    if lo is None:
        return where(self <= hi, self, where(self > hi, hi, float("nan")))
    inside = (self >= lo) & (self <= hi)
    to_lo = (self < lo) & (lo < hi)
    to_hi = (self > hi) | (hi < lo)
    out = where(inside, self, where(to_lo, lo, where(to_hi, hi, hi.detach())))
    if not any_nan:
        return out
    return out + where(nan, float("nan"), 0.0).to(dtype=out.dtype)   # the value nan, the gradients as they were
