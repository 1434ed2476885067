"""torch.jit and torch.compile as what they are to a program's meaning: a function or module runs
as written. `torch.jit.script(fn)`, `@torch.jit.script`, `torch.jit.trace(model, example)`,
`@torch.compile(mode=...)` return what they were given, and `torch.compile(model)` the model
wrapped as torch's OptimizedModule (the recurrent layers are fused kernels already, and the rest is
numpy), so programs that script a custom cell or compile a model run unchanged; TorchScript's helpers (annotate, ignore, unused, export, Final,
is_scripting, fork / wait) behave as they do in eager mode. What needs a real TorchScript program
(jit.save / jit.load of a scripted module, .graph, .code) raises an error that says so."""
import functools
import warnings

__all__ = ["script", "trace", "trace_module", "script_method", "ScriptModule", "ScriptFunction", "annotate",
           "ignore", "unused", "export", "Final", "is_scripting", "is_tracing", "fork", "wait", "save", "load",
           "freeze", "optimize_for_inference", "Attribute", "interface", "compile"]


def _deprecated(name):
    """torch 2.13's DeprecationWarning of the TorchScript entry points (at its own line, stacklevel 1,
    so the default filters hide it, as torch's)."""
    warnings.warn(f"`torch.jit.{name}` is deprecated. Please switch to `torch.compile` or `torch.export`.",
                  DeprecationWarning)


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """The function or module itself: it runs eagerly, as a scripted one computes."""
    _deprecated("script")
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """The function or module itself (tracing would record what it computes on the examples)."""
    _deprecated("trace")
    return func


def trace_module(mod, inputs, *args, **kwargs):
    _deprecated("trace_method")   # (torch's text names trace_method)
    return mod


def script_method(fn):
    return fn


def _decorator_or_identity(fn=None, *args, **kwargs):
    """@jit.ignore, @jit.ignore(drop=True), @jit.unused, @jit.export: the function unchanged."""
    if callable(fn):
        return fn
    return lambda f: f


ignore = unused = export = interface = _decorator_or_identity


def annotate(the_type, the_value):
    return the_value


class _FinalType:
    """torch.jit.Final[int] in a class's annotations: the type itself in eager mode."""
    def __getitem__(self, item):
        return item


Final = _FinalType()


class Attribute:
    """torch.jit.Attribute(value, type): the value in eager mode."""
    def __new__(cls, value, type=None):
        return value


def is_scripting():
    return False


def is_tracing():
    return False


class _Future:
    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value


def fork(func, *args, **kwargs):
    """Runs func now (there is no TorchScript thread pool); wait() returns its result."""
    return _Future(func(*args, **kwargs))


def wait(future):
    return future.wait()


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    return mod


def optimize_for_inference(mod, other_methods=None):
    return mod


def _no_torchscript(name):
    def refuse(*args, **kwargs):
        raise RuntimeError(f"torch.jit.{name}: tinygrad_seq has no TorchScript programs (jit.script and "
                           f"jit.trace return the eager module); save the weights with ts.save(model.state_dict(), f)")
    refuse.__name__ = name
    return refuse


save = _no_torchscript("save")
load = _no_torchscript("load")

ScriptFunction = type(script)   # torch's class name; a scripted function is the function itself


def __getattr__(name):
    # jit.ScriptModule (a class to subclass, or to test with isinstance): nn.Module, read on first
    # use so that this module imports nothing above the engine
    if name == "ScriptModule":
        from tinygrad_seq.nn.module import Module
        return Module
    from tinygrad_seq.missing import _message
    raise AttributeError(_message("torch.jit", name, None))


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """torch.compile: a function itself (as a decorator too, with or without arguments); a module
    wrapped as torch's OptimizedModule (nn/optimized_module.py: state_dict keys `_orig_mod.<name>`),
    which runs it as written; with disable=True the model itself, as torch's."""
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    from tinygrad_seq.nn.module import Module
    if disable or not isinstance(model, Module):
        return model
    from tinygrad_seq.nn.optimized_module import OptimizedModule
    return OptimizedModule(model)
