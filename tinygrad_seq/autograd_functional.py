"""torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp and hvp, as torch 2.13's
functional.py computes them (its checks, error types and messages): reverse mode through
autograd.grad, jvp and hvp by the double-backward trick, jacobian one backward per output
element. The shared helpers (checks, grad pre/post-processing, zero filling) are in
autograd_functional_utils.py."""
from tinygrad_seq.autograd_functional_utils import (_as_tuple, _autograd_grad, _check_requires_grad,
                                                    _fill_in_zeros, _grad_postprocess, _grad_preprocess,
                                                    _tuple_postprocess, _validate_v)
from tinygrad_seq.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled


def _prepared_v(v, others, is_others_tuple, fn_name, create_graph):
    """v as a tuple checked against others (the outputs for vjp, the inputs otherwise); v keeps
    its graph under create_graph when it requires grad, so gradients reach it."""
    _, v = _as_tuple(v, "v", fn_name)
    v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
    _validate_v(v, others, is_others_tuple)
    return v


def _check_single_element_input(inputs):
    if len(inputs) != 1 or inputs[0].nelement() != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided function "
                           "is a single Tensor with a single element.")


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at inputs (v of the outputs' shapes)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if v is not None:
            v = _prepared_v(v, outputs, is_outputs_tuple, "vjp", create_graph)
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                               "Tensor with a single element.")
    return _product(outputs, outputs, inputs, v, inputs, strict, create_graph, "back",
                    is_outputs_tuple, is_inputs_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, as the gradient of the vjp u^T J with
    respect to u (zeros: the backward is linear in u, so any finite u serves), taken along v."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            v = _prepared_v(v, inputs, is_inputs_tuple, "jvp", create_graph)
        else:
            _check_single_element_input(inputs)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        grad_outputs = tuple(out.new_zeros(out.shape).requires_grad_(True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_outputs_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: for output o and input x, a tensor of shape o.shape +
    x.shape; nested as torch's (tuple of outputs, then tuple of inputs) when either is a tuple.
    vectorize and strategy="forward-mode" are accepted with torch's rules (forward-mode: each block
    in its output's dtype, nested in lists, as torch's _jacfwd); the values are always computed in
    reverse mode, one backward per output element. An output without elements raises torch's
    error unless vectorize (then its blocks are zeros)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please either '
                                      'set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
                               'are not supported together (yet). Please either set `strict=False` or '
                               '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        if vectorize and strategy == "reverse-mode" and not sum(out.nelement() for out in outputs) \
                and any(out.requires_grad for out in outputs):
            raise IndexError("index 0 is out of bounds for dimension 0 with size 0")   # torch's vmap over no rows
        rows = tuple(_jacobian_rows(i, out, inputs, create_graph, strict, vectorize) for i, out in enumerate(outputs))
        if strategy == "forward-mode":   # torch's _jacfwd: each block in its output's dtype, lists
            rows = [[block.to(dtype=out.dtype) for block in row] for row, out in zip(rows, outputs)]
            return _tuple_postprocess(rows, (is_outputs_tuple, is_inputs_tuple))
        rows = _grad_postprocess(rows, create_graph)
        return _tuple_postprocess(rows, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_rows(i, out, inputs, create_graph, strict, vectorize):
    """The blocks d out / d input_j (shape out.shape + input_j.shape) for every input j, one
    backward per element of out, the rows stacked. An out without elements: zeros under
    vectorize, else torch's loop's error (it stacks no rows)."""
    from tinygrad_seq.functions import stack
    if not vectorize and out.nelement() == 0:
        raise RuntimeError("stack expects a non-empty TensorList")
    per_input = tuple([] for _ in inputs)
    flat = out.reshape(-1)
    for k in range(out.nelement()):
        vj = _autograd_grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, (rows_j, vj_el, inp) in enumerate(zip(per_input, vj, inputs)):
            if vj_el is not None:
                if strict and create_graph and not vj_el.requires_grad:
                    raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                       f"This is not allowed in strict mode when create_graph=True.")
                rows_j.append(vj_el)
            else:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. "
                                       f"This is not allowed in strict mode.")
                rows_j.append(inp.new_zeros(inp.shape))   # (not inp * 0: an inf input gives 0, not nan)
    shape = tuple(out.shape)
    return tuple(stack(rows_j, 0).view(shape + tuple(inp.shape)) if rows_j
                 else inp.new_zeros(shape + tuple(inp.shape))   # out without elements (vectorize)
                 for rows_j, inp in zip(per_input, inputs))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar func at inputs: the jacobian of its (create_graph) jacobian;
    shape x.shape + x.shape, nested per pair of inputs when inputs is a tuple."""
    from tinygrad_seq.tensor import Tensor
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_function_setup(func, inputs, v, create_graph, strict, fn_name):
    """vhp's and hvp's common start: (is_inputs_tuple, inputs, v, outputs, is_outputs_tuple,
    jac), jac the create_graph gradient of the single-element output; under enable_grad."""
    from tinygrad_seq.tensor import Tensor
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v is not None:
        v = _prepared_v(v, inputs, is_inputs_tuple, fn_name, create_graph)
    else:
        _check_single_element_input(inputs)
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return is_inputs_tuple, inputs, v, outputs, is_outputs_tuple, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the vector-Hessian product of the single-element func (its output
    returned with its own shape)."""
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, is_outputs_tuple, jac = _scalar_function_setup(
            func, inputs, v, create_graph, strict, "vhp")
    return _product(outputs, jac, inputs, v, inputs, strict, create_graph, "double_back",
                    is_outputs_tuple, is_inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product, by the double-backward trick on the
    gradient's vjp u^T H (u zeros requiring grad), taken along v."""
    with enable_grad():
        is_inputs_tuple, inputs, v, outputs, is_outputs_tuple, jac = _scalar_function_setup(
            func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(inp.new_zeros(inp.shape).requires_grad_(True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    return _product(outputs, double_back, grad_jac, v, inputs, strict, create_graph, "double_back_trick",
                    is_outputs_tuple, is_inputs_tuple)


def _product(outputs, of, wrt, v, inputs, strict, create_graph, stage, is_outputs_tuple, is_inputs_tuple):
    """The last step torch's vjp / vhp / hvp share: the gradient of `of` with respect to `wrt`
    along v (zeros where strict=False allows), both results post-processed to the caller's form."""
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(of, wrt, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, stage)
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_grad_postprocess(result, create_graph), is_inputs_tuple))
