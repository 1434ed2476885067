"""ts.testing.assert_close against torch.testing.assert_close (2.13): its pairs, messages, item
paths, strides, subclasses and tolerance checks (testing.py, testing_pairs.py, testing_tensor_pair.py)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
ac = ts.testing.assert_close

def _msg(fn):
    with pytest.raises(AssertionError) as ei:
        fn()
    return str(ei.value)

def test_01_index_formatting_and_relative_index():
    m = _msg(lambda: ac(ts.tensor([[1., 2.], [3., 4.]]), ts.tensor([[1., 2.], [3., 5.]])))
    assert "Greatest absolute difference: 1.0 at index (1, 1) (up to 1e-05 allowed)" in m
    assert "Greatest relative difference: 0.20000000298023224 at index (1, 1) (up to 1.3e-06 allowed)" in m

def test_02_relative_difference_inf_when_expected_zero():
    m = _msg(lambda: ac(ts.tensor([1.]), ts.tensor([0.])))
    assert "Greatest relative difference: inf at index (0,)" in m

def test_03_integer_message_not_equal():
    m = _msg(lambda: ac(ts.tensor([1, 2, 3]), ts.tensor([1, 5, 3])))
    assert m.splitlines()[0] == "Tensor-likes are not equal!"
    assert "Greatest absolute difference: 3 at index (1,)\n" in m

def test_04_integer_explicit_atol_honoured():
    ac(ts.tensor([1]), ts.tensor([2]), rtol=0, atol=1)

def test_05_int64_large_difference_reported():
    m = _msg(lambda: ac(ts.tensor([2**53 + 1]), ts.tensor([2**53])))
    assert "Greatest absolute difference: 1 at index (0,)" in m

def test_06_callable_msg_is_called():
    m = _msg(lambda: ac(ts.tensor([1.]), ts.tensor([2.]), msg=lambda g: "X" + g.splitlines()[0]))
    assert m == "XTensor-likes are not close!"

def test_07_shape_message_uses_torch_size():
    m = _msg(lambda: ac(ts.tensor([1., 2.]), ts.tensor([1., 2., 3.])))
    assert m == "The values for attribute 'shape' do not match: torch.Size([2]) != torch.Size([3])."

def test_08_scalar_messages():
    assert _msg(lambda: ac(1., 2.)).splitlines()[0] == "Scalars are not close!"
    assert _msg(lambda: ac(ts.tensor(1.), ts.tensor(2.))).splitlines()[0] == "Scalars are not close!"
    assert _msg(lambda: ac(1, 1.)) == "The (d)types do not match: <class 'int'> != <class 'float'>."
    assert _msg(lambda: ac(True, False)) == "Booleans mismatch: True is not False"

@pytest.mark.parametrize("a,b", [(lambda: ts.tensor(1.), lambda: 1.),
                                 (lambda: [1., 2.], lambda: ts.tensor([1., 2.])),
                                 (lambda: np.array([1.], dtype=np.float32), lambda: ts.tensor([1.])),
                                 (lambda: "a", lambda: "a"),
                                 (lambda: object(), lambda: object())])
def test_09_unsupported_pairs_type_error(a, b):
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs of type"):
        ac(a(), b())

def test_10_sequence_mapping_failure_location():
    m = _msg(lambda: ac([ts.tensor([1.]), ts.tensor([2.])], [ts.tensor([1.]), ts.tensor([3.])]))
    assert m.endswith("\n\nThe failure occurred for item [1]")
    m = _msg(lambda: ac({"a": [ts.tensor([1.]), (ts.tensor([2.]),)]}, {"a": [ts.tensor([1.]), (ts.tensor([2.5]),)]}))
    assert m.endswith("\n\nThe failure occurred for item ['a'][1][0]")

def test_11_mapping_keys_message():
    m = _msg(lambda: ac({"a": ts.tensor([1.])}, {"b": ts.tensor([1.])}))
    assert m == ("The keys of the mappings do not match:\nMissing keys in the actual mapping: ['b']\n"
                 "Additional keys in the actual mapping: ['a']")

def test_12_check_stride():
    x = ts.tensor([[1., 2.], [3., 4.]]).t()
    m = _msg(lambda: ac(x, ts.tensor([[1., 3.], [2., 4.]]), check_stride=True))
    assert m == "The values for attribute 'stride()' do not match: (1, 2) != (2, 1)."
    # nested containers must forward check_stride
    with pytest.raises(AssertionError):
        ac([x], [ts.tensor([[1., 3.], [2., 4.]])], check_stride=True)

def test_13_allow_subclasses_false():
    with pytest.raises(TypeError, match="No comparison pair"):
        ac(ts.nn.Parameter(ts.tensor([1.])), ts.tensor([1.]), allow_subclasses=False)

def test_14_negative_tolerance_rejected():
    with pytest.raises(RuntimeError):
        ac(ts.tensor([1.]), ts.tensor([1.]), rtol=-1, atol=0)


def _both(fn):
    """fn(lib) run with torch and with ts: the same exception type and message (or both pass)."""
    out = []
    for lib in (torch, ts):
        try:
            fn(lib)
            out.append(None)
        except Exception as error:
            out.append((type(error).__name__, str(error)))
    return out


@pytest.mark.parametrize("case", [
    lambda t: t.testing.assert_close(t.tensor([1, 2, 3]), t.tensor([1, 5, 3])),
    lambda t: t.testing.assert_close(t.tensor([True, False]), t.tensor([True, True])),
    lambda t: t.testing.assert_close(t.tensor([1, 2, 3]), t.tensor([1, 5, 2]), rtol=0.1, atol=1),
    lambda t: t.testing.assert_close(t.tensor([1., 2]), t.tensor([1., 3]), msg="hi"),
    lambda t: t.testing.assert_close([t.tensor([1., 2])], [t.tensor([1., 3])], msg="hi"),
    lambda t: t.testing.assert_close(t.tensor([1., 2]), t.tensor([1., 3], dtype=t.float64)),
    lambda t: t.testing.assert_close(t.tensor([1., 2]), t.tensor([1., 3], dtype=t.float64), check_dtype=False),
    lambda t: t.testing.assert_close(t.tensor([1., float("nan")]), t.tensor([1., 3])),
    lambda t: t.testing.assert_close(t.tensor(2), t.tensor(3)),
    lambda t: t.testing.assert_close(t.tensor([[1., 2]]), t.tensor([[1., 3]]), atol=0, rtol=0),
    lambda t: t.testing.assert_close(np.array([1., 2]), np.array([1., 3])),
    lambda t: t.testing.assert_close([1.0, (2, None)], [1.0, (2, None)]),
    lambda t: t.testing.assert_close([1.0, (2, None)], [1.0, (2, 0)]),
    lambda t: t.testing.assert_close([1, 2], [1, 2, 3]),
    lambda t: t.testing.assert_close(1.0, 1.0 + 1e-9),
    lambda t: t.testing.assert_close(float("nan"), float("nan"), equal_nan=True),
    lambda t: t.testing.assert_close(t.tensor([1.]), t.tensor([1.]), rtol=1e-3),
    lambda t: t.testing.assert_close({"a": t.tensor([1.])}, {"a": t.tensor([2.])}, msg=lambda m: m.upper()),
])
def test_messages_as_torchs(case):
    torch_result, ts_result = _both(case)
    assert ts_result == torch_result
