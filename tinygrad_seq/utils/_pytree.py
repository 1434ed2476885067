"""torch.utils._pytree: nested lists, tuples, dicts (OrderedDict, defaultdict), namedtuples and
deques as trees whose leaves are everything else (None and tensors too).

    leaves, spec = tree_flatten({"a": x, "b": [y, z]})    # [x, y, z], TreeSpec(dict, ['a', 'b'], ...)
    tree_unflatten(leaves, spec)                          # the same structure back
    tree_map(fn, tree, *more_trees)                       # fn on each leaf (of same-shaped trees)

A dict's children are in its insertion order, as torch's Python pytree; register_pytree_node adds
a container type: flatten(node) -> (children, context), unflatten(children, context) -> node."""
from __future__ import annotations

import collections
import dataclasses


@dataclasses.dataclass(frozen=True)
class _Node:
    flatten: object     # node -> (children list, context)
    unflatten: object   # (children, context) -> node


SUPPORTED_NODES: dict = {}


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None, to_dumpable_context=None,
                         from_dumpable_context=None, flatten_with_keys_fn=None):
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = _Node(flatten_fn, unflatten_fn)


register_pytree_node(list, lambda n: (list(n), None), lambda c, ctx: list(c))
register_pytree_node(tuple, lambda n: (list(n), None), lambda c, ctx: tuple(c))
register_pytree_node(dict, lambda n: (list(n.values()), list(n)), lambda c, ctx: dict(zip(ctx, c)))
register_pytree_node(collections.OrderedDict, lambda n: (list(n.values()), list(n)),
                     lambda c, ctx: collections.OrderedDict(zip(ctx, c)))
register_pytree_node(collections.defaultdict, lambda n: (list(n.values()), [n.default_factory, list(n)]),
                     lambda c, ctx: collections.defaultdict(ctx[0], zip(ctx[1], c)))
register_pytree_node(collections.deque, lambda n: (list(n), n.maxlen), lambda c, ctx: collections.deque(c, ctx))
# namedtuples: the node type is collections.namedtuple, the context the class (torch's)
register_pytree_node(collections.namedtuple, lambda n: (list(n), type(n)), lambda c, ctx: ctx(*c))


def _is_namedtuple(node):
    return isinstance(node, tuple) and hasattr(type(node), "_fields")


def _node_type(node):
    """The registered type node flattens as, or None for a leaf."""
    if _is_namedtuple(node):
        return collections.namedtuple
    cls = type(node)
    return cls if cls in SUPPORTED_NODES else None


class TreeSpec:
    """The structure of a tree: the node's type, its context (dict keys, a namedtuple's class)
    and one spec per child; a leaf's spec is LeafSpec (shown as *)."""

    def __init__(self, type, context, children_specs):
        self.type, self.context, self.children_specs = type, context, list(children_specs)
        self.num_children = len(self.children_specs)
        self.num_leaves = sum(c.num_leaves for c in self.children_specs)
        self.num_nodes = 1 + sum(c.num_nodes for c in self.children_specs)

    def is_leaf(self):
        return False

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and other.is_leaf() == self.is_leaf() and self.type == other.type
                and self.context == other.context and self.children_specs == other.children_specs)

    def __hash__(self):
        return hash((self.type, repr(self.context), tuple(self.children_specs)))

    def __repr__(self, indent=0):
        name = "namedtuple" if self.type is collections.namedtuple else self.type.__name__
        children = ""
        if self.num_children:
            indent += 2
            children = self.children_specs[0].__repr__(indent) + ("," if self.num_children > 1 else "")
            children += ",".join("\n" + " " * indent + c.__repr__(indent) for c in self.children_specs[1:])
        return f"TreeSpec({name}, {self.context}, [{children}])"

    def unflatten(self, leaves):
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers "
                             f"to a pytree that holds {self.num_leaves} items ({self}).")
        return self._build(iter(leaves))

    def _build(self, leaves):
        children = [c._build(leaves) for c in self.children_specs]
        return SUPPORTED_NODES[self.type].unflatten(children, self.context)

    def flatten_up_to(self, tree):
        """tree's subtrees at this spec's leaves (tree must have this structure down to them)."""
        out = []
        self._up_to(tree, out)
        return out

    def _up_to(self, tree, out):
        kind = _node_type(tree)
        if kind is not self.type:
            raise ValueError(f"Node type mismatch; expected {self.type}, but got {type(tree)}.")
        children, context = SUPPORTED_NODES[kind].flatten(tree)
        if len(children) != self.num_children:
            raise ValueError(f"Node arity mismatch; expected {self.num_children}, but got {len(children)}.")
        if context != self.context and kind is not collections.namedtuple:
            raise ValueError(f"Node context mismatch for node type {self.type}; expected {self.context!r}, "
                             f"but got {context!r}.")
        for child, spec in zip(children, self.children_specs):
            spec._up_to(child, out)


class LeafSpec(TreeSpec):
    def __init__(self):
        super().__init__(None, None, [])
        self.num_nodes, self.num_leaves = 1, 1

    def is_leaf(self):
        return True

    def __repr__(self, indent=0):
        return "*"

    def _build(self, leaves):
        return next(leaves)

    def _up_to(self, tree, out):
        out.append(tree)


def tree_flatten(tree, is_leaf=None):
    """(leaves in order, TreeSpec) of tree; is_leaf(subtree) True stops the descent there."""
    leaves = []

    def walk(node):
        kind = None if is_leaf is not None and is_leaf(node) else _node_type(node)
        if kind is None:
            leaves.append(node)
            return LeafSpec()
        children, context = SUPPORTED_NODES[kind].flatten(node)
        return TreeSpec(kind, context, [walk(c) for c in children])
    spec = walk(tree)
    return leaves, spec


def tree_unflatten(leaves, treespec):
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"tree_unflatten(leaves, treespec): Expected `treespec` to be instance of TreeSpec but "
                        f"got item of type {type(treespec)}.")
    return treespec.unflatten(leaves)


def tree_leaves(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """func(leaf, *same-position leaves of rests) at each leaf of tree, in tree's structure."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(func(*xs) for xs in zip(leaves, *others))


def tree_map_(func, tree, *rests, is_leaf=None):
    """func on each leaf for its effect; tree returned as it is."""
    leaves, spec = tree_flatten(tree, is_leaf)
    for xs in zip(leaves, *[spec.flatten_up_to(r) for r in rests]):
        func(*xs)
    return tree


def _types_test(type_or_types):
    return lambda x: isinstance(x, type_or_types)


def tree_map_only(type_or_types, func, tree, is_leaf=None):
    """func on the leaves that are instances of type_or_types; the others as they are."""
    test = _types_test(type_or_types)
    return tree_map(lambda x: func(x) if test(x) else x, tree, is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None):
    return all(pred(x) for x in tree_leaves(tree, is_leaf))


def tree_any(pred, tree, is_leaf=None):
    return any(pred(x) for x in tree_leaves(tree, is_leaf))
