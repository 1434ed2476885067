"""The walk a backward sweep starts with (autograd._sweep): the nodes reachable from the root,
parents before children, and each node's parents as it saw them when it was made. A tensor
rebased by an in-place op after a node used it resolves to its node before the write
(_parent_state, from the tensor's write_history); a view whose base was rebased between taking
the view and using it is read again from the base as it was then (_stale_view, _view_at), as
torch regenerates a view's grad_fn."""
import itertools

from tinygrad_seq import write_history as _write_history, writes as _writes
from tinygrad_seq.inplace_reshape import reshaped_between, shape_then


DROPPED = _write_history.DROPPED   # a _hist entry standing for the graph nodes no longer kept
# True once some tensor in a graph was detach_()ed: until then a leaf edge (no node) needs no
# look at its tensor's _hist (reading an unset slot costs a microsecond on every backward)
_any_detached = False


def record_detach(t):
    """t.detach_() of a tensor with a node: keep that node in t's history for the nodes that used
    t before (as _retarget keeps a rebased tensor's), so only t itself leaves the graph; the
    clock ticks so that nodes made from here on see t as the leaf it becomes."""
    global _any_detached
    hist = getattr(t, "_hist", None)
    if hist is None:
        hist = t._hist = _write_history.History()
    hist.add(_writes.clock + 1, t._ctx, t._idx, t.requires_grad)
    _writes.tick()
    _any_detached = True


def _detached_edge(node, p, clock):
    """(node, output index, requires_grad) that node (created at `clock`) saw for leaf p when p
    was detach_()ed since, else None. A node that saved p's array raises as torch's does: its
    backward would read a tensor that is no longer the one it was given."""
    hist = getattr(p, "_hist", None)
    entry = hist.at(clock) if hist is not None else None
    if entry is None or entry[0] is None:
        return None
    if entry[2] is DROPPED:
        _parent_state(p, clock)   # raises its error
    if any(a is p.array for a in node.saved_tensors or ()):
        raise RuntimeError("Trying to use a saved tensor that has been detached in-place, i.e. with "
                           ".detach_(). This is not supported, please use out-of-place `.detach()` instead")
    return entry


def _parent_state(p, clock):
    """(node, output index, requires_grad) of tensor p as a node created at `clock` saw it:
    p's current ones, or, when p was rebased by an in-place op (or detach_()ed) since, the ones
    in p._hist."""
    pc = p._ctx
    if pc is not None and pc._clock <= clock:
        return pc, p._idx, p.requires_grad
    hist = getattr(p, "_hist", None)
    entry = hist.at(clock) if hist is not None else None
    if entry is None:
        return pc, p._idx, p.requires_grad
    if entry[2] is DROPPED:
        raise RuntimeError("one of the variables needed for gradient computation has been modified "
                           "by an inplace operation (so many times since it was used that its earlier "
                           "graph was not kept: tinygrad_seq.write_history)")
    return entry


def _stale_view(pc, clock):
    """True when view node pc (created at pc._clock by a view: basic indexing, a reshape, a
    permute or an expand sharing its base's memory), used by a node that saw the graph as it was
    at `clock`, must be read from its base as the base was then: an in-place op rebased the base
    in between (or a base up the chain of views). The view's elements are the base's memory, so
    they changed with it, and torch's gradient goes through the write, where pc's own parent is
    the base as it was before. A loop, not a recursion: chains of views may be long."""
    while True:
        bp = pc.parents[0]
        now = _parent_state(bp, clock)
        then = _parent_state(bp, pc._clock)
        if now[0] is not then[0] or now[1] != then[1]:
            if bp._shape_history is None or not reshaped_between(bp, pc._clock, clock):
                return True
            if not _only_reshaped(now[0], then[0]):   # reshaped in place, and written too
                raise RuntimeError(VIEW_OF_RESHAPED)
            # only in-place reshapes since: the view's memory and elements are the same, not stale
        pc = then[0]
        if pc is None or not pc.is_view or pc._clock >= clock:
            return False


VIEW_OF_RESHAPED = ("a view of a tensor taken before an in-place unsqueeze_ / squeeze_ / t_ / transpose_ of that "
                    "tensor in the graph, used after the tensor was also written in place, is not supported "
                    "here: take the view after the shape change, or clone() it")


def _only_reshaped(node, then):
    """True when graph node `node` is `then` after nothing but in-place reshapes
    (inplace_reshape.py marks their nodes _inplace_reshape; a reshape's input is the tensor
    before it, read as it was when the reshape was recorded)."""
    while node is not then:
        if node is None or not node.__dict__.get("_inplace_reshape"):
            return False
        node = _parent_state(node.parents[0], node._clock)[0]
    return True


def _chain_last_write(pc, memo):
    """The clock of the latest in-place rebase of a tensor up view node pc's chain of views (-1
    for none): a view taken after it cannot be stale (a base rebased after the view was taken has a
    later one; the chain is followed through each base's current node, which is the one the view
    was taken from unless that base was rebased since). Memoised per backward (memo: id(node) ->
    clock), so a long chain of views (x = x[1:] per step) is walked once, not once per use."""
    path, own = [], []
    last = -1
    while True:
        known = memo.get(id(pc))
        if known is not None:
            last = known
            break
        bp = pc.parents[0]
        hist = getattr(bp, "_hist", None)
        path.append(pc)
        own.append(hist.bounds[-1] if hist is not None and len(hist) else -1)
        pc = bp._ctx
        if pc is None or not pc.is_view:
            break
    for node, mine in zip(reversed(path), reversed(own)):   # from the top of the chain down
        last = max(last, mine)
        memo[id(node)] = last
    return memo[id(path[0])] if path else last


