"""The compiled drivers of kernels/sort_steps.py's ports of torch's sort, topk and kthvalue tie
orders: every function there registered with Numba (register_jitable: the same source, callable
from compiled code) and the three row drivers under njit(cache=True). Imported only when a call
runs compiled (sort_steps.runs_compiled), so `import tinygrad_seq` does not import numba."""
from numba.extending import register_jitable

from .cache_load import njit
from . import sort_steps
from .compile_notice import announce, is_cached

for _name in ('_before', '_swap', '_floor_log2', '_push_heap', '_adjust_heap', '_make_heap', '_pop_heap', '_heap_select', '_sort_heap', 'partial_sort', '_move_median_to_first', '_partition_pivot', '_unguarded_linear_insert', '_insertion_sort', 'std_sort', 'nth_element', 'topk_row', 'quick_select', '_sort_rows', '_topk_rows', '_kthvalue_rows'):
    register_jitable(getattr(sort_steps, _name))

# error_model='numpy': no zero-division branch on the heap's // 2 (17% off a sort of 50000)
_COMPILED = {   # kind -> (driver, what the compile notice names)
    "sort": (njit(cache=True, error_model="numpy")(sort_steps._sort_rows), "the sort tie-order kernel"),
    "topk": (njit(cache=True, error_model="numpy")(sort_steps._topk_rows), "the topk tie-order kernel"),
    "kthvalue": (njit(cache=True, error_model="numpy")(sort_steps._kthvalue_rows), "the kthvalue kernel"),
}


_ready = set()        # (kind, dtype) whose driver needs no compile in this process
_disk_checked = set()  # (kind, dtype) whose on-disk cache was looked at (once a process)


def ready(kind, dtype):
    """Whether `kind`'s driver for rows of `dtype` runs without compiling: loaded in this process,
    or held in Numba's on-disk cache (its index read once a process)."""
    key = (kind, dtype)
    if key in _ready:
        return True
    if key not in _disk_checked:
        _disk_checked.add(key)
        if is_cached(_COMPILED[kind][0], dtype):
            _ready.add(key)
            return True
    return False


def driver(kind, dtype):
    """`kind`'s compiled driver, after telling the user when its first call compiles."""
    compiled, what = _COMPILED[kind]
    announce(what, dtype, (compiled,))
    _ready.add((kind, dtype))   # compiled by the call it is returned for
    return compiled
