"""torch.testing.assert_close as torch 2.13's: nested sequences and mappings are walked to leaves,
each leaf compared by the first pair that takes it (NonePair, BooleanPair, NumberPair,
TensorLikePair; testing_pairs.py, testing_tensor_pair.py), with torch's default tolerances by dtype
and torch's messages; a failure inside a container names its item ("[1]", "['a'][1][0]")."""
import collections.abc

from tinygrad_seq.testing_pairs import BooleanPair, ErrorMeta, NonePair, NumberPair, UnsupportedInputs
from tinygrad_seq.testing_tensor_pair import TensorLikePair
from tinygrad_seq.testing_make_tensor import make_tensor  # noqa: F401

_PAIR_TYPES = (NonePair, BooleanPair, NumberPair, TensorLikePair)
_INTERNAL = ("If you are a user and see this message during normal operation please file an issue at "
             "https://github.com/pytorch/pytorch/issues. If you are a developer and working on the comparison "
             "functions, please except the previous error and raise an expressive `ErrorMeta` instead.")


def _item_path(id):
    return "".join(str([item]) for item in id)


def originate_pairs(actual, expected, *, id=(), **options):
    """The pairs of leaves of two possibly nested sequences / mappings, as torch's."""
    sequence, mapping = collections.abc.Sequence, collections.abc.Mapping
    if (isinstance(actual, sequence) and not isinstance(actual, str)
            and isinstance(expected, sequence) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise ErrorMeta(AssertionError,
                            f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", id=id)
        return [pair for idx in range(len(actual))
                for pair in originate_pairs(actual[idx], expected[idx], id=(*id, idx), **options)]
    if isinstance(actual, mapping) and isinstance(expected, mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise ErrorMeta(AssertionError, "The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                            f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}", id=id)
        keys = actual_keys
        try:
            keys = sorted(keys)
        except Exception:
            pass
        return [pair for key in keys for pair in originate_pairs(actual[key], expected[key], id=(*id, key), **options)]
    for pair_type in _PAIR_TYPES:
        try:
            return [pair_type(actual, expected, id=id, **options)]
        except UnsupportedInputs:
            continue
        except ErrorMeta:
            raise
        except Exception as error:
            raise RuntimeError(f"Originating a {pair_type.__name__}() at item {_item_path(id)} with\n\n"
                               f"{type(actual).__name__}(): {actual}\n\nand\n\n{type(expected).__name__}(): "
                               f"{expected}\n\nresulted in the unexpected exception above. {_INTERNAL}") from error
    raise ErrorMeta(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} "
                               f"and {type(expected)}.", id=id)


def not_close_error_metas(actual, expected, **options):
    try:
        pairs = originate_pairs(actual, expected, **options)
    except ErrorMeta as error_meta:
        raise error_meta.to_error() from None
    error_metas = []
    for pair in pairs:
        try:
            pair.compare()
        except ErrorMeta as error_meta:
            error_metas.append(error_meta)
        except Exception as error:
            raise RuntimeError(f"Comparing\n\n{pair}\n\nresulted in the unexpected exception above. "
                               f"{_INTERNAL}") from error
    return error_metas


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    __tracebackhide__ = True
    error_metas = not_close_error_metas(actual, expected, allow_subclasses=allow_subclasses, rtol=rtol, atol=atol,
                                        equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype,
                                        check_layout=check_layout, check_stride=check_stride)
    if error_metas:
        raise error_metas[0].to_error(msg)


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The deprecated form: dtypes need not match, torch's looser tolerances."""
    from tinygrad_seq.creation import tensor
    from tinygrad_seq.tensor import Tensor
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        precisions = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}
        rtols, atols = zip(*[precisions.get(str(t.dtype), (0.0, 0.0)) for t in (actual, expected)])
        rtol, atol = max(rtols), max(atols)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)
