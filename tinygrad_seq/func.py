"""torch.func: functorch's transforms (grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian,
vmap) and functional_call / stack_module_state, over the engine's create_graph=True autograd
(higher_order.py).

A transform runs func on its own copies of the differentiated inputs (func_lifting.py): a fresh
leaf that requires grad over the input's data, or, when the input requires grad itself (an outer
transform's input, a model's parameter) and grad mode is on, a view of it, so that the results'
graphs reach it. It runs with grad mode on and outside inference mode, whatever the caller's
(grad_mode.transform_mode), as torch's transforms do. Every gradient is taken with
create_graph=True, so transforms nest (grad(grad(f)), jacrev(jacrev), vmap(grad(f))). A result
keeps its graph only when that graph reaches a tensor requiring grad outside the transform
(torch's "lifting" to the outer level); one that depends on the copies alone comes back
detached, as torch's does.

jvp and jacfwd are computed in reverse mode (jvp by the double-backward trick, jacfwd as jacrev):
torch's values, shapes and pytree structures, at reverse mode's cost. vmap is a loop
(func_vmap.py)."""
import functools

from tinygrad_seq import autograd
from tinygrad_seq.autograd_api import grad as _autograd_grad
from tinygrad_seq.func_lifting import (Lifted, _tensor, checked_aux, only_tensors, outer_records, own_ids,
                                       split_aux, tensor_outputs, unlifted)
from tinygrad_seq.func_vmap import RANDOMNESS, tree_flatten, tree_map, tree_unflatten, vmap  # noqa: F401
from tinygrad_seq.grad_mode import _state, transform_mode


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """torch.func.functional_call: module called with the given tensors in place of its parameters
    and buffers (by dotted name; a dict or a sequence of dicts with distinct keys; names not given
    keep the module's own). The module's own tensors are back in place afterwards, also after an
    exception; gradients flow to the given tensors."""
    if isinstance(parameter_and_buffer_dicts, dict):
        parameters_and_buffers = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        seen, repeated = set(), []
        for d in parameter_and_buffer_dicts:
            for k in d:
                if k in seen and k not in repeated:
                    repeated.append(k)
                seen.add(k)
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        parameters_and_buffers = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    from tinygrad_seq.nn.utils.stateless import _functional_call
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)


