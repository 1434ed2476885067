"""torch.func.vmap (also ts.vmap) as a loop, and the pytrees the torch.func transforms take.

vmap(f)(x) calls f once per index of the mapped dimension, on x.select(in_dim, i), and stacks
the outputs along out_dims: torch's results, shapes and gradients (the stack is an ordinary op,
so vmap composes with grad / jacrev and is differentiable), one Python call of f per slice
instead of one batched call. torch's batching rules are not needed, so f may do anything a
plain call can (.item(), data-dependent Python control flow), which torch's vmap refuses.

Pytrees are torch.utils._pytree's containers: dict (and OrderedDict), list, tuple and
namedtuple nest; anything else (a Tensor, a number, None) is a leaf."""
import functools

from tinygrad_seq import random as _random

RANDOMNESS = ("error", "different", "same")


class TreeSpec:
    """The shape of a pytree without its leaves: kind (the container type, None for a leaf),
    context (a dict's keys, a namedtuple's type; else None) and the children's specs."""
    __slots__ = ("kind", "context", "children", "num_leaves")

    def __init__(self, kind=None, context=None, children=()):
        self.kind, self.context, self.children = kind, context, tuple(children)
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in self.children)

    def is_leaf(self):
        return self.kind is None

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.kind is other.kind and self.context == other.context
                and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, len(self.children)))

    def __repr__(self):
        if self.kind is None:
            return "*"
        context = list(self.context) if isinstance(self.context, list) else None
        return f"TreeSpec({self.kind.__name__}, {context}, [{', '.join(map(repr, self.children))}])"


LEAF = TreeSpec()


def _children(node):
    """(kind, context, children) of a container node, or None for a leaf."""
    if isinstance(node, dict):
        keys = list(node)
        return type(node), keys, [node[k] for k in keys]
    if isinstance(node, tuple) and hasattr(type(node), "_fields"):   # a namedtuple
        return type(node), type(node), list(node)
    if isinstance(node, (tuple, list)):
        return type(node), None, list(node)
    return None


def tree_flatten(tree):
    """(leaves in order, spec): torch.utils._pytree.tree_flatten for the containers above."""
    leaves = []

    def flatten(node):
        parts = _children(node)
        if parts is None:
            leaves.append(node)
            return LEAF
        kind, context, children = parts
        return TreeSpec(kind, context, [flatten(c) for c in children])
    return leaves, flatten(tree)


def tree_unflatten(leaves, spec):
    """The pytree of spec's shape holding leaves (the inverse of tree_flatten)."""
    it = iter(leaves)

    def build(s):
        if s.kind is None:
            return next(it)
        children = [build(c) for c in s.children]
        if issubclass(s.kind, dict):
            try:
                return s.kind(zip(s.context, children))
            except TypeError:   # a dict subclass built otherwise (defaultdict): a plain dict
                return dict(zip(s.context, children))
        if s.context is not None and not isinstance(s.context, list):   # a namedtuple
            return s.kind(*children)
        return s.kind(children)
    return build(spec)


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_prefix(prefix, spec):
    """prefix's value for each leaf of the tree spec describes, when prefix is a pytree prefix
    of it (a leaf of prefix, an int or None, covers a whole subtree); None when it is not."""
    out = []

    def walk(p, s):
        parts = _children(p)
        if parts is None:
            out.extend([p] * s.num_leaves)
            return True
        kind, context, children = parts
        if s.kind is None or len(children) != len(s.children):
            return False
        if isinstance(context, list):   # a dict prefix: by key, in the tree's key order
            if not issubclass(s.kind, dict) or set(context) != set(s.context):
                return False
            children = [p[k] for k in s.context]
        elif issubclass(s.kind, dict):
            return False
        return all(walk(c, cs) for c, cs in zip(children, s.children))
    return out if walk(prefix, spec) else None


def _name(func):
    return getattr(func, "__name__", type(func).__name__)


def _rng_mark():
    """What a draw from the global generator changes (its stream, that one's position and words)."""
    stream = _random.default_generator.stream
    mt = stream.bits.state["state"]
    return id(stream), int(mt["pos"]), int(mt["key"][0]), stream.next_double_normal


def _check_in_dims(func, in_dims):
    if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
        raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or "
                         f"a (potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")


def _check_out_dims(func, out_dims):
    leaves, _ = tree_flatten(out_dims)
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in leaves):
        raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a "
                         f"python collection of ints representing where in the outputs the vmapped dimension "
                         f"should appear.")


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """torch.vmap / torch.func.vmap: func mapped over a dimension of its inputs (in_dims: an int
    or None per argument, nested like the arguments; negative dims count from the end) with the
    outputs stacked along out_dims. Keyword arguments are passed to every call unmapped.

    randomness: 'error' raises torch's error when func draws from the global generator
    (ts.randn, dropout in training, ...); 'different' gives each slice its own draws (the loop's
    natural behaviour); 'same' gives every slice the draws of the first (the generator is rewound
    before each call). chunk_size is checked and otherwise has no effect (one slice at a time)."""
    if randomness not in RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    def wrapped(*args, **kwargs):
        _check_in_dims(func, in_dims)
        _check_out_dims(func, out_dims)
        if not args:
            raise ValueError(f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you "
                             f"are trying to vmap over a function with no inputs. The latter is unsupported.")
        leaves, spec = tree_flatten(args)
        dims = broadcast_prefix(in_dims, spec)
        if dims is None or (isinstance(in_dims, tuple) and len(in_dims) != len(args)):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with "
                             f"the structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but "
                             f"inputs has structure {spec}.")
        batch, dims = _mapped_size(func, in_dims, leaves, dims)
        return _loop(func, leaves, dims, spec, batch, kwargs, out_dims, randomness)
    return functools.wraps(func)(wrapped)


