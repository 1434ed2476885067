"""tinygrad_seq: PyTorch's API for recurrent sequence models on a from-scratch autograd engine,
with fused Numba CPU kernels and numba.cuda GPU kernels for the recurrent inner loop.

`import tinygrad_seq as torch` gives torch's top-level names for what it implements; a torch
name it lacks raises an AttributeError saying so (missing.py)."""
import importlib
import os
import warnings as _warnings

from tinygrad_seq.autograd import (enable_grad, inference_mode, is_grad_enabled, no_grad,  # noqa: F401
                                   set_grad_enabled)
from tinygrad_seq.amp import autocast, get_float32_matmul_precision, set_float32_matmul_precision  # noqa: F401
from tinygrad_seq.creation import bernoulli, normal  # noqa: F401
from tinygrad_seq.legacy_tensor_types import (BoolTensor, ByteTensor, CharTensor, DoubleTensor,  # noqa: F401
                                              FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor)
from tinygrad_seq.creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full,  # noqa: F401
                                   full_like, is_tensor, linspace, multinomial, numel, ones, ones_like, rand,
                                   rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like)
from tinygrad_seq.creation import logspace, randint_like  # noqa: F401
from tinygrad_seq.torch_names import (channels_last, channels_last_3d, contiguous_format, is_complex,  # noqa: F401
                                      layout, memory_format, preserve_format, set_default_tensor_type, sparse_coo,
                                      sparse_csr, strided)
from tinygrad_seq.device import Device as device, cuda_available  # noqa: F401
from tinygrad_seq.dtypes import (bool, double, float, float16, float32, float64, get_default_dtype,  # noqa: F401,A004
                                 half, int, int8, int16, int32, int64, long, set_default_dtype, short, uint8)
# torch's dtypes without arrays here: named (autocast(dtype=torch.bfloat16, enabled=False) runs), refused as a tensor's
from tinygrad_seq.dtypes import bfloat16, cdouble, cfloat, chalf, complex32, complex64, complex128  # noqa: F401
from tinygrad_seq.quantized_dtypes import (per_channel_affine, per_channel_symmetric, per_tensor_affine,  # noqa: F401
                                           per_tensor_symmetric, qint8, qint32, qscheme, quint4x2, quint8)
from tinygrad_seq.functions import *  # noqa: F401,F403
from tinygrad_seq.functions import METHODS as _METHODS, cat, concat, stack, where  # noqa: F401
from tinygrad_seq.einsum import einsum  # noqa: F401
from tinygrad_seq.functions_index import (block_diag, broadcast_shapes, bucketize, cartesian_prod,  # noqa: F401
                                          column_stack, combinations, dstack, hstack, searchsorted, split,
                                          tril_indices, triu_indices, vander, vstack)
from tinygrad_seq.functions_index import vstack as row_stack  # noqa: F401
from tinygrad_seq.functions_more import (atleast_1d, atleast_2d, atleast_3d, can_cast, cdist, celu,  # noqa: F401
                                         cosine_similarity, pairwise_distance, promote_types, result_type,
                                         selu, unique)
from tinygrad_seq.foreach_ops import *  # noqa: F401,F403  (torch._foreach_*: foreach_ops.__all__)
from tinygrad_seq.gradcheck import GradcheckError, gradcheck  # noqa: F401
from tinygrad_seq.jit import compile  # noqa: F401,A004  (torch.compile: the model itself)
from tinygrad_seq.torch_misc import (clear_autocast_cache, empty_strided, frombuffer, get_autocast_gpu_dtype,  # noqa: F401
                                     get_num_interop_threads, is_anomaly_enabled, is_autocast_enabled, is_storage,
                                     is_anomaly_check_nan_enabled,
                                     multiprocessing, set_anomaly_enabled, set_flush_denormal,
                                     set_num_interop_threads, typename, unravel_index, version)
from tinygrad_seq.functional import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, conv2d,  # noqa: F401
                                     conv_transpose1d, conv_transpose2d, max_pool2d)
from tinygrad_seq.moments import std_mean, var_mean  # noqa: F401
from tinygrad_seq.segment_reduce_op import segment_reduce  # noqa: F401
from tinygrad_seq.functions_numeric import (cumulative_trapezoid, det, frexp, inverse, isin, logdet,  # noqa: F401
                                            mvlgamma, pinverse, polygamma, slogdet, tensordot, trapezoid, trapz)
