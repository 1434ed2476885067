"""SGD(differentiable=True): torch's update written with Tensor ops under grad mode, so that the
new parameters keep a graph back to the old ones and their gradients (meta-learning through an
optimizer step: the parameters are then non-leaf tensors, w * 1.0 or a previous step's result).
torch's _single_tensor_sgd, op by op; the momentum buffer starts as a detached clone of the
first step's direction, as torch's."""
from tinygrad_seq.autograd import enable_grad


def differentiable_sgd_step(optimizer, closure=None):
    loss = None
    with enable_grad():
        if closure is not None:
            loss = closure()
        for group in optimizer.param_groups:
            lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                if momentum != 0:
                    state = optimizer.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = grad.clone().detach()
                    else:
                        buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
                    grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
                p.add_(grad, alpha=-lr)
    return loss