def stack_module_state(models):
    """(params, buffers): each name's tensors of the models stacked on a new leading dim (the
    models must be of one class and in one training mode). Stacked parameters are new leaves
    that require grad (ready for an optimizer), unrelated to the models' own."""
    from tinygrad_seq.functions import stack
    models = list(models)
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked_leaf(tensors, name):
        wants = [t.requires_grad for t in tensors]
        if any(wants) and not all(wants):
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        with autograd.no_grad():
            result = stack(tensors)
        return result.requires_grad_() if all(wants) else result

    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: stacked_leaf([p[k] for p in all_params], k) for k in all_params[0]}
    buffers = {k: stacked_leaf([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers


# ---------------------------------------------------------------- grad, vjp, jvp
def grad_and_value(func, argnums=0, has_aux=False):
    """torch.func.grad_and_value: f's gradient with respect to args[argnums] (the pytree of that
    argument, or a tuple of them for a tuple argnums) and f's value: (grad, value), or
    (grad, (value, aux)) with has_aux. f must return a 0-dim Tensor."""
    who = "grad_and_value(f)(*args)"

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        outer_grad = outer_records()
        with transform_mode():
            lifted = Lifted(args, argnums, outer_grad)
            out, aux = split_aux(func(*lifted.args, **kwargs), has_aux, who)
            if not isinstance(out, _tensor()):
                raise RuntimeError(f"{who}: Expected f(*args) to return a Tensor, got {type(out)}")
            if out.ndim != 0:
                raise RuntimeError(f"{who}: Expected f(*args) to return a scalar Tensor, got tensor with "
                                   f"{out.ndim} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            grads = lifted.gradients([out], [None], outer_grad)
            value = unlifted(out, lifted.own, outer_grad)
            if has_aux:
                return grads, (value, checked_aux(aux, lifted.own, outer_grad))
            return grads, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """torch.func.grad: the function computing f's gradient with respect to args[argnums]; with
    has_aux, (grad, aux)."""
    with_value = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = with_value(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return wrapper


def vjp(func, *primals, has_aux=False):
    """torch.func.vjp: (f(*primals), vjp_fn) or (output, vjp_fn, aux). vjp_fn(cotangents), with
    cotangents shaped as the output pytree, returns a tuple with one gradient per primal (each
    shaped as its primal's pytree); it may be called many times. A primal that requires grad is
    differentiated through even when vjp is called under no_grad, so that vjp_fn called where grad
    mode is on gives gradients with a graph to it, as torch's."""
    who = "vjp(f, *primals)"
    outer_grad = outer_records()
    with transform_mode():
        lifted = Lifted(primals, tuple(range(len(primals))), not _state.inference) if primals else None
        out, aux = split_aux(func(*(lifted.args if primals else ())), has_aux, who)
        flat, spec = tensor_outputs(out, who)
    own = lifted.own if lifted else set()

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):
        cots, cot_spec = tree_flatten(cotangents)
        if cot_spec != spec:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure of outputs "
                               f"to the function. cotangents: {cot_spec}, primal output: {spec}")
        for k, (c, o) in enumerate(zip(cots, flat)):
            if not isinstance(c, _tensor()):
                raise RuntimeError(f"Expected tensors, got unsupported type {type(c)}")
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{k}] has a shape of torch.Size({list(c.shape)}) "
                                   f"and output[{k}] has a shape of torch.Size({list(o.shape)}).")
        if lifted is None:
            return ()
        call_grad = outer_records()
        with transform_mode():
            return tuple(lifted.gradients(flat, cots, call_grad))

    output = tree_unflatten([unlifted(o, own, outer_grad) for o in flat], spec)
    if has_aux:
        return output, vjp_fn, checked_aux(aux, own, outer_grad)
    return output, vjp_fn


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """torch.func.jvp: (f(*primals), J @ tangents) (or with aux) for tuples primals / tangents of
    one structure. Computed in reverse mode: J v as the derivative of u -> <J^T u, v> (the
    double-backward trick), one create_graph backward and one more backward. f may write its
    primals in place (torch's forward mode allows it): the writes reach the caller's tensors."""
    who = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{who}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{who}: Expected primals and tangents to have the same python structure. For example, if "
                           f"primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{p_spec} and tangents with structure {t_spec}")
    only_tensors(flat_p, who, "primals")
    only_tensors(flat_t, who, "tangents")
    for p, t in zip(flat_p, flat_t):
        if tuple(t.shape) != tuple(p.shape):
            raise RuntimeError(f"Trying to set a forward gradient that has a different size than that of the original "
                               f"Tensor, this is not supported. Tensor is of size {list(p.shape)} while the given "
                               f"forward gradient is of size {list(t.shape)}.")
    outer_grad = outer_records()
    with transform_mode():
        lifted = Lifted(primals, tuple(range(len(primals))), outer_grad, forward=True)
        out, aux = split_aux(func(*lifted.args), has_aux, who)
        lifted.write_back()
        flat, spec = tensor_outputs(out, who)
        if strict and not all(lifted.depends(o) for o in flat):
            raise RuntimeError(f"{who[:-1]}, strict=True): The output of f is independent of the inputs. This is not "
                               f"allowed with strict=True.")
        probes = [o.new_zeros(o.shape).requires_grad_(True) if o.dtype.kind == "f" else None for o in flat]
        own = lifted.own | own_ids([u for u in probes if u is not None])
        live = [(o, u) for o, u in zip(flat, probes) if o.requires_grad and u is not None]
        pulled = _autograd_grad([o for o, _ in live], lifted.copies, [u for _, u in live], create_graph=True,
                                allow_unused=True) if live else ()
        pairs = [(g, t) for g, t in zip(pulled, flat_t) if g is not None and g.requires_grad]
        pushed = [None] * len(flat)
        if pairs:
            pushed = _autograd_grad([g for g, _ in pairs], [u for u in probes if u is not None],
                                    [t.to(g.dtype) for g, t in pairs], create_graph=True, allow_unused=True)
            it = iter(pushed)
            pushed = [None if u is None else next(it) for u in probes]
        tangent_out = [o.new_zeros(o.shape) if g is None else unlifted(g, own, outer_grad)
                       for g, o in zip(pushed, flat)]
        result = (tree_unflatten([unlifted(o, own, outer_grad) for o in flat], spec),
                  tree_unflatten(tangent_out, spec))
        if has_aux:
            return result + (checked_aux(aux, own, outer_grad),)
        return result