def _mapped_size(func, in_dims, leaves, dims):
    """The mapped dimension's size, and each leaf's dim made non-negative (None: unmapped)."""
    from tinygrad_seq.tensor import Tensor
    sizes, normal = [], []
    for x, d in zip(leaves, dims):
        if d is None:
            normal.append(None)
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                             f"in_dim must be either an integer dimension or None.")
        if not isinstance(x, Tensor):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                             f"the input is of type {type(x)}. We cannot vmap over non-Tensor arguments, please use "
                             f"None as the respective in_dim")
        if not -x.ndim <= d < x.ndim:
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, "
                             f"but that input is a Tensor of dimensionality {x.ndim} so expected in_dim to satisfy "
                             f"-{x.ndim} <= in_dim < {x.ndim}.")
        normal.append(d % x.ndim)
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if len(set(sizes)) != 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    if sizes[0] == 0:
        raise ValueError("vmap over a mapped dimension of size 0 is not supported by tinygrad_seq's vmap "
                         "(a loop over the slices: there is no slice to call the function on)")
    return sizes[0], normal


def _loop(func, leaves, dims, spec, batch, kwargs, out_dims, randomness):
    """func called per slice i of the mapped inputs; its outputs ([per slice] flat leaves)
    stacked along out_dims."""
    # 'same': every slice from the stream's state before; 'error': the state kept to put back when a
    # slice drew (torch raises at the draw, before the stream moves)
    start = _random.get_rng_state() if randomness in ("same", "error") else None
    per_slice, out_spec, given = [], None, []
    for i in range(batch):
        sliced = [x if d is None else x.select(d, i) for x, d in zip(leaves, dims)]
        given.append(sliced)
        if randomness == "same":
            _random.set_rng_state(start)
        mark = _rng_mark() if randomness == "error" else None
        out = func(*tree_unflatten(sliced, spec), **kwargs)
        if mark is not None and _rng_mark() != mark:
            _random.set_rng_state(start)
            raise RuntimeError("vmap: called random operation while in randomness error mode. Please either use the "
                               "'same' or 'different' randomness flags on vmap or perform the randomness operation "
                               "out of vmap")
        flat, out_spec = tree_flatten(out)
        per_slice.append(flat)
    return _stacked(func, per_slice, out_spec, out_dims, (leaves, dims, given))


def _passed_through(outs, inputs):
    """(input, its mapped dim) when every slice's output is that input's slice itself (f returned
    its argument unchanged), else None. inputs: (leaves, their in_dims, [per slice] the slices)."""
    leaves, dims, given = inputs
    for j, d in enumerate(dims):
        if d is not None and all(o is sliced[j] for o, sliced in zip(outs, given)):
            return leaves[j], d
    return None


def _stacked(func, per_slice, out_spec, out_dims, inputs):
    from tinygrad_seq.functions import stack
    from tinygrad_seq.tensor import Tensor
    if (out_spec.is_leaf() and isinstance(out_dims, tuple) and len(out_dims) == 1
            and isinstance(per_slice[0][0], Tensor)):
        out_dims = out_dims[0]   # torch's edge case: out_dims=(d,) for a function returning one Tensor
    dims = broadcast_prefix(out_dims, out_spec)
    if dims is None:
        raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with "
                         f"the structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but "
                         f"outputs has structure {out_spec}.")
    results = []
    for k, d in enumerate(dims):
        outs = [flat[k] for flat in per_slice]
        if d is None:
            results.append(_unbatched(func, outs))
            continue
        for o in outs:
            if not isinstance(o, Tensor):
                raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, got type "
                                 f"{type(o)}. Did you mean to set out_dims= to None for output?")
        rank = outs[0].ndim + 1
        if not -rank <= d < rank:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {d})")
        same = _passed_through(outs, inputs)
        # f returned its input: torch's result is that input with the mapped dim moved, a view of it
        results.append(stack(outs, d % rank) if same is None else same[0].movedim(same[1], d % rank))
    return tree_unflatten(results, out_spec)


def _unbatched(func, outs):
    """An output with out_dim None: the same in every slice (torch refuses one that varies with
    the mapped inputs); a non-Tensor output is returned as it is."""
    import numpy as np
    from tinygrad_seq.tensor import Tensor
    first = outs[0]
    if isinstance(first, Tensor):
        ref = first.detach().numpy()
        for o in outs[1:]:
            if not isinstance(o, Tensor) or o.shape != first.shape or not np.array_equal(o.detach().numpy(), ref,
                                                                                           equal_nan=True):
                raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` can not return a BatchedTensor when "
                                 f"out_dim is None")
    return first
