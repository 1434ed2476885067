"""L-BFGS: PyTorch's algorithm (after minFunc), with its optional strong-Wolfe line search.

The state is flat vectors over all parameters in order (every parameter on "cpu", one group, as
torch requires), kept under the first parameter with torch's keys and types (Tensors, lists of
them, numbers); each step computes on their numpy arrays. step(closure) re-evaluates the loss as often as the search needs.
The arithmetic follows torch's step for step (scalars in the parameters' dtype), so a run
matches torch's to rounding. pytorch/examples' time-sequence LSTM trains with it.
"""
import numpy as np

from tinygrad_seq.autograd import enable_grad, no_grad
from tinygrad_seq.optim.optimizer import Optimizer, _to_numpy, check_lr, group_numbers
from tinygrad_seq.tensor import Tensor


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimum of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to bounds (or to
    [x1, x2]); the midpoint when the cubic has none."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, lo), hi)
    return (lo + hi) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Line search along d from step t satisfying the strong Wolfe conditions: a bracketing
    phase, then zooming by cubic interpolation -> (f, g, t, evaluations)."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    evals, gtd_new = 1, g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done, ls_iter = False, 0
    bracket = bracket_f = bracket_g = bracket_gtd = None
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g, done = [t], [f_new], [g_new], True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # extrapolate between 1.01 t and 10 t
        previous = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = previous, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        evals, gtd_new, ls_iter = evals + 1, g_new.dot(d), ls_iter + 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the conditions
    insuf_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # keep t off the bracket's ends (insufficient progress otherwise)
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        evals, gtd_new, ls_iter = evals + 1, g_new.dot(d), ls_iter + 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new.copy(), gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new.copy(), gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    """torch.optim.LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
    tolerance_change=1e-9, history_size=100, line_search_fn=None): step(closure) runs up to
    max_iter iterations, the closure re-evaluating loss and gradients."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        check_lr(lr)
        max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        for p in self._params:
            if p.device != "cpu":
                raise NotImplementedError("LBFGS runs on cpu parameters; move the model with .cpu()")

    def _flat_grad(self):
        return np.concatenate([np.zeros(p.numel(), p.dtype) if p.grad is None else p.grad.array.reshape(-1)
                               for p in self._params])

    def _add_grad(self, step, update):
        offset = 0
        for p in self._params:
            n = p.numel()
            p.array += (update[offset:offset + n] * step).reshape(p.shape).astype(p.dtype, copy=False)
            p._version += 1
            offset += n

    def _set_params(self, arrays):
        for p, a in zip(self._params, arrays):
            p.array[...] = a
            p._version += 1

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._flat_grad()
        self._set_params(x)
        return loss, flat_grad

    def step(self, closure):
        group = group_numbers(self.param_groups[0])   # Tensor options as their numbers
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        def evaluate():
            with enable_grad():
                return closure()

        with no_grad():
            state = self.state[self._params[0]]
            state.setdefault("func_evals", 0)
            state.setdefault("n_iter", 0)
            orig_loss = evaluate()
            loss = float(orig_loss)
            current_evals = 1
            state["func_evals"] += 1
            flat_grad = self._flat_grad()
            if np.abs(flat_grad).max() <= tolerance_grad:
                return orig_loss
            # the state holds Tensors (torch's); the iteration computes on their numpy arrays
            d, t = _as_arrays(state.get("d")), _as_arrays(state.get("t"))
            old_dirs, old_stps, ro = (_as_arrays(state.get(k)) for k in ("old_dirs", "old_stps", "ro"))
            H_diag, prev_flat_grad = _as_arrays(state.get("H_diag")), _as_arrays(state.get("prev_flat_grad"))
            prev_loss, al = state.get("prev_loss"), _as_arrays(state.get("al"))
            n_iter = 0
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:
                    d, old_dirs, old_stps, ro, H_diag = -flat_grad, [], [], [], 1
                else:
                    # the L-BFGS update of the inverse Hessian, applied by the two-loop recursion
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = y.dot(s)
                    if ys > 1e-10:
                        if len(old_dirs) == history_size:
                            old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                        old_dirs.append(y)
                        old_stps.append(s)
                        ro.append(1.0 / ys)
                        H_diag = ys / y.dot(y)
                    if al is None:
                        al = [None] * history_size
                    q = -flat_grad
                    for i in range(len(old_dirs) - 1, -1, -1):
                        al[i] = old_stps[i].dot(q) * ro[i]
                        q = q - old_dirs[i] * al[i]
                    d = r = q * H_diag
                    for i in range(len(old_dirs)):
                        be_i = old_dirs[i].dot(r) * ro[i]
                        r += old_stps[i] * (al[i] - be_i)
                prev_flat_grad = flat_grad.copy()
                prev_loss = loss
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
                gtd = flat_grad.dot(d)
                if gtd > -tolerance_change:   # not a descent direction
                    break
                if line_search_fn is not None:
                    if line_search_fn != "strong_wolfe":   # torch's check, at the step
                        raise RuntimeError("only 'strong_wolfe' is supported")
                    x_init = [p.array.copy() for p in self._params]
                    loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                        lambda x, step, direction: self._directional_evaluate(evaluate, x, step, direction),
                        x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                    self._add_grad(t, d)
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                else:
                    self._add_grad(t, d)   # a fixed step; the loss is re-evaluated unless this was the last
                    ls_func_evals, opt_cond = 0, False
                    if n_iter != max_iter:
                        loss = float(evaluate())
                        flat_grad = self._flat_grad()
                        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                        ls_func_evals = 1
                current_evals += ls_func_evals
                state["func_evals"] += ls_func_evals
                if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                    break
                if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                    break
            # t stays a number where torch's is one (lr) and becomes a 0-d tensor where torch
            # computed it from tensors (a numpy scalar here)
            prev_loss = float(prev_loss) if isinstance(prev_loss, np.generic) else prev_loss
            if al is not None:
                state["al"] = _as_tensors(al)
            state.update(d=_as_tensors(d), t=_as_tensors(t), old_dirs=_as_tensors(old_dirs),
                         old_stps=_as_tensors(old_stps), ro=_as_tensors(ro), H_diag=_as_tensors(H_diag),
                         prev_flat_grad=_as_tensors(prev_flat_grad), prev_loss=prev_loss)
        return orig_loss

    def _load_state_dict(self, state_dict):
        """Ours (also through ts.save / ts.load) or a torch LBFGS's state_dict(); the counters
        come back as ints and prev_loss as a number (old checkpoints saved them as arrays)."""
        super()._load_state_dict(state_dict)
        entry = self.state.get(self._params[0])
        for k in ("func_evals", "n_iter", "prev_loss"):
            v = entry.get(k) if entry else None
            if v is not None and not isinstance(v, (int, float)):
                v = _to_numpy(v).reshape(()).item()
                entry[k] = int(v) if k in ("func_evals", "n_iter") else v


def _as_arrays(v):
    """A state value as step() computes with it: Tensors as their numpy arrays (shared), lists
    element by element."""
    if isinstance(v, list):
        return [_as_arrays(a) for a in v]
    return v.numpy() if isinstance(v, Tensor) else v


def _as_tensors(v):
    """A value step() computed as torch keeps it in the state: arrays and numpy scalars as
    Tensors (sharing the arrays), lists element by element, numbers and None as they are."""
    if isinstance(v, list):
        return [_as_tensors(a) for a in v]
    if isinstance(v, np.ndarray):
        return Tensor._wrap(v, "cpu")
    if isinstance(v, np.generic):
        return Tensor._wrap(np.array(v), "cpu")
    return v
