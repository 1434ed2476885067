"""Module hooks as torch.nn.Module's: forward pre-hooks and hooks (with_kwargs, prepend,
always_call), full backward hooks and pre-hooks, and the global hooks of every module
(torch.nn.modules.module.register_module_forward_hook and the others, below).

Hooks live in dicts Module.__init__ makes (torch's names), empty until one is registered:
    _forward_pre_hooks, _forward_hooks,
    _backward_pre_hooks, _backward_hooks        OrderedDict  handle id -> hook
    _forward_pre_hooks_with_kwargs, _forward_hooks_with_kwargs,
    _forward_hooks_always_called                OrderedDict  handle id -> True
    _call_hook_ids                              dict  handle id -> True, for each of the four kinds
The global hooks are in GLOBAL (the same names), and GLOBAL_HOOK_IDS has the id of each. So
Module.__call__ without hooks tests two dicts (_call_hook_ids, GLOBAL_HOOK_IDS) and calls
forward: cheaper than testing the four. (A hook put into _forward_hooks by hand, not by
register_forward_hook, is not seen.)

Backward hooks work as torch's BackwardHook (torch/utils/hooks.py): a call whose tensor
arguments require grad passes them through an identity node (_HookIdentity) before forward and
passes the top-level output tensors through another after it. The output node's backward sees
grad_output (the pre-hooks may replace it); the input node's backward, which runs later in the
sweep, calls hook(module, grad_input, grad_output), which may replace grad_input. grad_input has
one entry per positional argument (None where it is not a tensor that requires grad), grad_output
one per top-level output (None for a non-tensor, such as an LSTM's (h, c) tuple).
"""
from __future__ import annotations

import functools
import warnings
import weakref
from collections import OrderedDict

from tinygrad_seq.autograd import Function
from tinygrad_seq.grad_mode import _state
from tinygrad_seq.recompose import DIRECT
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.user_warning import warn_at_caller

# the dicts Module.__init__ makes for its hooks (handle id -> hook, or -> True for the flags)
HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks", "_forward_hooks_with_kwargs",
              "_forward_hooks_always_called", "_backward_pre_hooks", "_backward_hooks", "_state_dict_hooks",
              "_state_dict_pre_hooks", "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks",
              "_call_hook_ids")
CALL_HOOK_DICTS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks")

GLOBAL = {name: OrderedDict() for name in ("_forward_pre_hooks", "_forward_hooks", "_forward_hooks_with_kwargs",
                                           "_forward_hooks_always_called", "_backward_pre_hooks",
                                           "_backward_hooks")}
GLOBAL_HOOK_IDS = {}


class HookHandle:
    """What the register_*_hook methods return (torch's RemovableHandle): remove() takes the hook
    off, and its id out of the extra dicts (the with_kwargs / always_call flags); also a context
    manager."""
    _next_id = 0

    def __init__(self, hooks, hook=None, extra_dicts=()):
        self.hooks, self.id, self.extra_dicts = hooks, HookHandle._next_id, tuple(extra_dicts)
        HookHandle._next_id += 1
        if hook is not None:
            hooks[self.id] = hook

    def remove(self):
        self.hooks.pop(self.id, None)
        for extra in self.extra_dicts:
            extra.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class WrappedHook:
    """A hook called with its module first (torch's _WrappedHook): the module is held by a weak
    reference, so registering hook(module, ...) keeps no module alive (a cycle through the
    module's own hook dict would wait for the gc); pickled / deep-copied, it holds the module
    itself, so the copy's hook gets the copied module."""

    def __init__(self, hook, module=None):
        self.hook = hook
        functools.update_wrapper(self, hook)
        self.with_module = module is not None
        if self.with_module:
            self.module = weakref.ref(module)

    def __call__(self, *args, **kwargs):
        if self.with_module:
            module = self.module()
            if module is None:
                raise RuntimeError("You are trying to call the hook of a dead Module!")
            return self.hook(module, *args, **kwargs)
        return self.hook(*args, **kwargs)

    def __getstate__(self):
        state = {"hook": self.hook, "with_module": self.with_module}
        if self.with_module:
            state["module"] = self.module()
        return state

    def __setstate__(self, state):
        self.hook, self.with_module = state["hook"], state["with_module"]
        if self.with_module:
            if state["module"] is None:
                raise RuntimeError("You are trying to revive the hook of a dead Module!")
            self.module = weakref.ref(state["module"])


