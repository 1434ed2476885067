"""torch.__config__: what this build is made of (show) and its thread settings (parallel_info),
as text for a training script's log."""


def show():
    import numba
    import numpy as np
    from tinygrad_seq.device import cuda_available
    return (f"tinygrad_seq built with:\n  - numpy {np.__version__}\n  - numba {numba.__version__} "
            f"(CPU kernels; CUDA kernels: {'a GPU is present' if cuda_available() else 'no GPU present'})\n")


def parallel_info():
    from tinygrad_seq.threads import get_num_threads
    from tinygrad_seq.torch_misc import get_num_interop_threads
    n = get_num_threads()
    return (f"ATen/Parallel:\n\tat::get_num_threads() : {n}\n\tat::get_num_interop_threads() : {get_num_interop_threads()}\n"
            f"Kernel threads: Numba's pool and the BLAS pool, both limited to {n}\n")
