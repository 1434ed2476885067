"""Pointwise pieces the regression losses share (losses.py)."""


def piecewise_quadratic(d, a, bound, inner_scale, shift, outer_scale):
    """torch's smooth L1 / Huber pointwise loss of differences d (a = |d|): 0.5 d^2 * inner_scale
    where |d| < bound, (|d| - shift) * outer_scale elsewhere. Its gradients are torch's: d *
    inner_scale inside and outer_scale * sign(d) at and beyond the bound (nan at a nan d), and the
    second derivative inner_scale inside, 0 at the bound and beyond (at d = 0 too). The inner
    piece reads d only inside (an inf d would give its unused gradient 0 * inf); a nan d is inside,
    as in torch's backward kernel (its gradient nan)."""
    inside = ~(a.detach() >= bound)
    d_in = d.masked_fill(~inside, 0.0)
    outer = a - shift if outer_scale == 1.0 else (a - shift) * outer_scale
    return (0.5 * d_in * d_in * inner_scale).where(inside, outer)
