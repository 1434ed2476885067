"""torch.einsum(equation, *operands) with its gradient.

The equation is torch's: letters name dimensions, "..." stands for the broadcast dimensions
(right-aligned), "->" gives the output (without it: the ellipsis dimensions, then the letters
that appear once, in alphabetical order), and a size-1 dimension broadcasts against its letter's
size elsewhere. The gradient of operand k is another einsum: the output's gradient contracted
with the other operands onto operand k's letters; a letter only operand k has (summed away in
the forward) comes back by broadcasting, a letter repeated inside one operand (a diagonal,
"ii->i") is written back onto that diagonal, and a broadcast size-1 dimension is summed back by
the engine's _unbroadcast.
"""
import functools
import string

import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.errors import DTypeMismatch, InvalidArgument, ShapeMismatch


def _invalid_subscript(index):
    return InvalidArgument(f"einsum(): invalid subscript given at index {index} in the equation string, subscripts "
                           "must be in [a-zA-Z]")


def _read_term(text, i, start, ellipsis_error, stray_error):
    """One operand's (or the output's) subscripts from text[i:] up to a ',' or the end: (term with
    at most one "...", the index after it); start: text's offset in the equation (for errors)."""
    term = ""
    while i < len(text) and text[i] != ",":
        c = text[i]
        if c == ".":
            if "..." in term:
                raise InvalidArgument(ellipsis_error)
            if text[i:i + 3] != "...":
                raise InvalidArgument(stray_error)
            term, i = term + "...", i + 3
            continue
        if c in string.ascii_letters:
            term += c
        elif c != " ":   # spaces are ignored, as torch's
            raise _invalid_subscript(start + i)
        i += 1
    return term, i


def split_equation(equation, n_operands):
    """torch's syntax checks of the equation: (one term per operand, output term or None), spaces
    dropped. Errors are torch's RuntimeErrors: a subscript that is not a letter, a stray '.', a
    second ellipsis in one term, more or fewer operands than terms, an output subscript repeated
    or absent from every operand."""
    lhs, arrow, rhs = equation.partition("->")
    terms, i = [], 0
    while True:
        k = len(terms)
        term, i = _read_term(lhs, i, 0, f"einsum(): found '.' for operand {k} for which an ellipsis was already found",
                             f"einsum(): found '.' for operand {k} that is not part of any ellipsis")
        terms.append(term)
        if i == len(lhs):
            break
        if len(terms) >= n_operands:   # a ',' beyond the operands given
            raise InvalidArgument("einsum(): fewer operands were provided than specified in the equation")
        i += 1
    if len(terms) < n_operands:
        raise InvalidArgument("einsum(): more operands were provided than specified in the equation")
    if not arrow:
        return terms, None
    if "," in rhs:
        raise _invalid_subscript(len(lhs) + 2 + rhs.index(","))
    out, _ = _read_term(rhs, 0, len(lhs) + 2, "einsum(): found '.' for output but an ellipsis (...) was already found",
                        "einsum(): found '.' for output that is not part of any ellipsis (...)")
    seen, used = set(), set("".join(terms))
    for c in out.replace("...", ""):
        if c in seen or c not in used:
            raise InvalidArgument(f"einsum(): output subscript {c}" + (" appears more than once in the output"
                                  if c in seen else " does not appear in the equation for any input operand"))
        seen.add(c)
    return terms, out


def parse(equation, shapes):
    """(one letter string per operand, output letters) with "..." spelled out in letters
    (memoised: a decoder's beam step parses the same equation and shapes every call)."""
    terms, out = _parse_cached(equation, tuple(tuple(s) for s in shapes))
    return list(terms), out


@functools.lru_cache(maxsize=256)
def _parse_cached(equation, shapes):
    terms, out = _parse(equation, shapes)
    return tuple(terms), out


