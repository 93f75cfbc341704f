"""``nn.AdaptiveLogSoftmaxWithLoss``: a softmax over many classes split into a head and
clusters of rarer classes, each cluster behind a smaller projection."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from fnnet.torch._functions import cat
from fnnet.torch.nn import functional as F
from fnnet.torch.nn.modules.container import ModuleList, Sequential
from fnnet.torch.nn.modules.linear import Linear
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor

#: what ``forward`` returns: each example's log-probability of its target, and the loss
_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """PyTorch equivalent: ``torch.nn.AdaptiveLogSoftmaxWithLoss``.

    The classes below ``cutoffs[0]`` (the shortlist) share the head's softmax with one
    column per cluster; a class of cluster ``i`` (from ``cutoffs[i]`` to the next cutoff)
    has the log-probability of its cluster's column plus its own within the cluster,
    from a projection to ``in_features // div_value**(i + 1)`` features.

    PyTorch computes each cluster only for the examples whose targets fall in it, which
    makes the shapes depend on the targets' values; here every cluster is computed for
    the whole batch and each example keeps its own cluster's term, so a training step
    compiles once whatever its labels. An out-of-range target raises PyTorch's error
    where the labels are known on the host (a loader's batch), and gives NaN otherwise,
    as the shim's cross-entropy does.
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int],
                 div_value: float = 4.0, head_bias: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1 \
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs):
            raise ValueError("cutoffs should be a sequence of unique, positive integers "
                             "sorted in an increasing order, where each value is between 1 "
                             "and n_classes-1")
        factory = {"device": device, "dtype": dtype}
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **factory),
                                        Linear(hidden, size, bias=False, **factory)))

    def reset_parameters(self) -> None:
        """Initialises the head and the clusters' projections afresh."""
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection.children():
                layer.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        """Each example's log-probability of its target, and their mean's negative.

        Args:
            input_: ``[N, in_features]`` (or ``[in_features]`` with a 0-d target).
            target_: ``[N]`` class indices (or 0-d).

        Returns:
            ``(output [N], loss [])``.
        """
        self._check_shapes(input_, target_)
        batched = target_.dim() > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        self._check_known_targets(target)
        head_logprob = F.log_softmax(self.head(input), dim=1)
        # the head's column of each example: its class, or its class's cluster
        column = target.clamp(0, self.shortlist_size)
        for low in self.cutoffs[1:-1]:
            column = column + (target >= low).long()
        output = head_logprob.gather(1, column.unsqueeze(1)).squeeze(1)
        for i, (low, high) in enumerate(zip(self.cutoffs, self.cutoffs[1:], strict=False)):
            inside = (target >= low) & (target < high)
            within = F.log_softmax(self.tail[i](input), dim=1).gather(
                1, (target - low).clamp(0, high - low - 1).unsqueeze(1)).squeeze(1)
            output = output + within.where(inside, 0.0)
        valid = (target >= 0) & (target < self.n_classes)
        output = output.where(valid, float("nan"))
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _check_shapes(self, input_: Tensor, target_: Tensor) -> None:
        """PyTorch's errors for an input and target that do not pair up."""
        if target_.dim() == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError("Input and target should have the same size in the "
                                   "batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {input_.size()}")
        elif target_.dim() == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {input_.size()}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")

    def _check_known_targets(self, target: Tensor) -> None:
        """PyTorch's error for targets out of range, where their values are on the host
        (computed, or a loader's batch); recorded ones are not read here."""
        value = target._cell.val
        if value is None:
            value = getattr(target._cell, "host", None)
            if value is None:
                return
        labels = np.asarray(value)
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{labels.min()}, {labels.max()}] were "
                               f"found. ")

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            within = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(within + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, dim=1)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of all ``n_classes``: ``[N, in_features] -> [N, n_classes]``."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most probable class of each example, ``[N]`` (``log_prob(input).argmax(1)``:
        a class of the shortlist that wins the head beats every cluster's classes)."""
        return self.log_prob(input).argmax(dim=1)
