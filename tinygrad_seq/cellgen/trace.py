"""Trace a cell's step on a symbolic graph: the input of the code generator (emit.py).

Every value of the step is a Node of width w (in units of the hidden size H; 0 is one number per
batch row, a row reduction's result; None a constant). Leaves: the hoisted input projection
("xp", x W_ih^T over all steps), the entering states ("st"), pointwise parameters ("pv": every
parameter that is not a matrix, flattened into one vector), per-step extra inputs ("ext": zoneout
masks), constants, and recurrent products ("prod": v W^T for an H-wide value v and rows of a
[*, H] weight matrix). A product splits the step into stages: stage k runs after the products
whose input was computed in stage k-1 (a GRU with the reset before the product has two).
"""
import re
import types

# a parameter shape is classified by evaluating it at these sizes (distinct primes)
_PROBE_I, _PROBE_H = 1009, 1013


class Unfusable(Exception):
    """The step uses something the generator cannot fuse; the layer runs it unfused."""


class Node:
    __slots__ = ("id", "op", "args", "width", "attr", "stage", "graph")

    def __init__(self, graph, op, args, width, attr=None):
        self.graph, self.op, self.args, self.width, self.attr = graph, op, tuple(args), width, attr
        self.stage = max([a.stage for a in self.args], default=0) + (1 if op == "prod" else 0)
        self.id = len(graph.nodes)
        graph.nodes.append(self)

    # ---- the Tensor ops a step may use
    def _bin(self, op, other, swap=False):
        other = self.graph.lift(other)
        a, b = (other, self) if swap else (self, other)
        wa, wb = a.width, b.width
        if wa is not None and wb is not None and wa != wb and wa != 0 and wb != 0:
            raise ValueError(f"cell {self.graph.name}: {op} of values {wa}*H and {wb}*H wide: the widths do not "
                             f"match (split the gates first, e.g. cell.split(v))")
        width = wa if wb is None or (wb == 0 and wa is not None) else wb if wa is None or wa == 0 else wa
        if a.op == "const" and b.op == "const":
            return self.graph.const(_FOLD[op](a.attr, b.attr))
        return Node(self.graph, op, (a, b), width)

    def __add__(self, o): return self._bin("add", o)
    def __radd__(self, o): return self._bin("add", o, True)
    def __sub__(self, o): return self._bin("sub", o)
    def __rsub__(self, o): return self._bin("sub", o, True)
    def __mul__(self, o): return self._bin("mul", o)
    def __rmul__(self, o): return self._bin("mul", o, True)
    def __truediv__(self, o): return self._bin("div", o)
    def __rtruediv__(self, o): return self._bin("div", o, True)
    def __neg__(self): return Node(self.graph, "neg", (self,), self.width)
    def sigmoid(self): return Node(self.graph, "sigmoid", (self,), self.width)
    def tanh(self): return Node(self.graph, "tanh", (self,), self.width)
    def relu(self): return Node(self.graph, "relu", (self,), self.width)
    def exp(self): return Node(self.graph, "exp", (self,), self.width)
    def sqrt(self): return Node(self.graph, "sqrt", (self,), self.width)

    def mean(self, dim=None, keepdim=False):
        if dim not in (-1, 1) or not keepdim or not self.width:
            raise Unfusable(f"mean(dim={dim}, keepdim={keepdim}) (only a row mean, mean(dim=-1, keepdim=True), fuses)")
        return Node(self.graph, "mean", (self,), 0)

    def __getitem__(self, k):
        rows = (self.attr or {}).get("rows") if self.op == "pv" else None
        if rows is None or not isinstance(k, int) or not -rows <= k < rows:
            raise Unfusable(f"indexing {k!r} (only a row of a [n, H] parameter, p[k], fuses)")
        return self.graph.slice(self, k % rows, 1)

    def __getattr__(self, name):
        raise Unfusable(f"op {name!r}")


_FOLD = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
         "div": lambda a, b: a / b}


