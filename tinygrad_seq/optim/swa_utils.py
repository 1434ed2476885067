"""torch.optim.swa_utils: AveragedModel (stochastic weight averaging, or an exponential moving
average with get_ema_multi_avg_fn / get_ema_avg_fn), the averaging functions, SWALR and
update_bn, as torch's:
the copy's parameters start as the model's and are then averaged in place on every
update_parameters(model); n_averaged counts the updates and is saved in the state dict."""
import copy
import itertools
import math

import numpy as np

from tinygrad_seq import dtypes as _dtypes
from tinygrad_seq import foreach_ops as _fe
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.nn.module import Module
from tinygrad_seq.optim.lr_scheduler import LRScheduler, _format_param, _warn_get_lr_called_within_step
from tinygrad_seq.tensor import Tensor


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    _check_decay(decay)

    def ema_update(ema_params, current_params, num_averaged):
        # a lerp for floating lists (torch's foreach lerp takes no others); an integer list (a
        # BatchNorm's num_batches_tracked) as decay e + (1 - decay) c, truncated back by copy_
        if _is_floating(ema_params[0]):
            _fe._foreach_lerp_(ema_params, current_params, 1 - decay)
        else:
            for e, c in zip(ema_params, current_params):
                e.copy_(e * decay + c * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    def swa_update(averaged_params, current_params, num_averaged):
        if _is_floating(averaged_params[0]):
            _fe._foreach_lerp_(averaged_params, current_params, _swa_weight(num_averaged))
            return
        # an integer list as torch's: a + (c - a) / (n + 1) by addcdiv (which refuses integers
        # for a Tensor n, as torch's), or an add with the float weight for a number n
        diffs = _fe._foreach_sub(current_params, averaged_params)
        if isinstance(num_averaged, Tensor):
            _fe._foreach_addcdiv_(averaged_params, diffs, [num_averaged + 1] * len(averaged_params))
        else:
            _fe._foreach_add_(averaged_params, diffs, alpha=1.0 / (num_averaged + 1))
    return swa_update


def _is_floating(t):
    return t.dtype.kind in "fc"


def _swa_weight(num_averaged):
    """1 / (n + 1) as torch computes it: for a Tensor n, an integer tensor division, so a 0-d
    tensor of the default dtype (float32 rounding) whose number the lerp then takes."""
    if isinstance(num_averaged, Tensor):
        real = np.dtype(_dtypes.get_default_dtype()).type
        return float(real(1) / real(int(num_averaged.item()) + 1))
    return 1 / (num_averaged + 1)


def get_ema_avg_fn(decay=0.999):
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", Tensor(np.array(0, np.int64)))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Average model's parameters (and its buffers too with use_buffers, integer ones
        included, as torch's) into the copy: the first call copies them; later ones apply avg_fn
        one tensor at a time, or multi_avg_fn to each list of one device and dtype, or by default
        torch's SWA mean, on CPU a + (p - a) / (n + 1) in the tensor's dtype (an integer buffer's
        mean truncated back by copy_), on "cuda" the lerp of get_swa_multi_avg_fn."""
        mine = (list(itertools.chain(self.module.parameters(), self.module.buffers())) if self.use_buffers
                else list(self.module.parameters()))
        theirs = (list(itertools.chain(model.parameters(), model.buffers())) if self.use_buffers
                  else list(model.parameters()))
        with no_grad():
            averaged = [a.detach() for a in mine]   # share the copy's memory, as torch's
            current = [p.detach().to(a.device) for a, p in zip(mine, theirs)]
            if int(self.n_averaged.item()) == 0:
                for a, p in zip(averaged, current):
                    a.copy_(p)
            elif self.avg_fn is not None and self.multi_avg_fn is None:
                for a, p in zip(averaged, current):
                    a.copy_(self.avg_fn(a, p, self.n_averaged.to(a.device)))
            else:
                for (device, _), (avgs, curs) in _by_device_and_dtype(averaged, current).items():
                    n = self.n_averaged.to(device)
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(avgs, curs, n)
                    elif device.type == "cuda":   # torch's foreach devices
                        get_swa_multi_avg_fn()(avgs, curs, n)
                    else:
                        swa = get_swa_avg_fn()
                        for a, p in zip(avgs, curs):
                            a.copy_(swa(a, p, n))
            if not self.use_buffers:   # buffers follow the model (torch's)
                for b, m in zip(self.module.buffers(), model.buffers()):
                    b.copy_(m.detach().to(b.device))
            self.n_averaged.add_(1)


def _by_device_and_dtype(averaged, current):
    """{(device, dtype): ([averaged...], [current...])} in order of first appearance (torch's
    _group_tensors_by_device_and_dtype, keyed by the averaged tensors)."""
    groups = {}
    for a, p in zip(averaged, current):
        avgs, curs = groups.setdefault((a.device, a.dtype), ([], []))
        avgs.append(a)
        curs.append(p)
    return groups


def update_bn(loader, model, device=None):
    """Recompute the BatchNorm running statistics of model (an AveragedModel's weights) with one
    pass over loader, as a cumulative average (torch's)."""
    from tinygrad_seq.nn.batchnorm import _BatchNorm
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to its swa_lr over anneal_epochs (cos or linear), then hold it."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)   # a Tensor cloned per group, as torch's
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self._anneal_strategy = anneal_strategy   # a name, so state_dict() stays saveable
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t):
        return _cos_anneal(t) if self._anneal_strategy == "cos" else _linear_anneal(t)

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(self.optimizer.param_groups, prev_lrs)]


def _cos_anneal(t):
    return (1 - math.cos(math.pi * t)) / 2


def _linear_anneal(t):
    return t
