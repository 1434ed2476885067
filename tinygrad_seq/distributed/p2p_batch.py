"""torch.distributed's batched point-to-point messages: P2POp and batch_isend_irecv (a ring
exchange posts its isend and irecv together, then waits on the requests)."""
from tinygrad_seq.distributed.point_to_point import irecv, isend

_OP_ERROR = ("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or "
             "``torch.distributed.irecv``.")


class P2POp:
    """One message of batch_isend_irecv: op (isend or irecv), the tensor sent or received into,
    the peer's rank (global, or group_peer within `group`), the tag."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        from tinygrad_seq.tensor import Tensor
        if op is not isend and op is not irecv:
            raise ValueError(_OP_ERROR)
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Invalid function argument. Expected parameter `tensor` of type torch.Tensor "
                            f"but got {type(tensor)} instead.")
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = op, tensor, peer, group, tag, group_peer

    def __repr__(self):
        return f"P2POp({self.op.__name__}, peer={self.peer}, {tuple(self.tensor.shape)}, {self.tensor.dtype})"


def batch_isend_irecv(p2p_op_list):
    """Post every message of p2p_op_list (P2POps of one group), in order; the list of their
    requests (Work: wait() on each), as torch's for a backend without coalescing."""
    if not isinstance(p2p_op_list, list) or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type ``torch.distributed.P2POp``.")
    group = p2p_op_list[0].group
    if not all(p.group is group for p in p2p_op_list):
        raise ValueError("All ops need to use the same group.")
    requests = []
    for p in p2p_op_list:
        if p.op is isend:
            work = isend(p.tensor, dst=p.peer, group=p.group, tag=p.tag, group_dst=p.group_peer)
        else:
            work = irecv(p.tensor, src=p.peer, group=p.group, tag=p.tag, group_src=p.group_peer)
        if work is not None:
            requests.append(work)
    return requests