class Input:
    """The step's x: it may only enter through cell.linear(x, weight) (the hoisted projection)."""

    def __init__(self, graph):
        self.graph = graph

    def __getattr__(self, name):
        raise Unfusable(f"op {name!r} on the input x (x may only enter through cell.linear(x, weight_ih))")

    def __add__(self, o):
        raise Unfusable("arithmetic on the input x (x may only enter through cell.linear(x, weight_ih))")
    __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __add__


class MatRef:
    """Rows row0 .. row0+rows-1 (in units of H) of a weight matrix parameter; cols "I" or "H"."""

    def __init__(self, name, row0, rows, cols, total):
        self.name, self.row0, self.rows, self.cols, self.total = name, row0, rows, cols, total


class Graph:
    def __init__(self, spec):
        self.name, self.spec = spec.name, spec
        self.nodes, self.consts = [], {}
        self.xp = None          # the input projection leaf
        self.w_ih = None        # its weight's name
        self.pv = {}            # parameter name -> (offset in H units, width) in the flat vector
        self.pv_width = 0
        self.products = []      # prod nodes, in creation order
        self.n_ext = 0
        self.states_in = [Node(self, "st", (), 1, k) for k in range(len(spec.states))]
        self.outputs = None

    def const(self, v):
        return Node(self, "const", (), None, float(v))

    def lift(self, v):
        if isinstance(v, Node):
            return v
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return self.const(v)
        raise Unfusable(f"a value of type {type(v).__name__} in the step")

    def slice(self, node, k, n):
        if node.width is None or node.width == 0 or k < 0 or k + n > node.width:
            raise ValueError(f"cell {self.name}: chunks {k}..{k + n - 1} of a value {node.width}*H wide")
        if k == 0 and n == node.width:
            return node
        return Node(self, "slice", (node,), n, k)


