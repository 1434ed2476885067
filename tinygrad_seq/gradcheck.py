"""gradcheck and gradgradcheck: analytic gradients against central finite differences, with
torch 2.13's checks (a warning for inputs that are not float64, the numerical Jacobian of a
function without differentiable outputs must be zero, backward must be reentrant)."""
import warnings

import numpy as np

from tinygrad_seq.autograd import enable_grad, no_grad
from tinygrad_seq.tensor import Tensor


class GradcheckError(RuntimeError, AssertionError):
    """torch's GradcheckError is a RuntimeError; an AssertionError too, as this one was."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _tensor_outputs(fn, inputs):
    """fn's Tensor outputs, in order (non-Tensor outputs are skipped)."""
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


_TORCH_OPTIONS = {"check_undefined_grad", "check_grad_dtypes", "check_batched_grad",
                  "check_batched_forward_grad", "check_forward_ad", "check_backward_ad", "fast_mode", "masked"}

_NONDET_NOTE = ("\n\nNOTE: If your op relies on non-deterministic operations this failure might be expected; "
                "then call gradcheck/gradgradcheck with `nondet_tol=<tol>` as a keyword argument.")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, n_projections=None, seed=0, raise_exception=True,
              nondet_tol=0.0, **torch_options):
    """torch's signature (its other options, check_undefined_grad, ..., are accepted: one method
    here); raise_exception=False returns False instead of raising a GradcheckError. Inputs'
    .grad are left alone (gradients are taken with autograd.grad)."""
    unknown = set(torch_options) - _TORCH_OPTIONS
    if unknown:
        raise TypeError(f"gradcheck() got unexpected keyword arguments {sorted(unknown)}")
    try:
        return _gradcheck(fn, inputs, eps, atol, rtol, n_projections, seed, nondet_tol)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _checked_inputs(inputs):
    """Indices of the inputs that require grad (torch's _check_inputs: at least one; a warning
    for each that is not double precision, as finite differences in it are coarse)."""
    checked = []
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad:
            if t.dtype not in (np.float64, np.complex128):
                warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or "
                              f"complex. This check will likely fail if all the inputs are not of double "
                              f"precision floating point or complex. ", UserWarning, stacklevel=4)
            checked.append(i)
    if not checked:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them "
                         "have requires_grad=True.")
    return checked


def _gradcheck(fn, inputs, eps, atol, rtol, n_projections, seed, nondet_tol):
    """Check d fn(*inputs) / d inputs for every input that requires grad.

    The differentiable outputs (those requiring grad) are contracted with a fixed random weight
    v each (a vector-Jacobian product, so every output element takes part); the analytic
    gradient of sum(v * o), taken twice (both must agree within nondet_tol), is compared with
    the central difference (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every element i of
    every input. n_projections random v are tried (default 2). Without differentiable outputs
    the numerical Jacobian of every output must be zero. Returns True or raises GradcheckError.
    """
    inputs = _as_tuple(inputs)
    checked = _checked_inputs(inputs)
    differentiable = [k for k, o in enumerate(_tensor_outputs(fn, inputs)) if o.requires_grad]
    if not differentiable:
        return _check_numerical_jacobian_zero(fn, inputs, checked, eps)
    rng = np.random.default_rng(seed)
    for _ in range(n_projections or 2):
        _check_projection(fn, inputs, checked, differentiable, eps, atol, rtol, nondet_tol, rng)
    return True


def _numerical_gradients(fn_value, t, eps):
    """Central differences of fn_value() (a float64 array) over every element of t: a list of
    (element index, (f(t + eps e_j) - f(t - eps e_j)) / (2 eps)). t is perturbed in place and
    put back (device tensors: on a host copy, copied back)."""
    host = t.numpy()
    out = []
    with no_grad():
        for j in np.ndindex(*t.shape):
            orig = host[j]
            host[j] = orig + eps
            _sync(t, host)
            fp = fn_value()
            host[j] = orig - eps
            _sync(t, host)
            fm = fn_value()
            host[j] = orig
            _sync(t, host)
            out.append((j, (fp - fm) / (2 * eps)))
    return out


def _check_numerical_jacobian_zero(fn, inputs, checked, eps):
    """No output requires grad: fn must then be constant in every checked input (torch's
    _check_no_differentiable_outputs)."""
    def values():   # every output's elements in one float64 vector (empty without outputs)
        return np.concatenate([np.zeros(0)] + [o.detach().numpy().astype(np.float64).reshape(-1)
                                               for o in _tensor_outputs(fn, inputs)])
    for i in checked:
        for _, column in _numerical_gradients(values, inputs[i], eps):
            if np.any(column != 0):
                raise GradcheckError("Numerical gradient for function expected to be zero")
    return True


