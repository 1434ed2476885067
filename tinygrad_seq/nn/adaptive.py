"""nn.AdaptiveLogSoftmaxWithLoss: torch's adaptive softmax (Grave et al., "Efficient softmax
approximation for GPUs", 2017), composed from Tensor ops.

The classes are split by `cutoffs` (sorted by frequency, most frequent first): classes
[0, cutoffs[0]) form the shortlist, scored directly by the head; each further range
[cutoffs[i], cutoffs[i+1]) (the last ending at n_classes) is a cluster with one more head output
(its total log-probability) and its own two-layer projection tail[i]:
    in_features -> in_features // div_value ** (i + 1) -> cluster size.
    log p(c) = head_logprob[c]                                       c in the shortlist
    log p(c) = head_logprob[shortlist + i] + cluster_logprob_i[c - cutoffs[i]]   c in cluster i
A forward computes each cluster's tail only on the rows whose target falls in it.

Parameters as torch names them, so state dicts move both ways: head.weight
[shortlist + clusters, in_features] (head.bias with head_bias=True), tail.{i}.0.weight
[hidden_i, in_features], tail.{i}.1.weight [cluster size, hidden_i].
forward(input [N, in_features] or [in_features], target [N] or []) -> _ASMoutput(output, loss):
output [N] (or []) the target's log-probability per row, loss the mean of -output.
"""
from collections import namedtuple

import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq.functions import cat
from tinygrad_seq.nn.container import ModuleList, Sequential
from tinygrad_seq.nn.layers import Linear
from tinygrad_seq.nn.module import Module
from tinygrad_seq.tensor import Tensor

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax approximation: see the module docstring for the model and the shapes."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None,
                 dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an "
                             "increasing order, where each value is between 1 and n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        factory = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))   # may be 0, as in torch
            cluster_size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **factory),
                                        Linear(hidden, cluster_size, bias=False, **factory)))

    def reset_parameters(self):
        """The parameters drawn again as at construction (each Linear's own initialisation)."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        target_dim = target_.dim()
        if target_dim == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                                   f"size {input_.size()}")
        elif target_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                                   f"size {input_.size()}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if target_.dtype.kind not in "iu":
            raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: target must hold class indices (an integer "
                               f"tensor), got dtype {target_.dtype}")
        is_batched = target_dim > 0
        input = input_ if is_batched else input_.unsqueeze(0)       # [N, in_features]
        targets = target_.numpy().reshape(-1).astype(np.int64)        # [N], on the host
        batch_size = targets.shape[0]
        if batch_size and (targets.min() < 0 or targets.max() >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{targets.min()}, {targets.max()}] were found. ")

        def on_device(array):
            return Tensor(array, device=input.device)

        # output: the within-cluster log-probability of each row's target (0 for the shortlist);
        # head_index: the head output each row's target goes through
        output = input.new_zeros(batch_size)
        head_index = targets.copy()
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            rows = np.flatnonzero((targets >= low) & (targets < high))
            if rows.size == 0:
                continue   # a cluster no target falls in costs nothing
            row_index = on_device(rows)
            cluster_logprob = F.log_softmax(self.tail[i](input.index_select(0, row_index)), dim=1)
            relative_target = on_device(targets[rows] - low).unsqueeze(1)            # [n_i, 1]
            output = output.index_copy(0, row_index, cluster_logprob.gather(1, relative_target).squeeze(1))
            head_index[rows] = self.shortlist_size + i
        head_logprob = F.log_softmax(self.head(input), dim=1)                       # [N, head_size]
        output = output + head_logprob.gather(1, on_device(head_index).unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        if not is_batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input, head_output):
        """[N, n_classes] log-probabilities from input [N, in_features] and head_output [N, head_size]."""
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, dim=1)

    def log_prob(self, input):
        """Log-probabilities of every class: input [N, in_features] -> [N, n_classes]."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most probable class of each row, log_prob(input).argmax(dim=1), computing the tails
        only for rows whose best head output is a cluster: input [N, in_features] -> [N] int64."""
        head_output = self.head(input)
        output = head_output.argmax(dim=1)
        not_in_shortlist = output >= self.shortlist_size
        if not not_in_shortlist.any():
            return output
        if not_in_shortlist.all():
            return self._get_full_log_prob(input, head_output).argmax(dim=1)
        log_prob = self._get_full_log_prob(input[not_in_shortlist], head_output[not_in_shortlist])
        output[not_in_shortlist] = log_prob.argmax(dim=1)
        return output
