"""Adam / AdamW and SGD steps as one compiled pass per parameter (kernels/optim_cpu.py), where
the parameter, its gradient and its state are C-contiguous float32 or float64 numpy arrays of one
dtype and shape: the rules (adam.py, sgd.py) call these first and keep their backend composition
(other devices and dtypes, views, a graph's arrays) when they return False.

The kernels round as torch's single-tensor CPU step does (same operations, same fused
multiply-adds; see kernels/optim_cpu.py), so a step here and numpy's composition may differ in
the last bit of an element, each within an ulp or so of torch's. Parameters of at least
tuning.OPTIM_SPLIT_MIN_ELEMENTS elements split over the kernels' threads by default (by
measurement in tuning mode auto: kernels/split_cpu.py); below
tuning.OPTIM_FUSED_MIN_ELEMENTS (plain SGD, p -= lr g: OPTIM_PLAIN_SGD_MIN_ELEMENTS) the
composition runs (TINYGRAD_SEQ_TUNE_<NAME> forces any of them).
The kernels module loads (with Numba) on the first fused step, not at import."""
import numbers

import numpy as np

_kernels = None   # (optim_cpu, blas_cpu, tuning, announce, split_cpu), loaded on first use


def _load():
    global _kernels
    if _kernels is None:
        from tinygrad_seq.kernels import blas_cpu, optim_cpu, split_cpu, tuning
        from tinygrad_seq.kernels.compile_notice import announce
        _kernels = (optim_cpu, blas_cpu, tuning, announce, split_cpu)
    return _kernels


def _arrays_fit(p, arrays):
    """Whether p is a writable C-contiguous float32 / float64 numpy array of at least
    tuning.OPTIM_FUSED_MIN_ELEMENTS elements, and every array of `arrays` a C-contiguous numpy
    array of its dtype and shape."""
    if type(p) is not np.ndarray or p.dtype.char not in "fd":
        return False
    flags = p.flags
    if not (flags.c_contiguous and flags.writeable) or p.size < _load()[2].setting("OPTIM_FUSED_MIN_ELEMENTS"):
        return False
    return all(type(a) is np.ndarray and a.dtype == p.dtype and a.shape == p.shape and a.flags.c_contiguous
               for a in arrays)


def _numbers(*values):
    """Whether every value is a plain real number (not a Tensor, nor a bool)."""
    return all(type(v) is float or type(v) is int or (isinstance(v, numbers.Real) and not isinstance(v, bool))
               for v in values)


def _run(kernel, n, args_before, args_after, what, dtype):
    """kernel(*args_before, lo, hi, *args_after) over [0, n), split over the kernels' threads where
    that pays on this machine (split_cpu "optim", measured on copies of the arrays; rule: from
    tuning.OPTIM_SPLIT_MIN_ELEMENTS elements)."""
    optim_cpu, blas_cpu, tuning, announce, split_cpu = _kernels
    announce(what, dtype, (kernel,))

    def split(arrays):
        # a work estimate at the parallel threshold: kernel_threads splits it (unless another
        # thread runs a parallel kernel, which leaves this one chunk)
        with blas_cpu.kernel_threads(1, n, max(n, tuning.setting("PARALLEL_MIN_MACS"))) as n_chunks:
            blas_cpu.run_chunks(lambda c: kernel(*arrays, *blas_cpu.chunk_bounds(c, n_chunks, n), *args_after),
                                n_chunks)

    copies = []   # the step changes its arrays: measured on copies, made once

    def on_copies(run):
        def measured():
            if not copies:
                copies.extend(a.copy() for a in args_before)
            run(copies)
        return measured

    if split_cpu.splits("optim", kernel.__name__, n, dtype, on_copies(lambda a: kernel(*a, 0, n, *args_after)),
                        on_copies(split)):
        split(args_before)
    else:
        kernel(*args_before, 0, n, *args_after)


def adam_step(p, g, m, v, vmax, step, group):
    """One Adam / AdamW step (the group's lr, betas, eps, weight_decay, amsgrad,
    decoupled_weight_decay) on the arrays p (in place), g, m (exp_avg), v (exp_avg_sq) and vmax
    (max_exp_avg_sq, or None without amsgrad), at step count `step` (already counted). False,
    with nothing changed, where the arrays or options do not fit the kernel."""
    lr, (beta1, beta2), eps, wd = group["lr"], group["betas"][:2], group["eps"], group["weight_decay"]
    amsgrad = bool(group["amsgrad"])
    if not (_numbers(lr, beta1, beta2, eps, wd) and _arrays_fit(p, (g, m, v, vmax) if amsgrad else (g, m, v))):
        return False
    decoupled = wd != 0 and bool(group.get("decoupled_weight_decay", False))
    # the scalars as torch's step computes them in Python floats (the kernel rounds them to p's
    # dtype, as torch's ops take their Scalar arguments)
    _run(_kernels[0].adam_update, p.size,
         (p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), (vmax if amsgrad else p).reshape(-1)),
         (float(wd), float(1 - lr * wd), float(1 - beta1), float(beta2), float(1 - beta2),
          float((1 - beta2 ** step) ** 0.5), float(eps), float(-(lr / (1 - beta1 ** step))),
          wd != 0 and not decoupled, decoupled, amsgrad),
         "the Adam CPU kernels", p.dtype)
    return True


def sgd_step(p, g, buf, group):
    """One SGD step (the group's lr, momentum, dampening, weight_decay, nesterov) on the arrays p
    (in place) and g, with the momentum buffer buf (None on the first step: a new array is
    made). Returns (True, the buffer or None without momentum), or (False, None) with nothing
    changed where the arrays or options do not fit the kernel."""
    lr, momentum, dampening, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
    moves = momentum != 0
    if not (moves or wd != 0) and type(p) is np.ndarray and p.size < _load()[2].setting("OPTIM_PLAIN_SGD_MIN_ELEMENTS"):
        return False, None   # p -= lr g: numpy's two passes cost less than this call's set-up on small p
    if not (_numbers(lr, momentum, dampening, wd)
            and _arrays_fit(p, (g, buf) if moves and buf is not None else (g,))):
        return False, None
    first = moves and buf is None
    if first:
        buf = np.empty_like(p)
    _run(_kernels[0].sgd_update, p.size, (p.reshape(-1), g.reshape(-1), (buf if moves else p).reshape(-1)),
         (float(wd), float(momentum), float(1 - dampening), float(-lr), wd != 0, moves, first, bool(group["nesterov"])),
         "the SGD CPU kernels", p.dtype)
    return True, (buf if moves else None)