def _view_at(pc, clock, clones):
    """A copy of view node pc as if taken at `clock`: its parent (the base) resolves to the
    base's state then (one copy per node and clock; a view node keeps no arrays to duplicate)."""
    key = (id(pc), clock)
    c = clones.get(key)
    if c is None:
        c = clones[key] = type(pc).__new__(type(pc))
        c.parents, c.needs_input_grad, c.saved_tensors = pc.parents, pc.needs_input_grad, pc.saved_tensors
        c.b, c.device, c._clock = pc.b, pc.device, clock
        c.__dict__.update(pc.__dict__)   # (its _seq too: it runs where pc would)
        c._reread, c._origin = True, id(pc) if not pc._reread else pc._origin
    return c


def _toposort(root_ctx, floor=0):
    """Functions reachable from root_ctx, parents before children (iterative DFS), and the
    parents each one saw: edges[k] (for order[k]) = [(tensor, its node then, output index,
    requires_grad), ...] in the order of node.parents (a tensor rebased by an in-place op after
    node used it resolves to its node before the write, see _parent_state; a view whose base was
    rebased between the view and node resolves to the view read from the later base).
    floor: the walk does not go past a node made before node number `floor` (autograd.grad of
    non-leaf inputs: a node made before all of them cannot lead to one, see sweep_floor); its
    edge is still listed."""
    order, visited, edges, clones, last_writes = [], {id(root_ctx)}, [], {}, {}
    stack = [(root_ctx, iter(root_ctx.parents), [])]
    while stack:
        node, it, seen = stack[-1]
        clock = node._clock
        for p in it:
            pc = p._ctx
            if pc is None:
                state = None if p.requires_grad or not _any_detached else _detached_edge(node, p, clock)
                if state is None:
                    seen.append((p, None, p._idx, p.requires_grad))
                    continue
                pc, i, req = state   # p was detach_()ed after node used it
                pclock = pc._clock
            else:
                pclock = pc._clock
                if pclock > clock:
                    pc, i, req = _parent_state(p, clock)   # p was rebased after node used it
                    pclock = pc._clock if pc is not None else clock
                    if p._shape_history is not None:   # and reshaped in place: p as node saw it
                        p = shape_then(p, clock)
                else:
                    i, req = p._idx, p.requires_grad
            if pclock < clock and pc.is_view:   # a view made before node, with writes since: maybe stale
                # the graph as node saw it: before its own write (an in-place op's nodes share
                # its clock, nodes after it have later ones, inplace._retarget), or, for a view
                # read again, at the clock it was read at
                seen_at = clock if node._reread else clock - 1
                if (pc._clock < seen_at and _chain_last_write(pc, last_writes) > pc._clock
                        and _stale_view(pc, seen_at)):
                    from tinygrad_seq.view_regen import refuse_multi_output_view
                    refuse_multi_output_view(pc, i)   # split / chunk / unbind outputs: torch's error
                    pc = _view_at(pc, seen_at, clones)
            seen.append((p, pc, i, req))
            if pc is not None and id(pc) not in visited and (pc._seq >= floor or pc.is_view or pc._reread):
                visited.add(id(pc))
                stack.append((pc, iter(pc.parents), []))
                break
        else:
            stack.pop()
            order.append(node)
            edges.append(seen)
    return order, edges


def sweep_floor(tensors):
    """The lowest node number a sweep for autograd.grad's inputs `tensors` must visit: nodes are
    numbered as they are made, after their parents' (a tensor rebased by an in-place op resolves
    to its node then, a view read from a later base is walked through), so one made before all
    the inputs' nodes cannot lead to one. 0 (walk everything) when an input is a leaf. A rollout
    calling grad(create_graph=True) every step walked its whole history each time (a 40-step
    leapfrog trained 3 times: 2.2 s, torch's 0.12)."""
    floor = None
    for t in tensors:
        if t._ctx is None:
            return 0
        floor = t._ctx._seq if floor is None else min(floor, t._ctx._seq)
    return floor or 0


# nodes are numbered as they are made (autograd.Function.apply), as torch numbers them (sequence_nr)
next_seq = itertools.count(1).__next__


def torch_order(order, edges):
    """_toposort's (order, edges) in the order torch's engine runs the nodes: the ready node
    made last first, which is increasing creation number here (the sweep walks order backwards)
    wherever every node was made after the nodes of the tensors it used. Hooks then fire in
    torch's order (two branches of one sum, a module's parameters' post-accumulate hooks) and a
    gradient's contributions add up in torch's order. A graph this does not hold for (a node
    without a number, a clone of a view read again) keeps the depth-first order."""
    seqs = [c._seq for c in order]
    if all(a < b for a, b in zip(seqs, seqs[1:])):
        return order, edges
    number = {id(c): s for c, s in zip(order, seqs)}
    for s, seen in zip(seqs, edges):
        if s == 0 or any(pc is not None and number.get(id(pc), s) >= s for _, pc, _, _ in seen):
            return order, edges
    ranks = sorted(range(len(order)), key=seqs.__getitem__)
    return [order[k] for k in ranks], [edges[k] for k in ranks]
