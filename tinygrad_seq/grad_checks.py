"""torch's checks on an assigned gradient (t.grad = g): g is a Tensor or None, of t's size,
dtype and device type. The engine's own stores pass the fast path: a handful of compares."""
import numpy as np

from tinygrad_seq.out_dtypes import c_type_name
from tinygrad_seq.tensor_matmul import scalar_name


def _sizes(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _device_type(t):
    return getattr(t.device, "type", str(t.device).split(":")[0])


def grad_assignment_error(t, grad):
    """The error torch raises for t.grad = grad (its texts), or None when grad is fine."""
    from tinygrad_seq.tensor import Tensor
    if not isinstance(grad, Tensor):
        name = type(grad).__name__
        module = type(grad).__module__
        full = name if module == "builtins" else f"{module.split('.')[0]}.{name}"
        return TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {full}")
    if _device_type(grad) != _device_type(t):
        return RuntimeError(f"attempting to assign a gradient with device type '{_device_type(grad)}' to a tensor "
                            f"with device type '{_device_type(t)}'. Please ensure that the gradient and the tensor "
                            f"are on the same device")
    if tuple(grad.shape) != tuple(t.shape):
        return RuntimeError(f"attempting to assign a gradient of size '{_sizes(grad.shape)}' to a tensor of size "
                            f"'{_sizes(t.shape)}'. Please ensure that the gradient and the tensor are the same size")
    if np.dtype(grad.dtype) != np.dtype(t.dtype):
        return RuntimeError(
            f"attempting to assign a gradient with dtype '{c_type_name(grad.dtype)}' to a tensor with grad_dtype "
            f"'{scalar_name(np.dtype(t.dtype))}'. The gradient must match the tensor's grad_dtype (defaults to the "
            f"tensor's dtype). You can set the tensor's grad_dtype attribute with a specific dtype, or None to "
            f"allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may "
            f"break downstream systems that assume they match.")
    return None




def checked_grad_setter(store):
    """The setter of Tensor.grad: store(t, grad) after the checks. The fast path (None, or a
    tensor whose array has t's array's shape and dtype on t's device) is what every backward
    takes for its parameters."""
    def set_grad(self, grad):
        if grad is None:   # a cleared gradient forgets the rows an Embedding(sparse=True) looked up
            if "_sparse_rows" in self.__dict__:
                del self.__dict__["_sparse_rows"]
        else:
            a, b = grad.array if hasattr(grad, "_grad_value") else None, self.array
            if a is None or a.shape != b.shape or a.dtype != b.dtype or grad.device != self.device:
                error = grad_assignment_error(self, grad)
                if error is not None:
                    raise error
        store(self, grad)
    return set_grad
