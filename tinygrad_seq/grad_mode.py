"""Grad mode, per thread as in PyTorch: no_grad, enable_grad, set_grad_enabled, inference_mode,
is_grad_enabled. One thread's no_grad() or backward() never changes what another thread
records (autograd's Function.apply reads _state.grad of the calling thread).

Inference mode is independent of grad mode and wins, as torch's: enable_grad() inside
inference_mode() makes is_grad_enabled() True, yet nothing is recorded (_state.grad, what the
ops read, stays False; _state.asked keeps the mode asked for)."""
import contextlib
import functools
import inspect
import threading


class _ThreadState(threading.local):
    """Grad mode and the queued callbacks are per thread, as in PyTorch: one thread's no_grad()
    or backward() never changes what another thread records. Class attributes are each new
    thread's defaults."""
    grad = True        # ops record a graph (False inside inference mode, whatever was asked)
    asked = True       # the grad mode asked for (is_grad_enabled inside inference mode)
    inference = False  # inside an inference_mode() block (is_inference_mode_enabled)
    callbacks = None   # a list while a backward() runs in this thread (queue_callback)
    depth = 0          # backward() calls nested in this thread (reentrant.py)


_state = _ThreadState()


def is_grad_enabled() -> bool:
    """This thread's grad mode (other threads keep their own); inside inference mode the mode
    asked for, though nothing is recorded there."""
    return _state.asked if _state.inference else _state.grad


def _set_mode(enabled):
    """Set this thread's grad mode; the previous (grad, asked) returned for _restore_mode."""
    prev = (_state.grad, _state.asked)
    _state.asked = enabled
    _state.grad = enabled and not _state.inference
    return prev


def _restore_mode(prev):
    _state.grad, _state.asked = prev


class _GradMode(contextlib.ContextDecorator):
    """Sets this thread's grad mode for a with-block or a decorated function. The previous mode
    is kept per thread too, so one object (a shared decorator) is safe in many threads."""
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._prev = threading.local()

    def __enter__(self):
        stack = self._prev.__dict__.setdefault("stack", [])
        stack.append(_set_mode(self.enabled))
        # None, as torch's (`with torch.no_grad() as g:` binds None)

    def __exit__(self, *exc):
        _restore_mode(self._prev.stack.pop())
        return False

    def clone(self):
        return type(self)(self.enabled)

    def __call__(self, func):
        """As a decorator: each call of func runs in the mode; a generator function's body runs
        in it at every resume (torch's _wrap_generator), not only while the generator is made."""
        if not inspect.isgeneratorfunction(func):
            return super().__call__(func)
        mode = self

        @functools.wraps(func)
        def generator(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:
                with mode.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with mode.clone():
                            gen.close()
                        raise
                    except BaseException as exc:
                        with mode.clone():
                            response = gen.throw(exc)
                    else:
                        with mode.clone():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value
        return generator


class _NoParams(_GradMode):
    """Also usable as a decorator without parentheses (@ts.no_grad), as torch's."""
    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])
        return super().__new__(cls)


class no_grad(_NoParams):
    """Context manager (and decorator) under which this thread records no graph (torch.no_grad)."""
    def __init__(self, *args):
        super().__init__(False)

    def clone(self):
        return no_grad()


class enable_grad(_NoParams):
    """Context manager (and decorator) that turns graph recording back on in this thread."""
    def __init__(self, *args):
        super().__init__(True)

    def clone(self):
        return enable_grad()


class inference_mode(_NoParams):
    """torch.inference_mode(mode=True): no graph is recorded inside, even under enable_grad(),
    and the tensors made are inference tensors (is_inference()); mode=False turns inference
    mode off and grad mode on, as torch's."""
    def __init__(self, mode=True):
        super().__init__(not mode if isinstance(mode, bool) else False)

    def __enter__(self):
        self._prev.__dict__.setdefault("inference", []).append(_state.inference)
        _state.inference = not self.enabled
        return super().__enter__()

    def __exit__(self, *exc):
        _state.inference = self._prev.inference.pop()
        return super().__exit__(*exc)

    def clone(self):
        return inference_mode(not self.enabled)


class set_grad_enabled(_GradMode):
    """torch.set_grad_enabled(mode): called, it sets this thread's mode at once; used as a
    context manager or decorator, the mode goes back on exit."""
    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: expected a bool, got {type(mode).__name__}")
        super().__init__(mode)
        self._prev.stack = [_set_mode(mode)]

    def __enter__(self):
        if not self._prev.__dict__.get("stack"):
            self._prev.stack = [_set_mode(self.enabled)]
        else:
            _set_mode(self.enabled)
        # None, as torch's (`with torch.no_grad() as g:` binds None)

    def __call__(self, func):
        # @set_grad_enabled(False): the constructor set the mode at once (the function form);
        # as a decorator it must not outlast the decoration, so the previous mode comes back
        prev = self._prev.__dict__.get("stack")
        if prev:
            _restore_mode(prev.pop())
        return super().__call__(func)

    def clone(self):
        mode = set_grad_enabled.__new__(set_grad_enabled)
        _GradMode.__init__(mode, self.enabled)
        return mode


@contextlib.contextmanager
def transform_mode():
    """What a torch.func transform (grad, vjp, jvp, jacrev, ...) runs its function under in this
    thread: grad mode on and inference mode off, whatever the caller's (torch's transforms give
    their gradients inside inference_mode() and no_grad() too); the caller's modes come back after."""
    prev = _state.grad, _state.asked, _state.inference
    _state.grad = _state.asked = True
    _state.inference = False
    try:
        yield
    finally:
        _state.grad, _state.asked, _state.inference = prev
