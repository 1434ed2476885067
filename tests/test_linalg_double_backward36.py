"""Second derivatives (create_graph=True, torch.func.hessian / jvp, gradgradcheck) through the
linear-algebra ops and a few others (unfold, logcumsumexp, erfcx) against torch 2.13, float64:
each op's graph backward (linalg_graph_backward.py and recompose.DIRECT) differentiated again."""
import zlib

import numpy as np
import pytest
import torch
import torch.func

import tinygrad_seq as ts
import tinygrad_seq.func

RNG = np.random.default_rng(36)


def _square(*batch, n=3):
    """Well-conditioned [..., n, n]: a random matrix plus n on the diagonal."""
    return RNG.standard_normal(batch + (n, n)) + n * np.eye(n)


def _spd(lib, x):
    """x x^T + n I: positive definite, with a gradient to every entry of x."""
    return x @ x.mT + x.shape[-1] * lib.eye(x.shape[-1], dtype=x.dtype)


def _sym(lib, x):
    return x + x.mT


# name -> (fn(lib, *inputs) -> a tensor or a tuple of tensors, inputs as numpy arrays)
CASES = {
    "solve": (lambda lib, a, b: lib.linalg.solve(a, b), (_square(), RNG.standard_normal(3))),
    "solve_matrix_batched": (lambda lib, a, b: lib.linalg.solve(a, b), (_square(2), RNG.standard_normal((2, 3, 2)))),
    "solve_right": (lambda lib, a, b: lib.linalg.solve(a, b, left=False), (_square(2), RNG.standard_normal((2, 4, 3)))),
    "solve_triangular": (lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True),
                         (_square(2), RNG.standard_normal((2, 3, 2)))),
    "inv": (lambda lib, a: lib.linalg.inv(a), (_square(2),)),
    "inverse": (lambda lib, a: lib.inverse(a), (_square(),)),
    "det": (lambda lib, a: lib.linalg.det(a), (_square(2),)),
    # singular: the cofactor matrix from the SVD, differentiated again (torch's singular case)
    "det_singular": (lambda lib, a: lib.linalg.det(a),
                     (np.array([[[1.0, 2.0, 3.0], [2.0, 4.0, 6.5], [0.5, 1.0, 1.5]],
                                [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, 1.0, 1.7]]]),)),
    "slogdet": (lambda lib, a: lib.linalg.slogdet(a)[1], (_square(2),)),
    "logdet": (lambda lib, a: lib.logdet(_spd(lib, a)), (_square(),)),
    "cholesky": (lambda lib, a: lib.linalg.cholesky(_spd(lib, a)), (_square(2),)),
    "cholesky_upper": (lambda lib, a: lib.linalg.cholesky(_spd(lib, a), upper=True), (_square(),)),
    "cholesky_solve": (lambda lib, b, a: lib.cholesky_solve(b, lib.linalg.cholesky(_spd(lib, a))),
                       (RNG.standard_normal((2, 3, 2)), _square(2))),
    "cholesky_solve_upper": (lambda lib, b, a: lib.cholesky_solve(b, _spd(lib, a).triu(), upper=True),
                             (RNG.standard_normal((3, 2)), _square())),
    "cholesky_inverse": (lambda lib, a: lib.cholesky_inverse(lib.linalg.cholesky(_spd(lib, a))), (_square(2),)),
    "cholesky_inverse_upper": (lambda lib, a: lib.cholesky_inverse(_spd(lib, a).triu(), upper=True), (_square(),)),
    "eigh": (lambda lib, a: tuple(t * t if k else t for k, t in enumerate(lib.linalg.eigh(_sym(lib, a)))),
             (_square(2),)),
    "eigvalsh": (lambda lib, a: lib.linalg.eigvalsh(_sym(lib, a)), (_square(2),)),
    "svdvals": (lambda lib, a: lib.linalg.svdvals(a), (RNG.standard_normal((2, 4, 3)),)),
    "svd": (lambda lib, a: (lambda u, s, vh: (u * u, s, vh * vh))(*lib.linalg.svd(a, full_matrices=False)),
            (RNG.standard_normal((3, 4)),)),
    "svd_product": (lambda lib, a: (lambda u, s, vh: u @ vh)(*lib.linalg.svd(a, full_matrices=False)),
                    (RNG.standard_normal((2, 3, 5)),)),
    "nuclear_norm": (lambda lib, a: lib.linalg.matrix_norm(a, "nuc"), (RNG.standard_normal((2, 3, 4)),)),
    "pinv_tall": (lambda lib, a: lib.linalg.pinv(a), (RNG.standard_normal((2, 4, 3)),)),
    "pinv_wide": (lambda lib, a: lib.linalg.pinv(a), (RNG.standard_normal((3, 5)),)),
    "lstsq": (lambda lib, a, b: lib.linalg.lstsq(a, b).solution, (RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2)))),
    "qr_tall": (lambda lib, a: tuple(lib.linalg.qr(a)), (RNG.standard_normal((2, 4, 3)),)),
    "qr_wide": (lambda lib, a: tuple(lib.linalg.qr(a)), (RNG.standard_normal((3, 5)),)),
    "qr_r_of_reduced": (lambda lib, a: lib.linalg.qr(a)[1], (RNG.standard_normal((4, 4)),)),
    "unfold": (lambda lib, x: lib.nn.functional.unfold(x, kernel_size=2, padding=1, stride=(1, 2)) ** 2,
               (RNG.standard_normal((2, 2, 4, 5)),)),
    "unfold_unbatched": (lambda lib, x: lib.nn.functional.unfold(x, kernel_size=(2, 3), dilation=2) ** 3,
                         (RNG.standard_normal((2, 5, 6)),)),
    "fold": (lambda lib, x: lib.nn.functional.fold(x, (4, 5), kernel_size=2, padding=1) ** 2,
             (RNG.standard_normal((2, 8, 30)),)),
    "logcumsumexp": (lambda lib, x: lib.logcumsumexp(x, 1), (RNG.standard_normal((3, 5)),)),
    "logcumsumexp_dim0": (lambda lib, x: lib.logcumsumexp(x * x, 0), (RNG.standard_normal((4, 2, 3)),)),
    "erfcx": (lambda lib, x: lib.special.erfcx(x), (RNG.uniform(-2, 3, (2, 4)),)),
    "ndtr": (lambda lib, x: lib.special.ndtr(x), (RNG.uniform(-2, 3, 5),)),
    "log_ndtr": (lambda lib, x: lib.special.log_ndtr(x), (RNG.uniform(-2, 3, 5),)),
    "ndtri": (lambda lib, x: lib.special.ndtri(x), (RNG.uniform(0.1, 0.9, 5),)),
    "entr": (lambda lib, x: lib.special.entr(x), (RNG.uniform(0.1, 3, 5),)),
}

