"""torch.optim's hooks: step pre/post hooks (per optimizer and global), state_dict and
load_state_dict pre/post hooks, each registration returning a handle with remove().

Every step() an Optimizer class defines (ours, LBFGS's, a subclass of yours) is wrapped once,
when the class is created, as torch's profile_hook_step wraps it: hook(optimizer, args, kwargs)
sees the call's arguments, self first; a pre-hook may return (new_args, new_kwargs). With no
hook registered the wrapper costs four dict truth tests and one call.
"""
import functools
from collections import OrderedDict
from itertools import chain

from tinygrad_seq.nn.module_hooks import HookHandle

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()

# per-optimizer hook tables, created empty in __init__ (and again after unpickling: torch does
# not save hooks)
HOOK_TABLES = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
               "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
               "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks")


def register_optimizer_step_pre_hook(hook):
    """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), before every optimizer's step."""
    return HookHandle(_global_optimizer_pre_hooks, _callable(hook))


def register_optimizer_step_post_hook(hook):
    """hook(optimizer, args, kwargs) -> None, after every optimizer's step."""
    return HookHandle(_global_optimizer_post_hooks, _callable(hook))


def _callable(hook):
    if not callable(hook):
        raise TypeError(f"optimizer hook must be callable, got {type(hook).__name__}")
    return hook


def with_step_hooks(step):
    """step wrapped to run the step hooks around it (torch's Optimizer.profile_hook_step)."""
    if getattr(step, "hooked", False):
        return step

    @functools.wraps(step)
    def hooked_step(*args, **kwargs):
        self = args[0]
        if not (self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                or _global_optimizer_pre_hooks or _global_optimizer_post_hooks):
            return step(*args, **kwargs)
        return _run_step_hooks(step, self, args, kwargs)
    hooked_step.hooked = True
    return hooked_step


def _run_step_hooks(step, self, args, kwargs):
    if self.__dict__.get("_in_hooked_step"):   # super().step() inside a hooked step: hooks ran already
        return step(*args, **kwargs)
    # copies: a hook may remove itself (a scheduler's first-step tracker does)
    for pre_hook in list(chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values())):
        result = pre_hook(self, args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), "
                                   f"but got {result}.")
            args, kwargs = result
    self._in_hooked_step = True
    try:
        out = step(*args, **kwargs)
    finally:
        self._in_hooked_step = False
    for post_hook in list(chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values())):
        post_hook(self, args, kwargs)
    return out


def _register(table, hook, prepend):
    handle = HookHandle(table, _callable(hook))
    if prepend:
        table.move_to_end(handle.id, last=False)
    return handle


class OptimizerHooks:
    """The register_* methods of torch.optim.Optimizer (mixed into Optimizer)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = with_step_hooks(cls.__dict__["step"])

    def _init_hooks(self):
        for name in HOOK_TABLES:
            setattr(self, name, OrderedDict())

    def __getstate__(self):
        # hooks are not saved (torch's rule): functions of the program that registered them; nor
        # a scheduler's wrapper of step and its first-step flag (torch saves neither)
        return {k: v for k, v in self.__dict__.items()
                if k not in HOOK_TABLES and k not in ("_in_hooked_step", "_opt_called")
                and not (k == "step" and hasattr(v, "_wrapped_by_lr_sched"))}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._init_hooks()

    def register_step_pre_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), before step()."""
        return HookHandle(self._optimizer_step_pre_hooks, _callable(hook))

    def register_step_post_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None, after step()."""
        return HookHandle(self._optimizer_step_post_hooks, _callable(hook))

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """hook(optimizer) -> None, before state_dict() builds the dict."""
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """hook(optimizer, state_dict) -> None or a state dict that replaces it."""
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """hook(optimizer, state_dict) -> None or the state dict to load instead (it gets a
        shallow copy of the one passed)."""
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """hook(optimizer) -> None, after load_state_dict()."""
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def _state_dict_with_hooks(self, build):
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        state_dict = build()
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _load_state_dict_with_hooks(self, state_dict, load):
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        load(state_dict)
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)


class _RequiredParameter:
    """torch.optim.optimizer.required: the default of an option a custom optimizer's caller must
    give (`def __init__(self, params, lr=required)`, the older torch recipe)."""
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()