def _parse(equation, shapes):
    terms, out = split_equation(equation, len(shapes))
    eq = ",".join(terms) + ("" if out is None else "->" + out)
    spare = [c for c in string.ascii_letters if c not in eq]
    n_ellipsis = max([len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes) if "..." in t],
                     default=0)
    ellipsis = "".join(spare[:n_ellipsis])
    spelled = []
    for k, (t, shape) in enumerate(zip(terms, shapes)):
        named = len(t.replace("...", ""))
        if "..." in t:
            if len(shape) < named:
                raise ShapeMismatch(f"einsum(): operand {k} has {len(shape)} dimensions, fewer than the "
                                    f"{named} subscripts of {t!r}")
            t = t.replace("...", ellipsis[n_ellipsis - (len(shape) - named):])
        elif named != len(shape):
            raise ShapeMismatch(f"einsum(): the number of subscripts in the equation ({named}) does not "
                                f"match the number of dimensions ({len(shape)}) for operand {k} and no "
                                f"ellipsis was given")
        spelled.append(t)
    if out is not None:
        out = out.replace("...", ellipsis)
    else:
        once = [c for c in sorted(set("".join(spelled))) if c not in ellipsis and "".join(spelled).count(c) == 1]
        out = ellipsis + "".join(once)
    sizes = {}
    for k, (t, shape) in enumerate(zip(spelled, shapes)):
        for c, n in zip(t, shape):
            if sizes.get(c, 1) != 1 and n != 1 and sizes[c] != n:
                raise ShapeMismatch(f"einsum(): subscript {c} has size {n} for operand {k} which does not "
                                    f"broadcast with previously seen size {sizes[c]}")
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    return spelled, out


def _einsum(spec, *arrays):
    """np.einsum; float16 operands summed in float32 and rounded once, as torch's (numpy sums in
    float16: a 256-long contraction came out 8% off)."""
    if any(getattr(a, "dtype", None) == np.float16 for a in arrays):
        out = np.einsum(spec, *[np.asarray(a, np.float32) for a in arrays], optimize=len(arrays) > 2)
        return np.asarray(out).astype(np.float16)
    return np.einsum(spec, *arrays, optimize=len(arrays) > 2)


