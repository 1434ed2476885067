"""gradcheck: analytic gradients against central finite differences in float64."""
import numpy as np

from tinygrad_seq.autograd import no_grad
from tinygrad_seq.tensor import Tensor


class GradcheckError(RuntimeError, AssertionError):
    """torch's GradcheckError is a RuntimeError; an AssertionError too, as this one was."""


def _as_tuple(x):
    return x if isinstance(x, (tuple, list)) else (x,)


def _flat_outputs(fn, inputs):
    outs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.dtype.kind == "f"]
    if not outs:
        raise GradcheckError("gradcheck: fn returned no floating-point tensor")
    return outs


_TORCH_OPTIONS = {"nondet_tol", "check_undefined_grad", "check_grad_dtypes", "check_batched_grad",
                  "check_batched_forward_grad", "check_forward_ad", "check_backward_ad", "fast_mode", "masked"}


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, n_projections=None, seed=0, raise_exception=True,
              **torch_options):
    """torch's signature (its other options, nondet_tol, check_undefined_grad, ..., are accepted:
    one method here); raise_exception=False returns False instead of raising. The inputs' .grad
    are as they were before."""
    unknown = set(torch_options) - _TORCH_OPTIONS
    if unknown:
        raise TypeError(f"gradcheck() got unexpected keyword arguments {sorted(unknown)}")
    try:
        return _gradcheck(fn, inputs, eps, atol, rtol, n_projections, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(fn, inputs, eps, atol, rtol, n_projections, seed):
    """Check d fn(*inputs) / d inputs for every input that requires grad.

    fn returns a Tensor (or a tuple of them). Each output o is contracted with a fixed random
    weight v (a vector-Jacobian product, so every output element takes part); the analytic
    gradient of sum(v * o) is compared with the central difference
    (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every element i of every input.
    n_projections random v are tried (default 2). Inputs must be float64.
    Returns True, or raises GradcheckError naming the input, the element and both values.
    """
    inputs = _as_tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise GradcheckError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise GradcheckError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64")
    rng = np.random.default_rng(seed)
    kept = {i: inputs[i].grad for i in checked}   # put back at the end, as torch leaves .grad alone
    try:
        return _check_projections(fn, inputs, checked, eps, atol, rtol, n_projections, rng)
    finally:
        for i, g in kept.items():
            inputs[i].grad = g


def _check_projections(fn, inputs, checked, eps, atol, rtol, n_projections, rng):
    with no_grad():
        shapes = [o.shape for o in _flat_outputs(fn, inputs)]
    for _ in range(n_projections or 2):
        vs = [rng.standard_normal(s) for s in shapes]

        def scalar():
            outs = _flat_outputs(fn, inputs)
            total = None
            for o, v in zip(outs, vs):
                term = (o * Tensor(v, device=o.device)).sum()
                total = term if total is None else total + term
            return total

        for i in checked:
            inputs[i].grad = None
        scalar().backward()
        for i in checked:
            t = inputs[i]
            analytic = np.zeros(t.shape) if t.grad is None else t.grad.numpy().astype(np.float64)
            host = t.numpy()  # perturb in place (device tensors: on a host copy, then copy back)
            numeric = np.zeros(t.shape)
            with no_grad():
                for j in np.ndindex(*t.shape):
                    orig = host[j]
                    host[j] = orig + eps
                    _sync(t, host)
                    fp = scalar().item()
                    host[j] = orig - eps
                    _sync(t, host)
                    fm = scalar().item()
                    host[j] = orig
                    _sync(t, host)
                    numeric[j] = (fp - fm) / (2 * eps)
            bad = ~np.isclose(analytic, numeric, atol=atol, rtol=rtol)
            if bad.any():
                j = tuple(int(k) for k in np.argwhere(bad)[0])
                raise GradcheckError(f"gradcheck: input {i} element {j}: analytic {analytic[j]:.10g} "
                                     f"vs numeric {numeric[j]:.10g} (max abs diff "
                                     f"{np.abs(analytic - numeric).max():.3g})")
        for i in checked:
            inputs[i].grad = None
    return True


def _sync(t, host):
    if t.device != "cpu":
        from tinygrad_seq import device
        t.array = device.backend(t.device).asarray(host)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0,
                  raise_exception=True, **torch_options):
    """Second derivatives against finite differences of the first, as torch's gradgradcheck:
    gradcheck of (inputs, grad_outputs) -> autograd.grad(func(*inputs), inputs, grad_outputs,
    create_graph=True). grad_outputs default to random float64 tensors requiring grad (torch
    draws them from make_tensor; any values serve); given ones take part as given. torch's other
    options (gen_non_contig_grad_outputs, check_rev_over_rev, ...) are accepted."""
    unknown = set(torch_options) - _TORCH_OPTIONS - {"gen_non_contig_grad_outputs", "check_fwd_over_rev",
                                                      "check_rev_over_rev"}
    if unknown:
        raise TypeError(f"gradgradcheck() got unexpected keyword arguments {sorted(unknown)}")
    from tinygrad_seq.autograd import enable_grad
    from tinygrad_seq.autograd_api import grad
    inputs = tuple(_as_tuple(inputs))
    differentiable = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if grad_outputs is None:
        with no_grad():
            shapes = [o.shape for o in _flat_outputs(func, inputs)]
        rng = np.random.default_rng(seed + 1)
        grad_outputs = tuple(Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    grad_outputs = tuple(_as_tuple(grad_outputs))
    n_inputs = len(inputs)

    def first_derivatives(*args):
        with enable_grad():   # gradcheck runs its finite differences under no_grad
            outs = _flat_outputs(func, args[:n_inputs])
            grads = grad(outs, [args[i] for i in differentiable], list(args[n_inputs:]), create_graph=True,
                         allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, seed=seed,
                     raise_exception=raise_exception)
