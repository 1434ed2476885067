"""Attaches torch 2.13's remaining everyday names: the Tensor methods of tensor_methods_gaps.py
and tensor_linalg_old.py, and the top-level functions of the modules listed in attach (each
module's FUNCTIONS), plus torch.GradScaler (torch.amp's) and torch.dtype (numpy's dtype class). tinygrad_seq/__init__.py calls
attach last, so every method these build on exists; a name already defined is kept."""


def attach(Tensor, namespace):
    from tinygrad_seq import (amp, autocast_state, creation_extra, functional_aten, functions_aliases, histograms,
                              random_counts, tensor_linalg_old, tensor_methods_gaps, torch_flags, windows)
    for name, method in {**tensor_methods_gaps.METHODS, **tensor_linalg_old.METHODS}.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, method)
    for module in (functions_aliases, functional_aten, windows, tensor_linalg_old, creation_extra, histograms,
                   random_counts, autocast_state, torch_flags):
        for name, fn in module.FUNCTIONS.items():
            namespace.setdefault(name, fn)
    namespace.setdefault("GradScaler", amp.GradScaler)
    import numpy as np
    namespace.setdefault("dtype", np.dtype)   # torch.dtype: the dtypes here are numpy's (API.md)
