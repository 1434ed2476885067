"""torch.gradient: the derivative of a sampled function along dims by central differences in
the interior and one-sided ones (first or second order) at the edges, as numpy.gradient
(which torch's follows), with uniform spacings or coordinate tensors. Built from Tensor ops, so
it is differentiable as torch's."""
import numbers


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """A tuple of tensors, one per dim (every dim when dim is None): spacing a number (each
    dim's step), a list of numbers (one per dim) or a list of 1-d coordinate tensors."""
    from tinygrad_seq.tensor import Tensor
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = list(range(input.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [d % input.ndim for d in dims]
    if isinstance(spacing, (numbers.Number, Tensor)) and not (isinstance(spacing, Tensor) and spacing.ndim):
        spacing = [spacing] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims):
        if dim is None:
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
                               f"equal to 'self.dim() = {input.ndim}', since dim argument was not given, but got a "
                               f"list of length {len(spacing)}")
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length "
                           f"{len(spacing)} and a dim argument of length {len(dims)}.")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    from tinygrad_seq.dtypes import get_default_dtype
    x = input if input.dtype.kind in "fc" else input.to(dtype=get_default_dtype())   # (torch's: the default dtype)
    return tuple(_along(x, d, s, edge_order) for d, s in zip(dims, spacing))


def _along(f, d, step, edge_order):
    from tinygrad_seq.creation import cat
    from tinygrad_seq.tensor import Tensor
    n = f.shape[d]

    def part(start, length):
        return f.narrow(d, start, length)

    def shaped(c):   # a coordinate difference [k] broadcast along dim d
        return c.reshape([-1 if i == d else 1 for i in range(f.ndim)])

    if isinstance(step, Tensor) and step.ndim:   # coordinates
        x = step.to(dtype=f.dtype)
        dx = x[1:] - x[:-1]
        dx1, dx2 = shaped(dx[:-1]), shaped(dx[1:])
        a, b, c = -dx2 / (dx1 * (dx1 + dx2)), (dx2 - dx1) / (dx1 * dx2), dx1 / (dx2 * (dx1 + dx2))
        inner = a * part(0, n - 2) + b * part(1, n - 2) + c * part(2, n - 2)
        if edge_order == 1:
            first = (part(1, 1) - part(0, 1)) / dx[0]
            last = (part(n - 1, 1) - part(n - 2, 1)) / dx[-1]
        else:
            h1, h2 = dx[0], dx[1]
            first = (-(2 * h1 + h2) / (h1 * (h1 + h2)) * part(0, 1) + (h1 + h2) / (h1 * h2) * part(1, 1)
                     - h1 / (h2 * (h1 + h2)) * part(2, 1))
            h1, h2 = dx[-2], dx[-1]
            last = (h2 / (h1 * (h1 + h2)) * part(n - 3, 1) - (h2 + h1) / (h1 * h2) * part(n - 2, 1)
                    + (2 * h2 + h1) / (h2 * (h1 + h2)) * part(n - 1, 1))
    else:
        h = float(step.item() if isinstance(step, Tensor) else step)
        inner = (part(2, n - 2) - part(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (part(1, 1) - part(0, 1)) / h
            last = (part(n - 1, 1) - part(n - 2, 1)) / h
        else:
            first = (-1.5 * part(0, 1) + 2 * part(1, 1) - 0.5 * part(2, 1)) / h
            last = (0.5 * part(n - 3, 1) - 2 * part(n - 2, 1) + 1.5 * part(n - 1, 1)) / h
    return cat([first, inner, last], d)
