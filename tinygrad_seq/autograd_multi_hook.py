"""torch.autograd.graph.register_multi_grad_hook: one hook over several tensors' gradients, by
a Tensor.register_hook on each. mode "all": fn(grads) once per backward that reaches any of them,
grads (a list) in the tensors' order (None for one the backward did not reach), called when the
backward has run its nodes (autograd.queue_callback; torch's calls it as the last awaited
gradient arrives: the values are the same); mode "any": fn(grad) with the first of them to
arrive in each backward."""

from tinygrad_seq import autograd


class _MultiHandle:
    """What register_multi_grad_hook returns: remove() takes the hook off every tensor."""

    def __init__(self, handles):
        self.handles = tuple(handles)

    def remove(self):
        for handle in self.handles:
            handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    if mode == "all" and not all(t.requires_grad for t in tensors):
        raise AssertionError("Expected gradient function to be set")   # torch's, for a tensor outside autograd
    grads, waiting = [None] * len(tensors), [False]

    def finish():
        waiting[0] = False
        given = list(grads)   # a list, as torch's buffer
        grads[:] = [None] * len(tensors)
        fn(given)

    def hook_for(i):
        def hook(grad):
            if mode == "any":
                if not waiting[0]:   # the first of them in this backward
                    waiting[0] = True
                    autograd.queue_callback(lambda: waiting.__setitem__(0, False))
                    fn(grad)
                return None
            if not waiting[0]:
                waiting[0] = True
                autograd.queue_callback(finish)
            grads[i] = grad
            return None
        return hook

    return _MultiHandle(t.register_hook(hook_for(i)) for i, t in enumerate(tensors) if t.requires_grad)
