"""The array-backend interface (backend_api.INTERFACE) is implemented by backend_cpu and
backend_cuda, and both agree on the semantics the engine relies on."""
import numpy as np
import pytest

from tinygrad_seq import backend_api, backend_cpu


def test_cpu_backend_implements_the_interface():
    assert backend_api.missing(backend_cpu) == []


def test_every_backend_name_the_engine_calls_is_in_the_interface():
    import pathlib
    import re
    src = "".join(p.read_text() for p in pathlib.Path(backend_cpu.__file__).parent.glob("*.py")
                  if p.name not in ("backend_cpu.py", "backend_cuda.py", "backend_api.py"))
    used = set(re.findall(r"(?:ctx\.b|\bB)\.([a-z_]+)\(", src))
    assert used - set(backend_api.INTERFACE) == set()


def test_cpu_getitem_of_one_element_is_a_view():
    a = np.arange(6.0).reshape(2, 3)
    v = backend_cpu.getitem(a, (1, 2))
    assert v.shape == () and np.shares_memory(v, a)


@pytest.mark.cuda
def test_cuda_backend_implements_the_interface_and_matches_cpu():
    from tinygrad_seq import device
    if not device.cuda_available():
        pytest.skip("no CUDA GPU and NUMBA_ENABLE_CUDASIM is not set")
    from tinygrad_seq import backend_cuda as C
    assert backend_api.missing(C) == []
    a = np.arange(12.0).reshape(3, 4)
    d = C.asarray(a)
    assert C.may_share_memory(d, d[1:]) and not C.may_share_memory(d, C.copy(d))
    assert not C.may_share_memory(d[:1], d[2:])
    idx = np.array([[0, 2, 1, 0]])
    for name, args in (("cumsum", (a, 1)), ("argsort", (-a, 0)), ("gather", (a, 0, idx)), ("sin", (a,)),
                       ("remainder", (a, 5.0)), ("logical_and", (a > 2, a < 9))):
        got = C.to_host(getattr(C, name)(*[C.asarray(x) if isinstance(x, np.ndarray) else x for x in args]))
        np.testing.assert_allclose(got, getattr(backend_cpu, name)(*args))
    out = C.zeros((3, 4), np.float64)
    C.scatter_add(out, 0, C.asarray(idx), C.asarray(np.ones((1, 4))))
    np.testing.assert_allclose(C.to_host(out), backend_cpu.scatter_add(np.zeros((3, 4)), 0, idx, np.ones((1, 4))))


@pytest.mark.cuda
def test_cuda_inplace_check_and_views():
    import tinygrad_seq as ts
    if not ts.cuda.is_available():
        pytest.skip("no CUDA GPU and NUMBA_ENABLE_CUDASIM is not set")
    x = ts.tensor([1.0, 2.0, 3.0], device="cuda", requires_grad=True)
    y = x * 2
    z = y * y           # saves y
    y[1:].mul_(3.0)     # writes a view of y: autograd must notice on "cuda" too
    with pytest.raises(RuntimeError, match="inplace"):
        z.sum().backward()
    t = ts.zeros(2, 3, device="cuda")
    t[1, 2] += 1
    t[0].fill_(4.0)
    row = t[1]
    row.add_(1.0)
    np.testing.assert_allclose(t.numpy(), [[4, 4, 4], [1, 1, 2]])
    assert (t > 1).dtype == np.bool_ and (t == 4).numpy().sum() == 3 and ((t > 1) & (t < 3)).numpy().sum() == 1
    buf = ts.zeros(3, 2, device="cuda")
    w = ts.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    for i in range(3):
        buf[i] = w * (i + 1)
    (buf * buf).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * 14 * np.array([1.0, 2.0]))
