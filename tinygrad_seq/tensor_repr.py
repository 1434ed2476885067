"""Tensor's repr, laid out as torch prints: `tensor([ 1.5000, -2.0000])`, integral floats as
`1.`, scientific notation when the magnitudes span more than 1000x (or pass 1e8, or go below
1e-4), numbers right-aligned to one width, long tensors summarized with `...`, and the dtype
named (`dtype=torch.float64`, torch's spelling) only when it is not the default float dtype,
int64 or bool. Options: PRINT_OPTIONS, which
ts.set_printoptions changes."""
import numpy as np

from tinygrad_seq.dtypes import get_default_dtype

# torch's defaults
PRINT_OPTIONS = dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)


def _float_formatter(a):
    """One function formatting every element of float array a the way torch's _Formatter
    would, so that the column of numbers lines up."""
    p, sci_mode = PRINT_OPTIONS["precision"], PRINT_OPTIONS["sci_mode"]
    finite = a[np.isfinite(a)]
    nonzero = np.abs(finite[finite != 0]).astype(np.float64)
    int_mode = bool(np.all(finite == np.ceil(finite)))
    spread = nonzero.size and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1e8)
    if not nonzero.size:   # no nonzero finite value: torch's formatter stops early ("0.", "nan", "-0.")
        fmt = lambda v: f"{v:.0f}."   # noqa: E731
    elif int_mode:
        sci = bool(spread) if sci_mode is None else sci_mode
        fmt = (lambda v: f"{v:.{p}e}") if sci else (lambda v: f"{v:.0f}.")
    else:
        sci = bool(spread or (nonzero.size and nonzero.min() < 1e-4)) if sci_mode is None else sci_mode
        fmt = (lambda v: f"{v:.{p}e}") if sci else (lambda v: f"{v:.{p}f}")

    def one(v):
        v = float(v)
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return fmt(v)
    return one


def format_tensor(t, array):
    """The repr of tensor t whose host values are `array`."""
    a = np.asarray(array)
    opts = PRINT_OPTIONS
    shown = a if a.size <= opts["threshold"] else _edges(a, opts["edgeitems"])   # what is printed
    if a.dtype == np.bool_:
        one = str
    elif a.dtype.kind in "iu":
        one = lambda v: str(int(v))   # noqa: E731
    else:
        one = _float_formatter(shown)
    if a.ndim == 0:
        body = one(a[()])
    elif a.size == 0:
        body = "[]"
    else:
        # torch sizes the columns by the non-zero finite values (a zero, nan or inf pads to them)
        sized = shown.reshape(-1)
        if a.dtype.kind == "f":
            sized = sized[np.isfinite(sized) & (sized != 0)]
        width = max([len(one(v)) for v in sized], default=1)
        body = _layout(a, len("tensor("), a.size > opts["threshold"], lambda v: one(v).rjust(width), width)
    extra = []
    if a.size == 0 and a.ndim != 1 if a.size == 0 else not opts["edgeitems"]:   # torch names the size when it hides every element
        extra.append(f"size={tuple(a.shape)}")
    empty_named = a.size == 0 and a.dtype != np.dtype(get_default_dtype())   # torch names it then
    if t.device != "cpu":
        extra.append(f"device='{t.device}'")
    if empty_named or a.dtype not in (np.dtype(get_default_dtype()), np.dtype(np.int64), np.dtype(np.bool_)):
        extra.append(f"dtype=torch.{a.dtype}")   # spelled as torch prints it
    if t._ctx is not None:
        extra.append(f"grad_fn=<{t.grad_fn.name().rsplit('::', 1)[-1]}>")   # <CopySlices>, as torch's
    elif t.requires_grad:
        extra.append("requires_grad=True")
    # each suffix goes on a line of its own when it would pass the line width (torch's rule)
    out, last = body, len("tensor(" + body) - ("tensor(" + body).rfind("\n") + 1   # torch's count
    for e in extra:
        n = len(e)
        if last + n + 2 > opts["linewidth"]:
            out, last = out + ",\n" + " " * len("tensor(") + e, len("tensor(") + n
        else:
            out, last = out + ", " + e, last + n + 2
    return "tensor(" + out + ")"


def _layout(a, indent, summarize, fmt, width):
    """torch's _tensor_str_with_formatter: a vector's elements `width + 2` columns apart, as many
    a line as fit in the line width after `indent` (an elided run " ..." counts as one element);
    a higher-dim tensor's slices one dimension deeper, separated by dim - 1 blank lines."""
    k = PRINT_OPTIONS["edgeitems"]
    n = a.shape[0]
    if a.ndim == 1:
        if summarize and not k:
            data = ["..."]
        elif summarize and n > 2 * k:
            data = [fmt(v) for v in a[:k]] + [" ..."] + [fmt(v) for v in a[n - k:]]
        else:
            data = [fmt(v) for v in a]
        per_line = max(1, int((PRINT_OPTIONS["linewidth"] - indent) // (width + 2)))   # a float linewidth too
        lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    if summarize and not k:
        return "[...]"
    rows = range(n) if not (summarize and n > 2 * k) else [*range(k), None, *range(n - k, n)]
    slices = ["..." if i is None else _layout(a[i], indent + 1, summarize, fmt, width) for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _edges(a, k):
    """The elements a summarized print shows: the first and last k along every dim."""
    for axis in range(a.ndim):
        if a.shape[axis] > 2 * k:
            a = np.concatenate([np.take(a, range(k), axis), np.take(a, range(a.shape[axis] - k, a.shape[axis]), axis)],
                               axis)
    return a
