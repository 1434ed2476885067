"""torch's names for the nodes of this engine's ops (grad_fn.name(), print(t.grad_fn)).

One engine op stands for several torch ops (GetItem for select / slice / index, MatMul for
mm / mv / dot / bmm, Rounding for floor / ceil / round / trunc / sign), so a name is worked out
when asked, from the node's inputs and kept attributes: nothing is spent on the forward path. A
function that builds its result from several ops (mean is a sum and a division, mse_loss a mean
of squares, min a negated max), or that shares an op with another torch op (transpose and
permute are both Permute), names its last node itself (named(): one attribute store).
"""
import numpy as np


# torch's nodes that save no tensor, which ours may build from a node that holds some
# (Function.holds_saved: tril's masked_fill): a second backward runs through them, as torch's;
# and nodes that save one (their indices) which ours builds from nodes that hold none
_SAVES_NO_TENSOR = frozenset(("TrilBackward0", "TriuBackward0"))
_SAVES_A_TENSOR = frozenset(("IndexPutBackward0",))


def named(t, name):
    """t's node called `name` (torch's node for the function that made t); t returned."""
    if t._ctx is not None:
        t._ctx._torch_name = name
        if name in _SAVES_NO_TENSOR or name in _SAVES_A_TENSOR:
            t._ctx.holds_saved = name in _SAVES_A_TENSOR
    return t


def reading_input(t):
    """Mark t's node as one whose torch backward reads its input (a 1-d max pool's max, built
    from primitive ops): its gradient under create_graph requires grad, with a zero derivative
    (higher_order). t returned."""
    if t._ctx is not None:
        t._ctx._reads_input = True
    return t


def named_output(t, name):
    """Name t's node `name` for t only: one output of a multi-output op that torch makes with
    its own node (a fused LSTM's h_n / c_n are torch's StackBackward0). t returned."""
    ctx = t._ctx
    if ctx is not None:
        ctx._out_nodes = {**ctx.__dict__.get("_out_nodes", {}), t._idx: OutputNode(ctx, name)}
    return t


def grad_fn_of(t):
    """t.grad_fn: its node, or the node named for t alone (named_output; a fused layer's final
    states, which torch stacks: StackBackward0). A view whose base was written in place since
    its node was made gets its node again first (view_regen.py)."""
    if t._view is not None:
        from tinygrad_seq.view_regen import refresh_view_node
        refresh_view_node(t)
    ctx = t._ctx
    if ctx is None:
        return None
    nodes = ctx.__dict__.get("_out_nodes")
    if nodes is not None and t._idx in nodes:
        return nodes[t._idx]
    if t._idx and type(ctx).__name__ in _STACKED_STATES:
        named_output(t, "StackBackward0")
        return ctx._out_nodes[t._idx]
    return ctx


_STACKED_STATES = ("LSTMFunction", "GRUFunction", "RNNFunction", "CellFunction")   # recurrent.py's fused layers


class OutputNode:
    """grad_fn of one output of a multi-output node that torch names apart: everything but the
    name is the node's (next_functions, register_hook, ...)."""
    def __init__(self, node, name):
        self._node, self._name = node, name

    def name(self):
        return self._name

    def __repr__(self):
        return f"<{self._name} object at {hex(id(self))}>"

    def __getattr__(self, attr):
        return getattr(self._node, attr)


def _matmul(ctx):
    a, b = (p.array.ndim for p in ctx.parents)
    if a == 1 and b == 2:
        return "SqueezeBackward4"
    if max(a, b) >= 3:   # torch folds the first operand's batch, or copies it when broadcast grows it
        sa, sb = (p.array.shape for p in ctx.parents)
        batch = tuple(np.broadcast_shapes(tuple(sa[:-2]), tuple(sb[:-2]) if b >= 2 else ()))
        return "UnsafeViewBackward0" if a >= 3 and tuple(sa[:-2]) == batch else "CloneBackward0"
    if a == 2 and b == 2:
        return "MmBackward0"
    if a == 1 and b == 1:
        return "DotBackward0"
    if a == 2 and b == 1:
        return "MvBackward0"
    return "UnsafeViewBackward0"   # matmul of batches folds them (bmm names its own node)


def _linear(ctx):
    ndim, bias = ctx.parents[0].array.ndim, len(ctx.parents) > 2
    if ndim != 2:   # torch folds the batch dims and views back (1-D without bias: a squeeze)
        if ndim > 2:
            return "ViewBackward0" if bias else "UnsafeViewBackward0"
        return "ViewBackward0" if bias else "SqueezeBackward4"
    return "AddmmBackward0" if bias else "MmBackward0"


def _getitem(ctx):
    items = ctx.idx if isinstance(ctx.idx, tuple) else (ctx.idx,)
    if ctx.advanced:
        return "IndexBackward0"
    last = [i for i in items if i is not Ellipsis and i != slice(None)]
    if not last:
        return "AliasBackward0"
    if last[-1] is None:
        return "UnsqueezeBackward0"
    return "SliceBackward0" if isinstance(last[-1], slice) else "SelectBackward0"


def _einsum(ctx):
    """torch's einsum of one operand sums away the letters the output lacks, else permutes (even
    in the same order); of several, it multiplies them pairwise and, when a letter is summed
    anywhere, views the product into the output's shape last (ViewBackward0), else its node is the
    last product's (MulBackward0)."""
    terms, out = ctx.terms, set(ctx.out)
    if len(terms) == 1:
        return "SumBackward1" if set(terms[0]) - out else "PermuteBackward0"
    return "ViewBackward0" if set().union(*terms) - out else "MulBackward0"


