"""ts._dynamo: the torch._dynamo names programs write beside torch.compile (`config.suppress_errors =
True`, `reset()`, `disable`, `mark_dynamic`), as they answer when nothing is being compiled:
ts.compile runs the model as written (jit.py), so there is no graph, guard or cache for them to
act on. The functions are ts.compiler's (torch.compiler wraps the same ones)."""
import types

from tinygrad_seq.compiler import allow_in_graph, assume_constant_result, disable, is_compiling, reset  # noqa: F401

# the settings programs assign, with torch's defaults; any other assigned name is kept as well
config = types.SimpleNamespace(suppress_errors=False, verbose=False, cache_size_limit=8,
                               accumulated_cache_size_limit=256, capture_scalar_outputs=False,
                               capture_dynamic_output_shape_ops=False, automatic_dynamic_shapes=True,
                               assume_static_by_default=True, optimize_ddp=True)


def mark_dynamic(tensor, index, *, min=None, max=None):   # noqa: A002  (torch's keyword names)
    """torch records that dimension `index` of `tensor` varies between calls: nothing compiles here."""
    return None


def mark_static(tensor, index=None):
    return None


def maybe_mark_dynamic(tensor, index):
    return None


def optimize(backend="inductor", *, nopython=False, guard_export_fn=None, disable=False, dynamic=None):
    """The old torch._dynamo.optimize(backend)(fn): fn itself, as ts.compile gives."""
    return lambda fn: fn
