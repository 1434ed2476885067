"""The signal of a create_graph=True backward that a node's call has no graph backward (an
option its composition or formula lacks): higher_order.node_backward then runs the node
first-order only. Here, below recompose.py, so the graph backwards it lists can raise it."""


class NoGraph(Exception):
    """This node's call cannot be recomposed (an option the composition lacks): the node runs
    first-order only."""