class Einsum(Function):
    @staticmethod
    def forward(ctx, *arrays, terms, out):
        if not isinstance(arrays[0], (np.ndarray, np.generic)):   # (a 0-d one is a numpy scalar)
            raise NotImplementedError("einsum runs on the cpu device only; move the operands with .cpu()")
        ctx.terms, ctx.out, ctx.layouts = terms, out, [(a.shape, a.dtype) for a in arrays]
        if len(arrays) > 1:   # (one operand: backward reads only g; a write to it after is fine, as torch's)
            ctx.save_for_backward(*arrays)
        return _einsum(",".join(terms) + "->" + out, *arrays)

    @staticmethod
    def backward(ctx, g):
        arrays, terms, layouts = ctx.saved_tensors, ctx.terms, ctx.layouts
        grads = []
        for k, need in enumerate(ctx.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            spelled = terms[k]
            target = "".join(dict.fromkeys(spelled))   # a repeated letter (a diagonal) once
            shape_k, dtype_k = layouts[k]
            sizes = {c: shape_k[spelled.index(c)] for c in target}
            others = [t for j, t in enumerate(terms) if j != k]
            given = set(ctx.out).union(*others)
            kept = "".join(c for c in target if c in given)
            part = _einsum(",".join([ctx.out] + others) + "->" + kept, g, *[a for j, a in enumerate(arrays) if j != k])
            if kept != target:   # letters summed away inside operand k alone: broadcast back
                shape = tuple(sizes[c] if c not in given else part.shape[kept.index(c)] for c in target)
                part = np.broadcast_to(part.reshape([part.shape[kept.index(c)] if c in given else 1
                                                     for c in target]), shape)
            if target != spelled:   # onto the diagonal: zeros elsewhere
                full = np.zeros(shape_k, dtype_k)
                strides = [sum(full.strides[i] for i, c in enumerate(spelled) if c == u) for u in target]
                np.lib.stride_tricks.as_strided(full, shape=part.shape, strides=strides)[...] = part
                part = full
            if part.ndim == len(shape_k) and part.shape != shape_k:
                # a letter summed away here and size 1 in another operand: its slices all alike
                part = np.broadcast_to(part, np.broadcast_shapes(part.shape, shape_k))
            grads.append(np.ascontiguousarray(part, dtype=dtype_k))
        return tuple(grads)


def einsum(equation, *operands):
    """torch.einsum: einsum("bth,bsh->bts", q, k); the operands may also come as one list."""
    from tinygrad_seq.join_checks import _common_dtype
    from tinygrad_seq.tensor import Tensor
    if isinstance(equation, Tensor):   # the sublist form: einsum(A, [0, 1], B, [1, 2], [0, 2])
        equation, operands = _from_sublists((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {i} is a {type(t).__name__}, expected a Tensor")
    terms, out = parse(equation, [t.shape for t in operands])
    if len(operands) == 1 and set(out) == set(terms[0]):   # nothing summed: a view, as torch's
        return _single_view(operands[0], terms[0], out)
    first = operands[0].dtype
    if first.kind != "f" or any(t.dtype != first for t in operands):
        operands = _own_sums(terms, out, operands)
        _pairwise_dtypes(terms, out, operands)
    return Einsum.apply(*_common_dtype(list(operands)), terms=tuple(terms), out=out)


def _single_view(t, term, out):
    """einsum of one operand that sums no letter ("ij->ji", "ii->i", "b...->...b"): torch's
    view of it, a diagonal for each repeated letter then a permute (PermuteBackward0), so that
    an in-place write through it reaches the operand and autograd records it."""
    letters = list(term)
    while len(set(letters)) < len(letters):
        c = next(c for c in letters if letters.count(c) > 1)
        i = letters.index(c)
        j = letters.index(c, i + 1)
        t = t.diagonal(0, i, j)   # dims i and j become one, last
        letters = [x for k, x in enumerate(letters) if k not in (i, j)] + [c]
    return t.permute(*[letters.index(c) for c in out])


def _own_sums(terms, out, operands):
    """torch's einsum first sums each operand over the letters no other operand nor the output
    has, with torch.sum, which gives int64 for integer and bool tensors ("ij->i" of int32 is
    int64): those operands become int64 here too."""
    def own(k):
        return any(c not in out and not any(c in t for j, t in enumerate(terms) if j != k) for c in terms[k])
    return [t.to(dtype=np.int64) if t.dtype.kind in "iub" and t.dtype != np.int64 and own(k) else t
            for k, t in enumerate(operands)]


def _pairwise_dtypes(terms, out, operands):
    """torch's einsum's dtype errors: it multiplies the operands left to right, two at a time; a
    step that sums a letter (of size > 1 in both) is a bmm, which refuses two dtypes
    (RuntimeError) and bool (NotImplementedError), and a step that sums none is an elementwise
    product, which promotes. The letters and dtypes alone decide it (no data read)."""
    from tinygrad_seq.list_dtype import _promote
    from tinygrad_seq.tensor_matmul import no_bool, scalar_name
    last = {c: k for k, t in enumerate(terms) for c in t}   # the last operand with each letter
    dtype, sizes = operands[0].dtype, dict(zip(terms[0], operands[0].shape))
    for k in range(1, len(terms)):
        mine = dict(zip(terms[k], operands[k].shape))
        if any(last[c] == k and c not in out and n != 1 and sizes.get(c, 1) != 1 for c, n in mine.items()):
            if dtype != operands[k].dtype:
                raise DTypeMismatch(f"expected scalar type {scalar_name(dtype)} but found "
                                    f"{scalar_name(operands[k].dtype)}")
            no_bool("bmm", dtype)
        dtype = _promote(dtype, operands[k].dtype)
        for c, n in mine.items():
            sizes[c] = max(sizes.get(c, 1), n)


_SUBLIST_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _from_sublists(args):
    """(equation, operands) of torch's sublist form: operand, sublist, operand, sublist, ...
    [, output sublist]; subscripts are ints 0-51 (0-25: 'A'-'Z', 26-51: 'a'-'z', as torch's) or Ellipsis."""
    def letters(sub):
        for s in sub:
            if s is not Ellipsis and not (isinstance(s, int) and 0 <= s < 52):
                raise ValueError(f"einsum(): subscript in subscript list is not within the valid range [0, 52), got {s}")
        return "".join("..." if s is Ellipsis else _SUBLIST_LETTERS[s] for s in sub)
    out = args[-1] if len(args) % 2 else None
    pairs = args[:-1] if len(args) % 2 else args
    tensors, subs = pairs[0::2], pairs[1::2]
    eq = ",".join(letters(sub) for sub in subs)
    return (eq if out is None else eq + "->" + letters(out)), tuple(tensors)