from tinygrad_seq.functions_numeric import (chain_matmul, cholesky, cholesky_inverse, cholesky_solve,  # noqa: F401
                                            matrix_exp, qr, svd, triangular_solve)
from tinygrad_seq.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state  # noqa: F401
from tinygrad_seq.random import default_generator  # noqa: F401
from tinygrad_seq.serialization import load, save  # noqa: F401
from tinygrad_seq.tensor import Size, Tensor  # noqa: F401
# the thin forms of torch's methods (x_ in-place forms, aliases, kron, quantile, ...): attached
# last, as they build on every other method; and their free functions (ts.kron(a, b))
from tinygrad_seq import tensor_fill_in as _fill_in  # noqa: E402
from tinygrad_seq.functions import _method as _free_function  # noqa: E402
_fill_in.attach(Tensor)
for _name in _fill_in.FREE:
    if _name not in globals():
        globals()[_name] = _free_function(_name)
from tinygrad_seq import namespace_gaps as _namespace_gaps  # noqa: E402
_namespace_gaps.attach(Tensor, globals())   # torch 2.13's remaining names (namespace_gaps.py)
from tinygrad_seq import untyped_storage as _untyped_storage  # noqa: E402
_untyped_storage.attach(Tensor, globals())   # Tensor.untyped_storage(), ts._assert, ts.UntypedStorage
from tinygrad_seq.threads import get_num_threads, set_num_threads  # noqa: F401
from tinygrad_seq import backends, cuda, functional, nn  # noqa: F401
from tinygrad_seq.device_modules import cpu, mps, xpu  # noqa: F401,E402  (torch.cpu, torch.mps, torch.xpu)
from tinygrad_seq import __config__  # noqa: F401,E402  (torch.__config__.show / parallel_info)
from tinygrad_seq import return_types  # noqa: F401,E402  (torch.return_types)
from tinygrad_seq.functional_rnn import (gru, gru_cell, lstm, lstm_cell, rnn_relu, rnn_relu_cell,  # noqa: F401,E402
                                         rnn_tanh, rnn_tanh_cell)
from tinygrad_seq import _VF  # noqa: F401,E402  (torch._VF)
from tinygrad_seq import func  # noqa: F401,E402  (torch.func)
from tinygrad_seq.func_vmap import vmap  # noqa: F401,E402  (torch.vmap)
from tinygrad_seq.gradient_fn import gradient  # noqa: F401,E402  (torch.gradient)
from tinygrad_seq.malloc_tuning import keep_freed_memory as _keep_freed_memory

_keep_freed_memory()   # freed blocks reused, not unmapped: no page faults every step (malloc_tuning.py)
# numpy's floating-point warnings from the engine's own arrays (inf - inf, inf * 0): torch computes
# the same nan / inf silently; a user's own numpy code keeps its warnings (the filter names our modules)
_warnings.filterwarnings("ignore", message=r"(invalid value|divide by zero|overflow) encountered",
                         category=RuntimeWarning, module=r"tinygrad_seq(\.|$)")

from tinygrad_seq.version_string import VERSION as __version__  # noqa: E402  (torch-style, see the module)

_LAZY = ("optim", "data", "distributed", "distributions", "autograd", "utils", "amp", "accelerator", "linalg",
         "special", "jit", "testing", "ao", "quantization", "compiler", "profiler", "futures", "_dynamo")


def __getattr__(name):
    # optim, data, utils, distributions and distributed load on first use (distributed needs mpi4py)
    if name in _LAZY:
        try:
            return importlib.import_module(f"tinygrad_seq.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"tinygrad_seq.{name}":
                raise
    from tinygrad_seq.missing import module_attribute_error
    if name.startswith("__"):
        raise AttributeError(f"module 'tinygrad_seq' has no attribute {name!r}")
    raise module_attribute_error(name)


def _watch_mpi_exit():
    # In a rank of an MPI job a non-zero exit must end the whole job (distributed/abort_path.py);
    # `sys.exit(main())` looks sys.exit up before main() runs, so the watch starts at import.
    # (No builtins here: this module's any, int, bool... are torch's.)
    if os.environ.keys() & {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_RANK"}:
        from tinygrad_seq.distributed import launched_by_mpi
        if launched_by_mpi():
            from tinygrad_seq.distributed.abort_path import watch_exit
            watch_exit()


_watch_mpi_exit()

