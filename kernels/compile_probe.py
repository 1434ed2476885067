"""A calibration's probe of a candidate (calibration.calibrate with compiled_only): run it, unless it would
compile one of the package's kernels, which raises NeedsCompile instead of compiling. Imports only
the standard library (numba when a probe runs)."""
import contextlib
import threading


class NeedsCompile(Exception):
    """A calibration's probe of a candidate reached a kernel that would compile (compile_probe)."""


@contextlib.contextmanager
def compile_probe():
    """``with compile_probe():`` a tinygrad_seq kernel (the package's or a generated cell's) that
    Numba would compile, its on-disk cache not holding it, raises NeedsCompile instead, in this
    thread and in the kernels' worker threads (which run a call's chunks); other threads and other
    packages' functions compile as usual. Compile notices stay quiet meanwhile. Numba announces a
    compile after its cache look-up, under its compiler lock, which the exception releases. (A
    second Python thread whose kernel call needs a compile while a probe lasts, its chunks on the
    kernels' threads, would get the NeedsCompile too: probes last until their first compile or
    one short run of a compiled candidate, on a program's first calls.)"""
    from numba.core import event
    from . import compile_notice   # imports numba: only when a probe runs

    prober = threading.get_ident()

    class Refuse(event.Listener):
        def on_start(self, ev):
            dispatcher = ev.data.get("dispatcher") if isinstance(ev.data, dict) else None
            module = getattr(getattr(dispatcher, "py_func", None), "__module__", None) or ""
            thread = threading.current_thread()
            if module.startswith("tinygrad_seq") and (thread.ident == prober
                                                       or thread.name.startswith("tinygrad_seq-kernel")):
                raise NeedsCompile(f"{module}.{dispatcher.py_func.__name__} is not compiled")

        def on_end(self, ev):   # Listener's other hook: a compile that started here may end
            return None

    _probing[0] += 1
    try:
        with compile_notice.quiet(), event.install_listener("numba:compile", Refuse()):
            yield
    finally:
        _probing[0] -= 1


_probing = [0]


def probing():
    """Whether a calibration is probing a candidate (compile_probe): no child compiles for it."""
    return _probing[0] > 0