# ---------------------------------------------------------------- jacobians
def _check_chunk_size(chunk_size, who):
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"{who}: `chunk_size` should be greater than 0.")


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """torch.func.jacrev: the Jacobian of f with respect to args[argnums]. For each output leaf o
    and input leaf x a tensor of shape o.shape + x.shape, arranged as torch's: the output pytree,
    each leaf holding the argument's pytree (a tuple of them for a tuple argnums). One backward
    per output element (chunk_size is checked and otherwise has no effect)."""
    _check_chunk_size(chunk_size, "jacrev")
    return _jacobian(func, argnums, has_aux, "vjp(f, *primals)")


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """torch.func.jacfwd: the same Jacobian as jacrev (values, shapes, structure), computed here in
    reverse mode (one backward per output element instead of one forward per input element)."""
    if randomness not in RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    return _jacobian(func, argnums, has_aux, "jvp(f, primals, tangents)")


def _jacobian(func, argnums, has_aux, who):
    from tinygrad_seq.functions import stack

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        outer_grad = outer_records()
        with transform_mode():
            lifted = Lifted(args, argnums, outer_grad, forward=who.startswith("jvp"))
            out, aux = split_aux(func(*lifted.args, **kwargs), has_aux, who)
            lifted.write_back()
            flat, spec = tensor_outputs(out, who)
            per_output = []
            for o in flat:
                rows = [[] for _ in lifted.copies]   # per input: one gradient per element of o
                elements = o.reshape(-1)
                for k in range(elements.shape[0] if o.requires_grad else 0):
                    gs = _autograd_grad(elements[k], lifted.copies, retain_graph=True, create_graph=True,
                                        allow_unused=True)
                    for j, g in enumerate(gs):
                        rows[j].append(g)
                blocks = []
                for j, x in enumerate(lifted.copies):
                    shape = tuple(o.shape) + tuple(x.shape)
                    if not rows[j] or all(g is None for g in rows[j]):
                        blocks.append(x.new_zeros(shape))
                        continue
                    gs = [x.new_zeros(x.shape) if g is None else g for g in rows[j]]
                    blocks.append(unlifted(stack(gs, 0).reshape(shape), lifted.own, outer_grad))
                per_output.append(tree_unflatten(blocks, lifted.spec))
            jac = tree_unflatten(per_output, spec)
            if has_aux:
                return jac, checked_aux(aux, lifted.own, outer_grad)
            return jac
    return wrapper


def hessian(func, argnums=0):
    """torch.func.hessian: jacfwd(jacrev(f, argnums), argnums): for a scalar f and input x, shape
    x.shape + x.shape, nested per pair of inputs for pytree / tuple-argnums inputs as torch's."""
    return jacfwd(jacrev(func, argnums), argnums)


def replace_all_batch_norm_modules_(root):
    """torch.func's: every batch norm module under root stops tracking running statistics (its
    running_mean / running_var / num_batches_tracked become None), so that vmap over it uses
    each batch's own statistics; root returned."""
    from tinygrad_seq.nn.batchnorm import _BatchNorm
    for m in root.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean = m.running_var = m.num_batches_tracked = None
            m.track_running_stats = False
    return root


def functionalize(func, *, remove="mutations"):
    """torch.func.functionalize: tinygrad_seq runs mutations eagerly and has no graph to rewrite;
    refused so that a program relying on it does not run differently without saying so."""
    raise NotImplementedError("torch.func.functionalize is not supported by tinygrad_seq (there is no traced graph "
                              "to rewrite; call the function directly)")


def linearize(func, *primals):
    raise NotImplementedError("torch.func.linearize is not supported by tinygrad_seq; use torch.func.jvp at each "
                              "tangent")


def __getattr__(name):
    """A torch.func name this module lacks: an AttributeError that says so (tinygrad_seq.missing)."""
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.func", "tinygrad_seq.func", name)
