"""ts.save / ts.load and ts.utils.checkpoint against PyTorch's own test/test_serialization.py and
test_utils.py (TestCheckpoint): views saved together share memory after loading, several saves
in one stream, Python attributes, integer Parameters, torch's error classes, the reentrant
checkpoint's refusals. Each case runs the same code on torch and on tinygrad_seq."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq.utils import checkpoint as ts_ck

torch = pytest.importorskip("torch")

V1_FIXTURE = os.path.join(os.path.dirname(__file__), "data", "serialization_v1.ckpt")   # written by format 1


def _round_trip(T, obj, **kw):
    b = io.BytesIO()
    T.save(obj, b)
    b.seek(0)
    return T.load(b, **kw)


# ---------------------------------------------------------------- views share memory after load
@pytest.mark.parametrize("make", [
    lambda T, x: [x, x[2:5]],                       # a slice of a saved tensor
    lambda T, x: (x, x.view(2, 5)),                 # a reshaped view
])
def test_views_saved_together_share_memory_after_load(make):
    def run(T):
        x = T.arange(10.)
        a, b = _round_trip(T, make(T, x))
        b.fill_(100.)
        return a.tolist()
    assert run(ts) == run(torch)


def test_parameter_and_its_data_share_memory_after_load():
    def run(T):
        p = T.nn.Parameter(T.zeros(3))
        a, b = _round_trip(T, [p, p.data])
        b.fill_(1.)
        return a.tolist()
    assert run(ts) == run(torch) == [1.0, 1.0, 1.0]


def test_expanded_tensor_keeps_its_zero_stride_after_load():
    def run(T):
        y = _round_trip(T, T.ones(1, 3).expand(4, 3))
        return tuple(y.stride())
    assert run(ts) == run(torch) == (0, 1)


@pytest.mark.parametrize("make", [lambda x: x[:, ::2], lambda x: x.t(), lambda x: x[1], lambda x: x[1:, 2:]])
def test_strided_views_keep_strides_values_and_sharing(make):
    def run(T):
        x = T.arange(12.).reshape(3, 4)
        a, v = _round_trip(T, [x, make(x)])
        values, stride = v.tolist(), tuple(v.stride())
        v.fill_(-1.)
        return values, stride, a.tolist()
    assert run(ts) == run(torch)


def test_negative_stride_view_round_trips():
    x = ts.arange(12.).reshape(3, 4)
    v = x.transpose(0, 1)[::-1]   # numpy lets this view have a negative stride
    a, w = _round_trip(ts, [x, v])
    assert w.stride() == v.stride() and np.array_equal(w.numpy(), v.numpy())
    w.fill_(0.)
    assert a.sum().item() == 0.0


def test_a_small_view_of_a_large_tensor_saves_only_what_it_reaches():
    b = io.BytesIO()
    ts.save(ts.zeros(100_000)[10:20], b)
    assert len(b.getvalue()) < 4096
    b.seek(0)
    assert ts.load(b).tolist() == [0.0] * 10


def test_loaded_tensors_own_writable_memory_and_do_not_share_across_loads():
    x = ts.arange(4.)
    b = io.BytesIO()
    ts.save([x, x[1:]], b)
    first = ts.load(io.BytesIO(b.getvalue()))
    second = ts.load(io.BytesIO(b.getvalue()))
    first[1].fill_(9.)
    assert second[0].tolist() == [0.0, 1.0, 2.0, 3.0] and x.tolist() == [0.0, 1.0, 2.0, 3.0]


# ---------------------------------------------------------------- several saves in one stream
def test_first_of_two_saves_in_one_stream_loads_the_first_object():
    for T in (torch, ts):
        b = io.BytesIO()
        T.save(T.ones(2), b)
        T.save(T.zeros(3), b)
        b.seek(0)
        assert T.load(b).tolist() == [1.0, 1.0], T.__name__


def test_saves_in_one_stream_load_back_in_order():
    # torch's second load fails (it leaves the stream inside the first archive); here each
    # load leaves the stream after its archive, so the next load reads the next save
    b = io.BytesIO()
    b.write(b"header")
    for obj in (ts.ones(2), {"k": ts.zeros(3)}, [1, "two"]):
        ts.save(obj, b)
    b.seek(6)
    assert ts.load(b).tolist() == [1.0, 1.0]
    assert ts.load(b)["k"].tolist() == [0.0, 0.0, 0.0]
    assert ts.load(b) == [1, "two"]
    assert b.tell() == len(b.getvalue())
    with pytest.raises(EOFError, match="nothing follows position"):
        ts.load(b)


class _Pipe(io.RawIOBase):
    """A write-only stream that cannot seek: zipfile then writes data descriptors."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, chunk):
        self.data += chunk
        return len(chunk)


