"""torch.optim.swa_utils: AveragedModel (stochastic weight averaging, or an exponential moving
average with get_ema_multi_avg_fn / get_ema_avg_fn) and the averaging functions, as torch's:
the copy's parameters start as the model's and are then averaged in place on every
update_parameters(model); n_averaged counts the updates and is saved in the state dict."""
import copy
import itertools

import numpy as np

from tinygrad_seq import functions_more as _fe
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.nn.module import Module
from tinygrad_seq.tensor import Tensor


def get_ema_multi_avg_fn(decay=0.999):
    def ema_update(ema_params, current_params, num_averaged):
        _fe._foreach_lerp_(ema_params, current_params, 1 - decay)
    return ema_update


def get_swa_multi_avg_fn():
    def swa_update(averaged_params, current_params, num_averaged):
        _fe._foreach_lerp_(averaged_params, current_params, 1 / (float(num_averaged.item()) + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
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
        mine = (list(itertools.chain(self.module.parameters(), self.module.buffers())) if self.use_buffers
                else list(self.module.parameters()))
        theirs = (list(itertools.chain(model.parameters(), model.buffers())) if self.use_buffers
                  else list(model.parameters()))
        with no_grad():
            current = [p.detach().to(a.device) for a, p in zip(mine, theirs)]
            if int(self.n_averaged.item()) == 0:
                for a, p in zip(mine, current):
                    a.copy_(p)
            elif self.avg_fn is not None:
                for a, p in zip(mine, current):
                    a.copy_(self.avg_fn(a.detach(), p, self.n_averaged))
            else:
                (self.multi_avg_fn or get_swa_multi_avg_fn())(
                    [a for a in mine if a.dtype.kind == "f"], [p for p in current if p.dtype.kind == "f"],
                    self.n_averaged)
            if not self.use_buffers:   # buffers follow the model (torch's)
                for b, m in zip(self.module.buffers(), model.buffers()):
                    b.copy_(m.detach().to(b.device))
            self.n_averaged.add_(1)
