"""The layout torch 2.13 gives an advanced index's result (x[..., idx, ...] with integer or bool
arrays) on the host, for inputs whose strides do not run row-major (indexing.index_laid_as_torch
keeps those that do contiguous). torch applies the slices, ints and None as a view v first; moves
the indexed dims to the front when they are not adjacent; restrides v so the indexed dims read
stride 0 and the index's shape takes their place; and lets TensorIterator allocate the result in
the dimension order of (restrided v, the broadcast indices): dims_fastest_first, then dense
strides in that order. A bool mask of k dims is its nonzero()'s k columns (stride k each)."""
import numpy as np

from tinygrad_seq.memory_formats import _strides_in_order, dims_fastest_first


def _as_view_and_arrays(a, idx):
    """(shape, strides, arrays): the view v = a with idx's slices / ints / None applied and each
    array's dims kept whole, its element strides as torch's (a None is torch's unsqueeze: the next
    dim's stride times its size, 1 at the end, where numpy writes 0); arrays = [(first dim of v it
    indexes, [int index arrays, one per dim it indexes])]."""
    n_used = sum(x.ndim if type(x) is np.ndarray and x.dtype == np.bool_ else 0 if x is None or x is Ellipsis else 1
                 for x in idx)
    basic, arrays, none_dims, dim, in_d = [], [], {}, 0, 0
    for x in idx:
        if x is Ellipsis:
            basic.append(Ellipsis)
            dim += a.ndim - n_used
            in_d += a.ndim - n_used
        elif x is None:
            basic.append(None)
            none_dims[dim] = a.strides[in_d] // a.itemsize * a.shape[in_d] if in_d < a.ndim else 1
            dim += 1
        elif type(x) is np.ndarray and x.dtype == np.bool_:
            k = max(x.ndim, 1)
            columns = np.nonzero(x) if x.ndim else (np.zeros(int(x), np.int64),)
            rows = np.stack(columns, 1) if columns else np.zeros((0, k), np.int64)   # nonzero(): (count, k)
            arrays.append((dim, [rows[:, j] for j in range(rows.shape[1])]))
            basic.extend([slice(None)] * x.ndim)
            dim += x.ndim
            in_d += x.ndim
        elif type(x) is np.ndarray:
            arrays.append((dim, [x]))
            basic.append(slice(None))
            dim += 1
            in_d += 1
        elif type(x) is slice:
            basic.append(x)
            dim += 1
            in_d += 1
        else:   # an int: a select, no dim of v
            basic.append(x)
            in_d += 1
    v = a[tuple(basic)]
    strides = [none_dims.get(d, s // v.itemsize) for d, s in enumerate(v.strides)]
    return list(v.shape), strides, arrays


_memo: dict = {}   # layout signature -> strides (the rule reads shapes and strides only, not values)


def _signature(a, idx):
    """A key for a[idx]'s rule, or None where index values matter (bool masks: their counts)."""
    key = [a.shape, a.strides]
    for x in idx:
        if type(x) is np.ndarray:
            if x.dtype == np.bool_:
                return None
            key.append((x.shape, x.strides, x.itemsize))
        elif type(x) is slice:
            key.append((x.start, x.stop, x.step))
        elif x is None or x is Ellipsis or type(x) is bool:
            key.append(x)
        else:
            key.append(int)
    return tuple(key)


def torch_index_strides(a, idx):
    """Element strides of torch's result of a[idx] (normalize_index's idx, with arrays), or None
    where this does not model torch's rule (Python and 0-d bools); remembered per layout (an
    LSTM state reordered every step repeats one)."""
    key = _signature(a, idx)
    if key is not None and key in _memo:
        return _memo[key]
    out = _torch_index_strides(a, idx)
    if key is not None:
        if len(_memo) > 512:
            _memo.clear()
        _memo[key] = out
    return out


def _torch_index_strides(a, idx):
    if any(type(x) is bool or (type(x) is np.ndarray and x.dtype == np.bool_ and x.ndim == 0) for x in idx):
        return None   # (a Python or 0-d bool adds a dim torch indexes as a tensor: not modelled)
    shape, strides, arrays = _as_view_and_arrays(a, idx)
    if not arrays:
        return None
    dims = [d + j for d, cols in arrays for j in range(len(cols))]   # v's indexed dims, in order
    index = [c for _, cols in arrays for c in cols]
    if dims != list(range(dims[0], dims[0] + len(dims))):   # not adjacent: to the front (transposeToFront)
        rest = [d for d in range(len(shape)) if d not in dims]
        shape, strides = [shape[d] for d in dims + rest], [strides[d] for d in dims + rest]
        dims = list(range(len(dims)))
    before, after = dims[0], len(shape) - dims[-1] - 1
    broadcast = np.broadcast_arrays(*index)
    sub = broadcast[0].shape
    out_shape = shape[:before] + list(sub) + shape[len(shape) - after:]
    src = strides[:before] + [0] * len(sub) + strides[len(strides) - after:]
    operands = [src]
    for b in broadcast:   # reshape_indexer's view of each index: size-1 dims before and after it
        st = _view_strides(b.shape, [s // b.itemsize for s in b.strides], [1] * before + list(sub) + [1] * after)
        # TensorIterator reads a size-1 dim of an operand as stride 0 where the result's is longer
        operands.append([0 if n != 1 and (d < before or d >= before + len(sub)) else s
                         for d, (n, s) in enumerate(zip(out_shape, st))])
    return _strides_in_order(out_shape, dims_fastest_first(out_shape, operands))


def _view_strides(old_shape, old_strides, new_shape):
    """torch's computeStride: the strides of a view of (old_shape, old_strides) as new_shape (the
    same elements, size-1 dims inserted here); new_shape's row-major strides where no view exists
    (reshape copies then)."""
    new = [0] * len(new_shape)
    if not old_shape:
        return [1] * len(new_shape)
    view_d = len(new_shape) - 1
    base, tensor_numel, view_numel = old_strides[-1], 1, 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and old_strides[tensor_d - 1] != tensor_numel * base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new[view_d] = view_numel * base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return list(_strides_in_order(new_shape, range(len(new_shape) - 1, -1, -1)))
            if tensor_d > 0:
                base, tensor_numel, view_numel = old_strides[tensor_d - 1], 1, 1
    return new