_W = {}


def _weights(shape, key):
    """Fixed random weights per (case, output) so that the scalar objective is not symmetric."""
    if key not in _W:
        _W[key] = np.random.default_rng(zlib.crc32(repr(key).encode())).standard_normal(shape)
    return _W[key]


def _objective(lib, name):
    fn, _ = CASES[name]

    def f(*xs):
        out = fn(lib, *xs)
        out = out if isinstance(out, tuple) else (out,)
        total = 0.0
        for k, o in enumerate(out):
            total = total + (o * lib.tensor(_weights(tuple(o.shape), (name, k)))).sum()
        return total
    return f


def _np(t):
    return None if t is None else t.detach().numpy()


def _grad_twice(lib, name):
    _, inputs = CASES[name]
    xs = [lib.tensor(x, requires_grad=True) for x in inputs]
    gs = lib.autograd.grad(_objective(lib, name)(*xs), xs, create_graph=True)
    second = sum((g * lib.tensor(_weights(tuple(g.shape), (name, "v", k)))).sum() for k, g in enumerate(gs))
    ggs = lib.autograd.grad(second, xs, allow_unused=True)
    return [_np(g) for g in gs] + [_np(g) for g in ggs]


@pytest.mark.parametrize("name", list(CASES))
def test_grad_of_grad(name):
    for want, got in zip(_grad_twice(torch, name), _grad_twice(ts, name)):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


# torch's forward-mode derivative of cholesky_inverse misses finite differences (0.013269 where
# they and torch's reverse-over-reverse give 0.013170): the reference there is reverse mode twice
REVERSE_REFERENCE = {"cholesky_inverse", "cholesky_inverse_upper"}


@pytest.mark.parametrize("name", list(CASES))
def test_hessian(name):
    _, inputs = CASES[name]
    hessian = torch.autograd.functional.hessian if name in REVERSE_REFERENCE else torch.func.hessian
    want = hessian(_objective(torch, name))(*[torch.tensor(x) for x in inputs]) if hessian is torch.func.hessian \
        else hessian(_objective(torch, name), tuple(torch.tensor(x) for x in inputs))[0][0]
    got = ts.func.hessian(_objective(ts, name))(*[ts.tensor(x) for x in inputs])
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-7, atol=1e-9)


# torch's forward-mode derivative of det is 0 at an exactly singular matrix; ours, from two
# reverse passes, is the cofactor's (tr(adj(A) V), as gradcheck's finite differences)
@pytest.mark.parametrize("name", [name for name in CASES if name != "det_singular"])
def test_jvp(name):
    fn, inputs = CASES[name]
    tangents = [np.random.default_rng(k).standard_normal(x.shape) for k, x in enumerate(inputs)]

    def run(lib):
        first = lambda *xs: (lambda o: o[0] if isinstance(o, tuple) else o)(fn(lib, *xs))
        return lib.func.jvp(first, tuple(lib.tensor(x) for x in inputs), tuple(lib.tensor(t) for t in tangents))
    want_y, want_t = run(torch) if name not in REVERSE_REFERENCE else torch.autograd.functional.jvp(
        lambda *xs: fn(torch, *xs), tuple(torch.tensor(x) for x in inputs), tuple(torch.tensor(t) for t in tangents))
    got_y, got_t = run(ts)
    np.testing.assert_allclose(got_y.numpy(), want_y.numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got_t.numpy(), want_t.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["solve", "inv", "det", "slogdet", "cholesky", "eigvalsh", "svdvals",
                                  "pinv_wide", "qr_tall", "qr_wide", "unfold", "fold", "logcumsumexp", "erfcx"])
def test_gradgradcheck(name):
    fn, inputs = CASES[name]
    xs = tuple(ts.tensor(x, requires_grad=True) for x in inputs)
    assert ts.autograd.gradgradcheck(lambda *a: fn(ts, *a), xs)


def test_ctc_loss_double_backward_raises_as_torch():
    # torch has no derivative of _ctc_loss_backward: the second backward raises in both
    lp0 = np.log(np.random.default_rng(0).dirichlet(np.ones(4), (5, 2)))

    def second(lib):
        lp = lib.tensor(lp0, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(lp, lib.tensor([[1, 2], [3, 1]]), [5, 5], [2, 2])
        g, = lib.autograd.grad(loss, lp, create_graph=True)
        lib.autograd.grad((g * g).sum(), lp)
    for lib in (torch, ts):
        with pytest.raises(RuntimeError):
            second(lib)