class SymCell:
    """The `cell` argument of a step traced symbolically (mirrors cellspec.TensorCell)."""

    def __init__(self, graph, ext):
        self._g, self.hidden_size, self._ext = graph, None, ext
        self._leaves = {}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        g = self._g
        if name in self._leaves:
            return self._leaves[name]
        spec = next((p for p in g.spec.params if p.name == name), None)
        if spec is None:
            raise AttributeError(f"cell {g.name} has no parameter {name!r} "
                                 f"(parameters: {[p.name for p in g.spec.params]})")
        dims = spec.resolve(_PROBE_I, _PROBE_H, g.spec.gates)
        H = _PROBE_H
        if len(dims) == 2 and dims[0] % H == 0 and dims[1] in (_PROBE_I, H):
            leaf = MatRef(name, 0, dims[0] // H, "I" if dims[1] == _PROBE_I else "H", dims[0] // H)
        elif len(dims) == 1 and dims[0] % H == 0:
            leaf = self._pv(name, dims[0] // H, None)
        elif len(dims) == 2 and dims[1] == H:
            leaf = self._pv(name, dims[0], dims[0])
        else:
            raise Unfusable(f"parameter {name} of shape {spec.shape} (fused cells take [n*H], [n, H], "
                            f"[n*H, H] and [n*H, I] parameters)")
        self._leaves[name] = leaf
        return leaf

    def _pv(self, name, width, rows):
        g = self._g
        g.pv[name] = (g.pv_width, width)
        g.pv_width += width
        return Node(g, "pv", (), width, {"name": name, "off": g.pv[name][0], "rows": rows})

    def ext(self, k):
        return self._ext[k]

    def linear(self, v, w, b=None):
        g = self._g
        if not isinstance(w, MatRef):
            raise Unfusable("linear with a weight that is not a [n*H, I] or [n*H, H] parameter")
        if isinstance(v, Input):
            if w.cols != "I":
                raise ValueError(f"cell {g.name}: linear(x, {w.name}): {w.name} does not have input_size columns")
            if g.xp is not None:
                raise Unfusable("the input x used in two linear() calls (fused cells project x once)")
            if w.row0 != 0 or w.rows != w.total:
                raise Unfusable(f"linear(x, part of {w.name}) (fused cells project x by the whole weight)")
            g.xp, g.w_ih = Node(g, "xp", (), w.rows, {"name": w.name}), w.name
            out = g.xp
        elif isinstance(v, Node):
            if w.cols != "H":
                raise ValueError(f"cell {g.name}: linear(value, {w.name}): {w.name} does not have hidden_size columns")
            if v.width != 1:
                raise ValueError(f"cell {g.name}: linear of a value {v.width}*H wide with {w.name} [*, H]")
            out = Node(g, "prod", (v,), w.rows, {"name": w.name, "row0": w.row0, "rows": w.rows})
            g.products.append(out)
        else:
            raise Unfusable(f"linear of a {type(v).__name__}")
        return out if b is None else out + b

    def gate(self, v, k, n=1):
        if isinstance(v, MatRef):
            if k < 0 or k + n > v.rows:
                raise ValueError(f"cell {self._g.name}: gate rows {k}..{k + n - 1} of {v.name} asked for, but it has "
                                 f"{v.rows} gate block(s) of H rows (0..{v.rows - 1})")
            return MatRef(v.name, v.row0 + k, n, v.cols, v.total)
        return self._g.slice(v, k, n)

    def split(self, v, n=None):
        width = v.rows if isinstance(v, MatRef) else v.width
        if not width:
            raise ValueError(f"cell {self._g.name}: split of a value that is not H-wide")
        n = width if n is None else n
        if width % n:
            raise ValueError(f"cell {self._g.name}: a value {width}*H wide does not split into {n} chunks")
        size = width // n
        return [self.gate(v, k * size, size) for k in range(n)]

    def layer_norm(self, v, w, b, eps=1e-5):
        from tinygrad_seq.cellspec import layer_norm
        return layer_norm(v, w, b, eps)


# TypeErrors that say a function was called wrongly (cell.linear(h) without its weight), which
# run unfused would fail the same way: reported as the step's error, not as "cannot be fused"
_SIGNATURE_MISTAKE = re.compile(r"missing \d+ required|takes \d+ positional|got an unexpected keyword|"
                                r"takes from \d+ to \d+ positional|got multiple values for argument")


def trace(spec, n_ext=0):
    """spec's step on the symbolic graph -> Graph (outputs: one Node per state)."""
    g = Graph(spec)
    g.n_ext = n_ext
    ext = [Node(g, "ext", (), 1, k) for k in range(n_ext)]
    cell = SymCell(g, ext)
    state = types.SimpleNamespace(**dict(zip(spec.states, g.states_in)))
    try:
        out = spec.step(cell, Input(g), state)
    except Unfusable:
        raise
    except TypeError as e:  # e.g. an op mixing a Node with an unsupported operand
        if _SIGNATURE_MISTAKE.search(str(e)):   # a call with wrong arguments: the step's own bug
            raise ValueError(f"cell {spec.name} (gates={spec.gates}, states={spec.states}): the step fails: "
                             f"{e}") from None
        raise Unfusable(str(e)) from None
    except (ValueError, AttributeError) as e:
        raise ValueError(f"cell {spec.name} (gates={spec.gates}, states={spec.states}): the step fails: {e}") from None
    outs = spec.new_states(out)
    for name, o in zip(spec.states, outs):
        if not isinstance(o, Node) or o.width != 1:
            w = getattr(o, "width", None)
            raise ValueError(f"cell {spec.name}: state {name!r} is {w}*H wide; a state must be H wide "
                             "(did you forget to split the gates?)" if w else
                             f"cell {spec.name}: state {name!r} is not an H-wide value computed from the step's "
                             f"values (a reduction such as .mean(dim=-1) or a constant leaves it narrower)")
    if g.xp is None:
        raise Unfusable("the step never projects the input (cell.linear(x, weight_ih))")
    g.outputs = list(outs)
    return g
