"""``PackedSequence``: a batch of sequences packed for the recurrent layers (what
``nn.LSTM`` reads, beside ``torch.nn.utils.rnn``, which makes them; see that module)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from fnnet.torch.tensor import Tensor


def host_lengths(lengths: Any, who: str) -> list[int]:
    """``lengths`` (a list of ints or a 1-D integer tensor) as Python ints."""
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1 or lengths.dtype.is_floating_point:
            raise ValueError(f"{who}: lengths must be a 1-D integer tensor, got shape "
                             f"{tuple(lengths.shape)} and dtype {lengths.dtype}")
        lengths = lengths.tolist()
    try:
        values = [int(n) for n in lengths]
    except TypeError:
        raise TypeError(f"{who}: lengths must be a list of ints or a 1-D tensor, got "
                        f"{type(lengths).__name__}") from None
    return values


def packed_positions(sorted_lengths: Sequence[int]) -> np.ndarray:
    """Where each packed row sits in the time-major padded batch flattened to
    ``[T * B]``: step by step, the sequences (sorted by decreasing length) still
    running."""
    lengths = np.asarray(sorted_lengths)
    running = np.arange(int(lengths.max()))[:, None] < lengths[None, :]
    return np.flatnonzero(running.ravel())


class PackedSequence(NamedTuple):
    """A batch of sequences packed for the recurrent layers.

    Attributes:
        data: ``[sum(lengths), *]``, time-major over the length-sorted sequences.
        batch_sizes: ``[T]`` int64, how many sequences run at each step.
        sorted_indices: the batch index of each sorted sequence (None if the batch
            came sorted, ``enforce_sorted=True``).
        unsorted_indices: the inverse permutation (None likewise).

    PyTorch equivalent: ``torch.nn.utils.rnn.PackedSequence``.
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def sorted_lengths(self) -> list[int]:
        """The sequences' lengths in decreasing order (read from ``batch_sizes``)."""
        sizes = np.asarray(self.batch_sizes.tolist())
        return [int(n) for n in (sizes[None, :] > np.arange(int(sizes[0]))[:, None]).sum(1)]

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self._replace(data=self.data.to(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self._replace(data=self.data.cuda(*args, **kwargs))

    @property
    def is_cuda(self) -> bool:
        return bool(self.data.is_cuda)

    def is_pinned(self) -> bool:
        return False