def _camel(name):
    """torch's node name of a function name: "log_ndtr" -> "LogNdtr", "i0e" -> "I0E", "xlog1py"
    -> "Xlog1Py" (a letter after a digit is upper case)."""
    out = []
    for part in name.split("_"):
        word = part[:1].upper()
        for prev, c in zip(part, part[1:]):
            word += c.upper() if prev.isdigit() else c
        out.append(word)
    return "".join(out)


_ROUNDING = {"floor": "FloorBackward0", "ceil": "CeilBackward0", "rint": "RoundBackward0",
             "trunc": "TruncBackward0", "sign": "SignBackward0"}
# torch.special's functions whose nodes are not Special<Name>Backward0 (ndtr is composed in torch)
_SPECIAL = {"ndtr": "MulBackward1", "xlogy": "XlogyBackward0", "gammainc": "IgammaBackward0",
            "gammaincc": "IgammacBackward0"}


def _special(ctx):
    return _SPECIAL.get(ctx.fn_name) or f"Special{_camel(ctx.fn_name)}Backward0"


def _names():
    """op class -> fn(node) -> torch's name (built on first use: the ops import the engine)."""
    from tinygrad_seq import functional, losses, ops, ops_extra, ops_host, ops_special, recurrent
    from tinygrad_seq.conv2d import Conv2dFunction   # (the package's conv2d is the function)
    from tinygrad_seq.einsum import Einsum           # (and its einsum)
    from tinygrad_seq.functional_pad import _ConstantPad
    from tinygrad_seq.linalg_norms import VectorNorm
    from tinygrad_seq.pool2d import TakePlanes, WindowMean
    return {
        ops.MatMul: _matmul,
        functional._Linear: _linear,
        ops.Permute: lambda ctx: "PermuteBackward0",   # transpose / t / mT name their node (named())
        ops.GetItem: _getitem,
        ops.Clamp: lambda ctx: "ClampBackward1",
        ops.Sum: lambda ctx: "SumBackward0" if len(ctx.axes) == len(ctx.shape) else "SumBackward1",
        ops.Max: lambda ctx: "MaxBackward1",
        ops.MaxAlong: lambda ctx: "MaxBackward0",
        ops.Reshape: lambda ctx: "ViewBackward0",
        ops.Cast: lambda ctx: "ToCopyBackward0",
        ops.Pow: lambda ctx: "PowBackward1" if ctx.parents[1].requires_grad else "PowBackward0",
        ops_extra.IndexPut: lambda ctx: "IndexPutBackward0",
        ops_extra.IndexPutInto: lambda ctx: "CopySlices",
        losses._ClassNLL: lambda ctx: "AddBackward0" if getattr(ctx, "smoothing", 0) else "NllLossBackward0",
        losses._BCE: lambda ctx: "BinaryCrossEntropyBackward0",
        functional._Embedding: lambda ctx: "EmbeddingBackward0",
        # torch's output of one fused layer: oneDNN's node for a float32 LSTM, else a stack of steps
        recurrent.LSTMFunction: lambda ctx: ("MkldnnRnnLayerBackward0" if ctx.parents[0].array.dtype == "float32"
                                             else "StackBackward0"),
        recurrent.GRUFunction: lambda ctx: "StackBackward0",
        recurrent.RNNFunction: lambda ctx: "StackBackward0",
        recurrent.CellFunction: lambda ctx: "StackBackward0",   # (its composition's last op, as torch's GRU / RNN)
        functional._ErfGelu: lambda ctx: "GeluBackward0",
        Conv2dFunction: lambda ctx: "ConvolutionBackward0",
        TakePlanes: lambda ctx: "MaxPool2DWithIndicesBackward0",
        WindowMean: lambda ctx: "AvgPool2DBackward0",
        ops_extra.CumSum: lambda ctx: "CumsumBackward0",
        ops_host.LogCumSumExp: lambda ctx: "LogcumsumexpBackward0",
        ops_extra.Softplus: lambda ctx: "SoftplusBackward0",
        ops_extra.Rounding: lambda ctx: _ROUNDING.get(ctx.__dict__.get("fn")),
        ops_extra.Prod: lambda ctx: "ProdBackward0" if ctx.dim is None else "ProdBackward1",
        ops_host.HostUnary: lambda ctx: f"{_camel(ctx.fn_name)}Backward0",   # Exp2Backward0, ErfinvBackward0
        ops_host.HostBinary: lambda ctx: f"{_camel(ctx.fn_name)}Backward0",  # Atan2Backward0
        ops_special.SpecialUnary: _special,
        ops_special.SpecialBinary: _special,
        Einsum: _einsum,
        _ConstantPad: lambda ctx: "ConstantPadNdBackward0",
        ops_extra.Log1p: lambda ctx: "Log1PBackward0",
        VectorNorm: lambda ctx: "LinalgVectorNormBackward0",
    }


_NAMES = None


def torch_name(ctx):
    """The name torch gives ctx's node, or None where this module has none."""
    global _NAMES
    name = ctx.__dict__.get("_torch_name")
    if name is None:
        if _NAMES is None:
            _NAMES = _names()
        fn = _NAMES.get(type(ctx))
        name = fn(ctx) if fn is not None else None
    return name
