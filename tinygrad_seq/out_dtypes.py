"""torch's refusals of an out= whose dtype is not the result's, for the ops that write no cast
(out_rules.checked_kwargs calls check_exact_out_dtype before the op runs): mm, bmm and matmul
(the input's dtype; matmul's vector forms go through dot / addmv, whose messages differ),
softmax and log_softmax (dtype= or the input's), logcumsumexp (the input's). Also the C++ type
names torch's messages use ('double', 'long int', ...)."""
import numpy as np

from tinygrad_seq.errors import DTypeMismatch

_C_TYPE_NAMES = {np.dtype(np.uint8): "unsigned char", np.dtype(np.int8): "signed char",
                 np.dtype(np.int16): "short int", np.dtype(np.int32): "int", np.dtype(np.int64): "long int",
                 np.dtype(np.bool_): "bool", np.dtype(np.float16): "c10::Half", np.dtype(np.float32): "float",
                 np.dtype(np.float64): "double"}


def c_type_name(dtype):
    """torch's C++ name of a dtype in its 'Expected out tensor to have dtype ...' messages."""
    return _C_TYPE_NAMES.get(np.dtype(dtype), str(np.dtype(dtype)))


def expected_out_dtype(expected, out):
    """DTypeMismatch (a RuntimeError) in torch's words when out's dtype is not `expected`."""
    if np.dtype(expected) != out.dtype:
        raise DTypeMismatch(f"Expected out tensor to have dtype {c_type_name(expected)}, but got "
                            f"{c_type_name(out.dtype)} instead")


def check_exact_out_dtype(name, input, out, args, kwargs):
    """torch's check of out's dtype for op `name` of tensor input (args / kwargs: the op's other
    arguments), before the op runs (so before its own refusals of the operands' dtypes)."""
    from tinygrad_seq.tensor_matmul import scalar_name
    if name == "logcumsumexp":
        if out.dtype != input.dtype:
            raise DTypeMismatch(f"expected scalar_type {scalar_name(input.dtype)} but found "
                                f"{scalar_name(out.dtype)}")
        return
    if name in ("softmax", "log_softmax"):
        dtype = kwargs.get("dtype", args[1] if len(args) > 1 else None)
        expected_out_dtype(input.dtype if dtype is None else dtype, out)
        return
    other = args[0] if args else kwargs.get("other", kwargs.get("mat2"))
    if name == "matmul" and getattr(other, "ndim", 2) == 1 and out.dtype != input.dtype:
        if input.ndim == 1:   # torch's dot
            raise DTypeMismatch(f"result dtype {scalar_name(out.dtype)} does not match input dtype "
                                f"{scalar_name(input.dtype)}")
        if input.ndim >= 2:   # torch's addmv (a batch folded into its rows)
            raise DTypeMismatch(f"addmv input tensors must have the same dtype, but got {scalar_name(out.dtype)}, "
                                f"{scalar_name(input.dtype)}, and {scalar_name(other.dtype)}")
    expected_out_dtype(input.dtype, out)