def _add(hooks, hook, prepend, flags, extra=()):
    """Register hook in `hooks` with its id set True in each of `flags`; also removed from extra."""
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    handle = HookHandle(hooks, hook, tuple(flags) + tuple(extra))
    for flag in flags:
        flag[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register(module, kind, hook, prepend=False, with_kwargs=False, always_call=False):
    """Add hook to module's `kind` hooks (_forward_pre_hooks, _forward_hooks, _backward_pre_hooks
    or _backward_hooks)."""
    d = module.__dict__
    flags = [d["_call_hook_ids"]]
    if with_kwargs:
        flags.append(d[kind + "_with_kwargs"])
    if always_call:
        flags.append(d["_forward_hooks_always_called"])
    return _add(d[kind], hook, prepend, flags)


def register_module_forward_pre_hook(hook):
    """hook(module, args) before the forward of every module (before the module's own
    pre-hooks); a returned value replaces args."""
    return _add(GLOBAL["_forward_pre_hooks"], hook, False, [GLOBAL_HOOK_IDS])


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """hook(module, args, output) (with_kwargs: hook(module, args, kwargs, output)) after the
    forward of every module, before the module's own hooks; a returned value replaces the output."""
    flags = [GLOBAL_HOOK_IDS] + ([GLOBAL["_forward_hooks_with_kwargs"]] if with_kwargs else []) \
        + ([GLOBAL["_forward_hooks_always_called"]] if always_call else [])
    return _add(GLOBAL["_forward_hooks"], hook, False, flags)


def register_module_full_backward_pre_hook(hook):
    """hook(module, grad_output) for every module, before the module's own backward pre-hooks."""
    return _add(GLOBAL["_backward_pre_hooks"], hook, False, [GLOBAL_HOOK_IDS])


def register_module_full_backward_hook(hook):
    """hook(module, grad_input, grad_output) for every module, before the module's own backward
    hooks."""
    return _add(GLOBAL["_backward_hooks"], hook, False, [GLOBAL_HOOK_IDS])


def _hooks(d, name):
    """The global hooks of that name, then the module's, as (id, hook) pairs."""
    g = GLOBAL[name]
    return list(g.items()) + list(d[name].items()) if g else list(d[name].items())


def call(module, args, kwargs):
    """module(*args, **kwargs) with its hooks (and the global ones), in torch's order: forward
    pre-hooks, the backward hooks' input node, forward, forward hooks, the backward hooks' output
    node. An exception in any of them runs the always_call forward hooks not yet run (torch's
    _call_impl), with output None, then propagates."""
    d = module.__dict__
    hooks = _hooks(d, "_forward_hooks")
    with_kwargs = (d["_forward_hooks_with_kwargs"], GLOBAL["_forward_hooks_with_kwargs"])
    always = (d["_forward_hooks_always_called"], GLOBAL["_forward_hooks_always_called"])
    called_always = set()
    out = None
    try:
        args, kwargs = _run_forward_pre_hooks(module, d, args, kwargs)
        bw = None
        has_backward_hooks = bool(d["_backward_hooks"] or d["_backward_pre_hooks"] or GLOBAL["_backward_hooks"]
                                  or GLOBAL["_backward_pre_hooks"])
        if has_backward_hooks and _state.grad:
            bw = _BackwardHookCall(module)
            args = bw.wrap_inputs(args)
        out = module.forward(*args, **kwargs)
        for hid, hook in hooks:
            if hid in always[0] or hid in always[1]:
                called_always.add(hid)
            new = _run_forward_hook(hook, hid in with_kwargs[0] or hid in with_kwargs[1], module, args, kwargs, out)
            if new is not None:
                out = new
    except Exception:
        for hid, hook in hooks:
            if (hid in always[0] or hid in always[1]) and hid not in called_always:
                try:
                    new = _run_forward_hook(hook, hid in with_kwargs[0] or hid in with_kwargs[1], module, args,
                                            kwargs, out)
                    if new is not None:
                        out = new
                except Exception as e:   # torch's: the first error is the one raised
                    warnings.warn("module forward hook with ``always_call=True`` raised an exception that "
                                  f"was silenced as another error was raised in forward: {e}", stacklevel=3)
        raise
    if has_backward_hooks and not isinstance(out, (Tensor, tuple)):   # a dict, a list: no node to hook
        warnings.warn("For backward hooks to be called, module output should be a Tensor or a tuple of Tensors"
                      f" but received {type(out)}", stacklevel=3)
    if bw is not None:
        out = bw.wrap_outputs(out)
    return out


def _run_forward_pre_hooks(module, d, args, kwargs):
    """The forward pre-hooks, global then the module's: each may replace args (and kwargs)."""
    pre_with_kwargs = d["_forward_pre_hooks_with_kwargs"]
    for hid, hook in _hooks(d, "_forward_pre_hooks"):
        if hid in pre_with_kwargs:     # hook(module, args, kwargs) -> None or (args, kwargs)
            new = hook(module, args, kwargs)
            if new is not None:
                if not (isinstance(new, tuple) and len(new) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {new}.")
                args, kwargs = new
        else:                      # hook(module, args) -> None, a tuple, or one value
            new = hook(module, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
    return args, kwargs


def _run_forward_hook(hook, with_kwargs, module, args, kwargs, out):
    if with_kwargs:
        return hook(module, args, kwargs, out)
    return hook(module, args, out)


class _HookIdentity(Function):
    """Identity on the tensors given (one output per input); its backward hands the arriving
    gradients to a _BackwardHookCall, which may replace them."""

    @staticmethod
    def forward(ctx, *arrays, on_backward):
        ctx.on_backward = on_backward
        return arrays if len(arrays) > 1 else arrays[0]

    @staticmethod
    def backward(ctx, *grads):
        out = ctx.on_backward(ctx, grads)
        return out if len(out) > 1 else out[0]


class _BackwardHookCall:
    """One call of a module with backward hooks (torch's BackwardHook)."""

    def __init__(self, module):
        d = module.__dict__
        self.module = module
        self.hooks = [h for _, h in _hooks(d, "_backward_hooks")]
        self.pre_hooks = [h for _, h in _hooks(d, "_backward_pre_hooks")]
        self.grad_outputs = None
        self.n_inputs, self.input_index = 0, None
        self.n_outputs, self.output_index = 0, None
        self.graph = False   # in a create_graph backward: gradients are Tensors with graphs (graph_backward)

    @staticmethod
    def _through_identity(values, on_backward):
        """values with its tensors requiring grad replaced by identity outputs -> (values, the
        positions replaced), or (values, None) when none requires grad."""
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
        if not index:
            return values, None
        new = _HookIdentity.apply(*[values[i] for i in index], on_backward=on_backward)
        new = new if isinstance(new, tuple) else (new,)
        values = list(values)
        for i, t in zip(index, new):
            values[i] = t
        return values, index

    def wrap_inputs(self, args):
        self.n_inputs = len(args)
        values, self.input_index = self._through_identity(args, self._input_grads)
        # torch passes every tensor argument through its identity node once one requires grad,
        # and its grad_input holds zeros for those that do not
        self.zero_inputs = () if self.input_index is None else tuple(
            (i, a) for i, a in enumerate(args) if isinstance(a, Tensor) and i not in self.input_index)
        return tuple(values)

    def wrap_outputs(self, out):
        single = not isinstance(out, tuple)
        values = (out,) if single else out
        self.n_outputs = len(values)
        new, self.output_index = self._through_identity(values, self._output_grads)
        if self.output_index is None:
            return out
        if single:
            return new[0]
        return tuple(new) if type(out) is tuple else type(out)(*new)

    def _pack(self, index, grads, n, device):
        """Gradient arrays at the positions in index -> a tuple of n (Tensor or None)."""
        res = [None] * n
        for i, g in zip(index or (), grads):
            res[i] = None if g is None else g if isinstance(g, Tensor) else Tensor._wrap(g, device)
        return tuple(res)

    def _unpack(self, index, values, what):
        arrays = []
        for i in index:
            v = values[i]
            if v is not None and not isinstance(v, Tensor):
                raise TypeError(f"backward hook returned a {type(v).__name__} in {what}[{i}]; "
                                f"expected a Tensor or None")
            arrays.append(None if v is None else v if self.graph else v.array)
        return tuple(arrays)

    def _output_grads(self, node, grads):
        """The output node's backward: grad_output for the pre-hooks (and for the hooks, when no
        input requires grad, as torch's)."""
        grad_outputs = self._pack(self.output_index, grads, self.n_outputs, node.device)
        for hook in self.pre_hooks:
            new = hook(self.module, grad_outputs)
            if new is None:
                continue
            new = new if isinstance(new, tuple) else (new,)
            if len(new) != len(grad_outputs):
                raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(new)}, but expected {len(grad_outputs)}")
            grad_outputs = new
        if self.input_index is None:
            warn_at_caller("Full backward hook is firing when gradients are computed with respect to module "
                           "outputs since no inputs require gradients. See https://docs.pytorch.org/docs/main/"
                           "generated/torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more "
                           "details.")
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, grad_inputs, grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient "
                                       "should always return None or None for all gradients.")
        else:
            self.grad_outputs = grad_outputs
        return self._unpack(self.output_index, grad_outputs, "grad_output")

    def _input_grads(self, node, grads):
        """The input node's backward: hook(module, grad_input, grad_output) for each hook."""
        if self.grad_outputs is None:   # the gradient reached the inputs without the outputs
            return grads
        # an input whose gradient did not arrive gets zeros, as torch's identity node materializes
        # them (so such an input's .grad becomes zeros, as torch's)
        grads = [g if g is not None else node.b.zeros(p.shape, p.dtype) for g, p in zip(grads, node.parents)]
        res = list(self._pack(self.input_index, grads, self.n_inputs, node.device))
        for i, a in self.zero_inputs:
            res[i] = Tensor._wrap(node.b.zeros(a.shape, a.dtype), node.device)
        res = tuple(res)
        for hook in self.hooks:
            new = hook(self.module, res, self.grad_outputs)
            if new is None:
                continue
            new = new if isinstance(new, tuple) else (new,)
            if len(new) != len(res):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                   f"got {len(new)}, but expected {len(res)}")
            res = new
        self.grad_outputs = None
        return self._unpack(self.input_index, res, "grad_input")


def _hook_identity_graph_backward(ctx, ps, grads):
    """create_graph=True through a module's backward hooks (a gradient penalty on a hooked
    model): the hooks see, and may replace, gradients that carry their graphs, as torch's
    BackwardHook nodes pass them on differentiably."""
    call = ctx.on_backward.__self__
    call.graph = True
    try:
        return tuple(ctx.on_backward(ctx, grads))
    finally:
        call.graph = False


DIRECT[_HookIdentity] = _hook_identity_graph_backward