def test_saves_into_a_pipe_load_back_in_order():
    pipe = _Pipe()
    ts.save({"a": ts.arange(5.)}, pipe)
    ts.save([ts.ones(2, dtype=ts.int64)], pipe)
    b = io.BytesIO(bytes(pipe.data))
    assert ts.load(b)["a"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert ts.load(b)[0].tolist() == [1, 1]


# ---------------------------------------------------------------- python attributes on tensors
def test_python_attributes_on_a_tensor_survive_save_load():
    # torch's test_serialization_python_attr
    for T in (torch, ts):
        t = T.zeros(3, 3)
        t.foo = "foo"
        t.pi = 3.14
        y = _round_trip(T, t)
        assert getattr(y, "foo", None) == "foo", T.__name__
        assert getattr(y, "pi", None) == 3.14, T.__name__
        p = T.nn.Parameter(T.zeros(3, 3))
        p.foo = "foo"
        q = _round_trip(T, p)
        assert getattr(q, "foo", None) == "foo", T.__name__


def test_an_attribute_the_format_cannot_hold_is_left_out_with_a_warning():
    t = ts.ones(2)
    t.callback = lambda: 1
    t.notes = [1, "a", {"b": 2.5}]
    t.twin = t[:1]
    with pytest.warns(UserWarning, match="attribute 'callback' .* is not saved: .*function"):
        y = _round_trip(ts, t)
    assert not hasattr(y, "callback") and y.notes == [1, "a", {"b": 2.5}]
    y.twin.fill_(5.)   # a tensor attribute is saved as a view of the same memory
    assert y.tolist() == [5.0, 1.0]


# ---------------------------------------------------------------- integer Parameter
def test_integer_parameter_loads_as_parameter():
    for T in (torch, ts):
        p = T.nn.Parameter(T.ones(2, dtype=T.int64), requires_grad=False)
        y = _round_trip(T, {"p": p})["p"]
        assert isinstance(y, T.nn.Parameter), T.__name__
        assert y.requires_grad is False


# ---------------------------------------------------------------- same data as two dtypes
def test_saving_two_views_of_one_memory_as_different_dtypes_raises():
    for T in (torch, ts):
        a = T.randn(10)
        with pytest.raises(RuntimeError, match="view the same data as different types"):
            T.save([a, a.view(T.int32)], io.BytesIO())


def test_two_dtypes_refused_before_the_file_is_touched(tmp_path):
    path = tmp_path / "c.pt"
    ts.save({"old": ts.ones(1)}, path)
    a = ts.randn(4)
    with pytest.raises(RuntimeError, match="different types"):
        ts.save([a, a.view(ts.int32)], path)
    assert ts.load(path)["old"].tolist() == [1.0] and os.listdir(tmp_path) == ["c.pt"]


# ---------------------------------------------------------------- error classes
def _truncated(T):
    b = io.BytesIO()
    T.save(T.ones(100), b)
    data = b.getvalue()
    return io.BytesIO(data[: len(data) // 2])


def test_truncated_checkpoint_raises_runtime_error():
    with pytest.raises(RuntimeError):
        torch.load(_truncated(torch))
    with pytest.raises(RuntimeError, match="not a valid checkpoint") as info:
        ts.load(_truncated(ts))
    assert isinstance(info.value, ValueError)   # the library's earlier class, kept


def test_truncated_checkpoint_path_raises_runtime_error(tmp_path):
    for T in (torch, ts):
        p = tmp_path / f"{T.__name__}.pt"
        T.save(T.ones(100), p)
        p.write_bytes(p.read_bytes()[:50])
        with pytest.raises(RuntimeError):
            T.load(p)


def test_empty_file_raises_eof_error():
    for T in (torch, ts):
        with pytest.raises(EOFError):
            T.load(io.BytesIO(b""))


def test_save_into_missing_folder_raises_runtime_error(tmp_path):
    for T in (torch, ts):
        with pytest.raises(RuntimeError, match="does not exist"):
            T.save(T.ones(1), str(tmp_path / "missing" / "x.pt"))
    with pytest.raises(FileNotFoundError):   # the library's earlier class, kept
        ts.save(ts.ones(1), str(tmp_path / "missing" / "x.pt"))


def test_save_into_object_without_write_raises_attribute_error():
    # torch's test_serialization_filelike_exceptions
    for T in (torch, ts):
        with pytest.raises(AttributeError):
            T.save("foo", T.rand(10))
        with pytest.raises(AttributeError):
            T.save(T.ones(1), np.zeros(3))
    with pytest.raises(TypeError, match="expected 'f'"):   # the library's earlier class, kept
        ts.save(ts.ones(1), np.zeros(3))


def test_bytes_are_no_path():
    for T in (torch, ts):
        with pytest.raises(AttributeError):
            T.load(b"bytes")
    with pytest.raises(AttributeError, match=r"io.BytesIO"):
        ts.save(ts.ones(1), b"x.pt")


def _crafted(tensors, storages, root):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("tinygrad_seq.json", json.dumps({"format": "tinygrad_seq", "version": 2, "root": root,
                                                     "tensors": tensors}))
        for i, arr in enumerate(storages):
            with z.open(f"storages/{i}.npy", "w") as e:
                np.lib.format.write_array(e, arr)
    b.seek(0)
    return b


@pytest.mark.parametrize("row, match", [
    ({"storage": 0, "offset": 2, "shape": [3], "stride": [1]}, "reaches elements 2..4 of a storage of 4"),
    ({"storage": 0, "offset": 0, "shape": [2], "stride": [-1]}, "reaches elements -1..0"),
    ({"storage": 0, "offset": 5, "shape": [0], "stride": [1]}, "starts at element 5"),
    ({"storage": 0, "offset": 0, "shape": [2, 2], "stride": [1]}, "layout is invalid"),
    ({"storage": 0, "offset": "0", "shape": [2], "stride": [1]}, "layout is malformed"),
    ({"storage": 1, "offset": 0, "shape": [1], "stride": [1]}, "storage 1, which the archive lacks"),
    ({"storage": 0, "offset": 0, "shape": [1], "stride": [1], "attrs": [["shape", 1]]}, "bad attribute"),
])
def test_a_corrupt_tensor_layout_is_refused_without_reading_out_of_bounds(row, match):
    f = _crafted([row], [np.arange(4.0)], {"tensor": 0})
    with pytest.raises(RuntimeError, match=match) as info:
        ts.load(f)
    assert isinstance(info.value, ValueError) and "not a valid checkpoint" in str(info.value)


def test_files_of_format_version_1_still_load():
    ck = ts.load(V1_FIXTURE)
    assert isinstance(ck["p"], ts.nn.Parameter) and ck["p"].requires_grad and ck["p"].tolist() == [1.0, 1.0]
    assert ck["x"] is ck["x_again"] and ck["x"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert ck["ints"].dtype == np.int32 and ck["grad"].requires_grad
    assert ck["arr"].dtype == np.int16 and isinstance(ck["np_scalar"], np.float64)
    assert ck["nums"][:2] == (1, 2.5) and np.isnan(ck["nums"][2]) and ck["nums"][3:] == (None, True, "text")
    assert list(ck["od"]) == ["b", "a"] and list(ck["sd"]) == ["weight", "bias"]
    assert ck["sd"]["weight"].shape == (2, 3)


# ---------------------------------------------------------------- reentrant checkpoint
def test_reentrant_checkpoint_with_autograd_grad_raises():
    # torch's test_checkpoint_valid
    for T, ck in ((torch, torch.utils.checkpoint), (ts, ts_ck)):
        T.manual_seed(0)
        model = T.nn.Sequential(T.nn.Linear(10, 5), T.nn.ReLU(), T.nn.Linear(5, 2))
        x = T.randn(1, 10, requires_grad=True)
        out = ck.checkpoint_sequential(list(model.children()), 2, x, use_reentrant=True)
        with pytest.raises(RuntimeError, match="incompatible with .grad()"):
            T.autograd.grad(outputs=[out], grad_outputs=[T.ones(1, 2)], inputs=[x], create_graph=True)


def test_reentrant_checkpoint_grad_does_not_leak_into_parameters():
    lin = ts.nn.Linear(3, 2)
    x = ts.randn(4, 3, requires_grad=True)
    y = ts_ck.checkpoint(lin, x, use_reentrant=True)
    with pytest.raises(RuntimeError, match="use_reentrant=False"):
        ts.autograd.grad(y.sum(), [x])
    assert lin.weight.grad is None
    y.sum().backward()   # a plain backward still works afterwards
    assert lin.weight.grad is not None and x.grad is not None


def test_reentrant_checkpoint_backward_inputs_raises():
    for T, ck in ((torch, torch.utils.checkpoint), (ts, ts_ck)):
        lin = T.nn.Linear(3, 2)
        x = T.randn(4, 3, requires_grad=True)
        y = ck.checkpoint(lin, x, use_reentrant=True)
        with pytest.raises(RuntimeError, match="incompatible with .grad()"):
            y.sum().backward(inputs=[x])


def test_nested_reentrant_checkpoints_under_a_plain_backward_match_torch():
    def run(T, ck):
        T.manual_seed(0)
        inner, outer = T.nn.Linear(3, 3), T.nn.Linear(3, 2)
        with T.no_grad():
            for i, p in enumerate(list(inner.parameters()) + list(outer.parameters())):
                p.copy_(T.linspace(-1, 1, p.numel()).reshape(p.shape) * (i + 1))
        x = T.linspace(-2, 2, 12).reshape(4, 3).requires_grad_()
        y = ck.checkpoint(lambda t: outer(ck.checkpoint(inner, t, use_reentrant=True).tanh()), x,
                          use_reentrant=True)
        y.sum().backward()
        return [t.grad.detach().numpy().copy() for t in (x, inner.weight, outer.weight)]
    for a, b in zip(run(ts, ts_ck), run(torch, torch.utils.checkpoint)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_reentrant_checkpoint_with_no_grad_output_raises_at_backward():
    # torch's test_checkpoint_partial_grad
    for T, ck in ((torch, torch.utils.checkpoint), (ts, ts_ck)):
        a = T.randn(1, 4)
        b = T.randn(1, 4, requires_grad=True)
        with pytest.raises(RuntimeError, match="none of output has requires_grad=True"):
            out = ck.checkpoint(lambda t1, t2: t1, a, b, use_reentrant=True)
            out.sum().backward()


def test_invalid_determinism_check_raises_value_error():
    for T, ck in ((torch, torch.utils.checkpoint), (ts, ts_ck)):
        x = T.ones(2, requires_grad=True)
        with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', 'none'\], "
                                             r"but got bogus"):
            y = ck.checkpoint(lambda t: t.sin(), x, use_reentrant=False, determinism_check="bogus")
            y.sum().backward()
        y = ck.checkpoint(lambda t: t.sin(), x, use_reentrant=False, determinism_check="none")
        y.sum().backward()
        assert np.allclose(x.grad.numpy(), np.cos(1.0)), T.__name__