def _check_projection(fn, inputs, checked, differentiable, eps, atol, rtol, nondet_tol, rng):
    """One random projection v: analytic v^T J (twice, for reentrancy) against central differences."""
    from tinygrad_seq.autograd_api import grad
    with enable_grad():
        outs = _tensor_outputs(fn, inputs)
    vs = {k: rng.standard_normal(outs[k].shape) for k in differentiable}

    def projected(outs_):
        total = None
        for k, v in vs.items():
            term = (outs_[k] * Tensor(v, device=outs_[k].device)).sum()
            total = term if total is None else total + term
        return total

    total = projected(outs)
    targets = [inputs[i] for i in checked]
    # the same backward twice (torch's reentrancy check): both must agree within nondet_tol
    first = [_as_numpy(g, t) for g, t in zip(grad(total, targets, retain_graph=True, allow_unused=True), targets)]
    second = [_as_numpy(g, t) for g, t in zip(grad(total, targets, allow_unused=True), targets)]
    for a1, a2 in zip(first, second):
        if a1.size and np.abs(a1 - a2).max() > nondet_tol:
            raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and "
                                 "grad_output multiple times gives different values, although analytical gradient "
                                 f"matches numerical gradient.The tolerance for nondeterminism was {nondet_tol}."
                                 + _NONDET_NOTE)
    for i, analytic in zip(checked, first):
        numeric = np.zeros(analytic.shape)
        for j, value in _numerical_gradients(lambda: projected(_tensor_outputs(fn, inputs)).item(), inputs[i], eps):
            numeric[j] = value
        bad = ~np.isclose(analytic, numeric, atol=atol, rtol=rtol)
        if bad.any():
            j = tuple(int(k) for k in np.argwhere(bad)[0])
            raise GradcheckError(f"gradcheck: input {i} element {j}: analytic {analytic[j]:.10g} "
                                 f"vs numeric {numeric[j]:.10g} (max abs diff "
                                 f"{np.abs(analytic - numeric).max():.3g})")


def _as_numpy(g, t):
    """A gradient as a float64 array of t's shape (an unreached input's: zeros)."""
    return np.zeros(t.shape) if g is None else g.detach().numpy().astype(np.float64)


def _sync(t, host):
    if t.device != "cpu":
        from tinygrad_seq import device
        t.array = device.backend(t.device).asarray(host)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0,
                  raise_exception=True, nondet_tol=0.0, **torch_options):
    """Second derivatives against finite differences of the first, as torch's gradgradcheck:
    gradcheck of (inputs, grad_outputs) -> autograd.grad(func's differentiable outputs, inputs,
    grad_outputs, create_graph=True). grad_outputs default to random float64 tensors requiring
    grad, one per differentiable output, drawn as torch's (testing.make_tensor in [-1, 1));
    given ones take part as given. torch's other options (gen_non_contig_grad_outputs,
    check_rev_over_rev, ...) are accepted."""
    unknown = set(torch_options) - _TORCH_OPTIONS - {"gen_non_contig_grad_outputs", "check_fwd_over_rev",
                                                      "check_rev_over_rev"}
    if unknown:
        raise TypeError(f"gradgradcheck() got unexpected keyword arguments {sorted(unknown)}")
    from tinygrad_seq.autograd_api import grad
    inputs = _as_tuple(inputs)
    differentiable = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if grad_outputs is None:
        from tinygrad_seq.testing_make_tensor import make_tensor
        with enable_grad():
            outs = [o for o in _tensor_outputs(func, inputs) if o.requires_grad]
        # torch's: make_tensor in [-1, 1) from the global stream (a later draw is torch's too)
        grad_outputs = tuple(make_tensor(o.shape, dtype=o.dtype if o.dtype.kind == "f" else np.float64,
                                         device=o.device, low=-1, high=1, requires_grad=True,
                                         noncontiguous=torch_options.get("gen_non_contig_grad_outputs", False))
                             for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_inputs = len(inputs)

    def first_derivatives(*args):
        with enable_grad():   # gradcheck runs its finite differences under no_grad
            outs = [o for o in _tensor_outputs(func, args[:n_inputs]) if o.requires_grad]
            if not outs:   # nothing to differentiate: no first derivatives (torch's grad would raise)
                return ()
            grads = grad(outs, [args[i] for i in differentiable], list(args[n_inputs:]), create_graph=True,
                         allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, seed=seed,
                     raise_exception=raise_exception, nondet_tol=nondet_tol)
