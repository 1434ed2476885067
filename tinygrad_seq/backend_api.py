"""The array-backend interface, written down once.

A backend is a module (backend_cpu: numpy arrays; backend_cuda: numba device arrays) that
provides every name below with these semantics; the engine's ops (ctx.b), in-place ops and
autograd call nothing else, so a new device is one new module, checked by
tests/test_torch_backend_contract.py. `a`, `b`: the backend's arrays; shapes are tuples;
results are new arrays unless "in place" is said (those return the written array). numpy's
broadcasting and dtype rules apply throughout.
"""

INTERFACE = {
    # creation and transfer
    "asarray": "(data, dtype=None): host data or own array -> array (no copy when possible)",
    "to_host": "(a): a numpy copy (the array itself on the CPU)",
    "zeros": "(shape, dtype)", "ones": "(shape, dtype)", "full": "(shape, value, dtype)",
    "copy": "(a): a C-contiguous copy", "astype": "(a, dtype): converted copy",
    "ascontiguous": "(a): a, or a C-contiguous copy when it is not",
    # elementwise (numpy broadcasting)
    "add": "(a, b)", "sub": "(a, b)", "mul": "(a, b)", "div": "(a, b)", "neg": "(a)", "power": "(a, b)",
    "maximum": "(a, b)", "minimum": "(a, b)", "where": "(cond, a, b)",
    "floor_divide": "(a, b)", "remainder": "(a, b): the divisor's sign, as numpy and torch",
    "exp": "(a)", "log": "(a)", "tanh": "(a)", "sigmoid": "(a): overflow-free", "relu": "(a)",
    "abs": "(a)", "sqrt": "(a)", "sign": "(a)", "sin": "(a)", "cos": "(a)", "log1p": "(a)", "expm1": "(a)",
    "floor": "(a)", "ceil": "(a)", "rint": "(a): round half to even", "trunc": "(a)",
    "clip": "(a, lo, hi): lo or hi may be None",
    "zero_where": "(drop, g): 0 where drop (bool) else g, a select (an inf or nan of g there gives 0)",
    "sigmoid_backward": "(g, y): g * (1 - y) * y, y sigmoid's output", "tanh_backward": "(g, y): g * (1 - y * y), y tanh's output",
    "relu_backward": "(g, y): g where y > 0 else 0, y relu's output",
    "gt": "(a, b) -> bool", "ge": "(a, b)", "lt": "(a, b)", "le": "(a, b)", "eq": "(a, b)", "ne": "(a, b)",
    "logical_not": "(a)", "logical_and": "(a, b)", "logical_or": "(a, b)", "logical_xor": "(a, b)",
    # reductions and scans
    "sum": "(a, axis=None, keepdims=False)", "max": "(a, axis=None, keepdims=False)",
    "argmax": "(a, axis=None) -> int64", "argsort": "(a, axis) -> int64, stable",
    "cumsum": "(a, axis)", "cumprod": "(a, axis)",
    # shape and indexing
    "reshape": "(a, shape): a view when possible", "transpose": "(a, axes)",
    "broadcast_to": "(a, shape)", "concatenate": "(arrays, axis)", "stack": "(arrays, axis)",
    "split": "(a, sizes, axis) -> list", "matmul": "(a, b): numpy's matmul semantics",
    "getitem": "(a, idx): a[idx]; basic indices give a view (0-d for one element) where the device allows",
    "index_add": "(shape, dtype, idx, g, advanced): zeros(shape) with g added at [idx] (adjoint of getitem)",
    "gather": "(a, dim, index): torch.gather", "scatter": "(out, dim, index, src): in place, torch.scatter_",
    "scatter_add": "(out, dim, index, src): in place, torch.scatter_add_ (repeats accumulate)",
    # fused, numerically stable
    "log_softmax": "(a, axis)", "softmax": "(a, axis)",
    "softmax_backward": "(g, y, axis): y * (g - sum(g * y, axis)), y softmax's output",
    "log_softmax_backward": "(g, y, axis): g - exp(y) * sum(g, axis), y log_softmax's output",
    # in place
    "iadd": "(a, b): a += b", "imul": "(a, b): a *= b", "fill": "(a, value)",
    "setitem": "(a, idx, v): a[idx] = v", "copy_into": "(dst, src): dst[...] = src (src may overlap dst)",
    # gathers and scatters of losses and embeddings
    "pick": "(a, idx): a (N, C), idx (N,) -> a[n, idx[n]]", "pick_backward": "(shape, idx, g): adjoint of pick",
    "take_rows": "(w, idx): w[idx] rows", "index_add_rows": "(shape, idx, g, skip_row=None): adjoint of take_rows",
    # autograd's in-place check
    "may_share_memory": "(a, b) -> bool: whether a and b may overlap (views included)",
}


def missing(backend) -> list:
    """Names of INTERFACE that `backend` (a module) does not provide as callables."""
    return sorted(n for n in INTERFACE if not callable(getattr(backend, n, None)))
