"""torch.distributed.algorithms.ddp_comm_hooks.default_hooks: allreduce_hook, fp16_compress_hook,
bf16_compress_hook, as torch 2.13's.

    ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)   # state: the process group

Each divides the bucket by the group's size first (so a float16 sum cannot overflow where the
mean would not) and all-reduces it without blocking; the returned Future's value is the reduced
flat bucket, which DDP writes into .grad.

bfloat16. numpy has no bfloat16, so bf16_compress_hook rounds the float32 bucket to bfloat16's
precision (round to nearest, ties to even, on the top 16 bits of each float32, as torch's
.to(torch.bfloat16)), divides and rounds again (torch's div_ on a bfloat16 tensor), all-reduces
those values in float32 and rounds the sum to bfloat16 precision: the values NCCL's bfloat16
all-reduce gives torch for 2 ranks (each addition rounded to bfloat16); with more ranks the
partial sums are rounded once, at the end, instead of after each addition. torch 2.13 itself
refuses this hook without CUDA 11+ and NCCL (a TypeError at register_comm_hook on gloo); here
it runs on any rank.
"""
from __future__ import annotations

import numpy as np

from tinygrad_seq import distributed as dist


def _allreduce_fut(process_group, tensor):
    """Divide `tensor` by the group's size in place, all-reduce it; a Future of the tensor."""
    tensor.div_(dist.get_world_size(process_group))
    return (dist.all_reduce(tensor, group=process_group, async_op=True).get_future()
            .then(lambda fut: fut.value()[0]))


def allreduce_hook(process_group, bucket):
    """The mean over the ranks of the bucket (what DDP does without a hook)."""
    return _allreduce_fut(process_group, bucket.buffer())


def fp16_compress_hook(process_group, bucket):
    """The bucket cast to float16, divided by the group's size, summed over the ranks in float16
    and written back into the bucket (half the bytes on the wire, float16's precision)."""
    buffer = bucket.buffer()
    from tinygrad_seq.dtypes import float16
    compressed = buffer.to(float16).div_(dist.get_world_size(process_group))

    def decompress(fut):
        buffer.copy_(fut.value()[0])   # in place: no second bucket-sized buffer
        return buffer

    return dist.all_reduce(compressed, group=process_group, async_op=True).get_future().then(decompress)


def round_to_bfloat16(values: np.ndarray) -> np.ndarray:
    """float32 `values` rounded to bfloat16's precision (kept as float32): round to nearest,
    ties to even, on bit 16 of each float32; NaN stays NaN, overflow becomes inf (as torch's)."""
    x = np.ascontiguousarray(values, dtype=np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    return np.where(np.isnan(x), x, rounded)


def bf16_compress_hook(process_group, bucket):
    """fp16_compress_hook with bfloat16 (float32's range, 8 bits of precision), emulated on
    float32 values rounded to bfloat16's precision (see the module docstring)."""
    from tinygrad_seq.tensor import Tensor
    buffer = bucket.buffer()
    world = dist.get_world_size(process_group)
    host = buffer.detach().cpu().numpy().astype(np.float32, copy=False)
    compressed = Tensor._wrap(round_to_bfloat16(round_to_bfloat16(host) / np.float32(world)), "cpu")

    def decompress(fut):
        total = fut.value()[0].numpy()
        buffer.copy_(Tensor._wrap(round_to_bfloat16(total), "cpu"))
        return buffer

    return dist.all_reduce(compressed, group=process_group, async_op=True).get_future().then(decompress)


__all__ = ["allreduce_hook", "fp16_compress_hook", "bf16_compress_hook", "round_to_bfloat16"]
