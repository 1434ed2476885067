"""torch.Size, the type t.size() returns."""


class Size(tuple):
    """torch.Size: a tuple of dimensions that prints as torch's (t.size() returns one; t.shape is a
    plain tuple, which compares equal: a Size there would cost every op's shape reads)."""
    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, i):
        out = tuple.__getitem__(self, i)
        return Size(out) if isinstance(i, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n
