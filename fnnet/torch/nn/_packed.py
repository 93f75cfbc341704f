"""``PackedSequence``: a batch of sequences packed for the recurrent layers (what
``nn.LSTM`` reads, beside ``torch.nn.utils.rnn``, which makes them; see that module)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, cast

import numpy as np

from fnnet.torch import _dtypes
from fnnet.torch.tensor import Tensor, _as_tensor


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


def index_tensor(values: Any) -> Tensor:
    """An int64 tensor of host integers (indices, lengths)."""
    return _as_tensor(np.asarray(values, _dtypes.to_np(_dtypes.int64)))


class _Fields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


class PackedSequence(_Fields):
    """A batch of sequences packed for the recurrent layers.

    Attributes:
        data: ``[sum(lengths), *]``, time-major over the length-sorted sequences.
        batch_sizes: ``[T]`` int64, how many sequences run at each step.
        sorted_indices: the batch index of each sorted sequence (None if the batch
            came sorted, ``enforce_sorted=True``).
        unsorted_indices: the inverse permutation (None likewise).

    One made by ``pack_padded_sequence`` or a recurrent layer keeps the padded batch it
    came from and records ``data`` only where it is read: the recurrent layers and
    ``pad_packed_sequence`` work on the padded batch, so a recorded step depends on the
    padded length and not on the sum of the lengths (which changes with every batch).

    PyTorch equivalent: ``torch.nn.utils.rnn.PackedSequence``.
    """

    @classmethod
    def of_padded(cls, padded: Tensor, lengths: list[int], sorted_indices: Tensor | None,
                  unsorted_indices: Tensor | None) -> PackedSequence:
        """The packed form of ``padded [T, B, *]`` (time-major, sequences sorted by
        decreasing ``lengths``), its ``data`` recorded when first read."""
        batch_sizes = index_tensor([sum(1 for n in lengths if n > t)
                                    for t in range(lengths[0])])
        packed = cls(cast(Tensor, None), batch_sizes, sorted_indices, unsorted_indices)
        packed.__dict__["_padded"] = padded, lengths
        return packed

    @property
    def data(self) -> Tensor:
        """``[sum(lengths), *]`` (recorded from the padded batch when first read)."""
        value = tuple.__getitem__(self, 0)
        if value is None:
            value = self.__dict__.get("_data")
        if value is None:
            padded, lengths = self.__dict__["_padded"]
            rows = padded.reshape(padded.shape[0] * padded.shape[1], *padded.shape[2:])
            value = rows.index_select(0, index_tensor(packed_positions(lengths)))
            self.__dict__["_data"] = value
        return value

    def __iter__(self) -> Iterator[Any]:
        yield self.data
        yield from tuple.__getitem__(self, slice(1, None))

    def __getitem__(self, index: Any) -> Any:
        return tuple(self)[index]

    def __repr__(self) -> str:
        return (f"PackedSequence(data={self.data!r}, batch_sizes={self.batch_sizes!r}, "
                f"sorted_indices={self.sorted_indices!r}, "
                f"unsorted_indices={self.unsorted_indices!r})")

    def sorted_lengths(self) -> list[int]:
        """The sequences' lengths in decreasing order (read from ``batch_sizes``)."""
        if "_padded" in self.__dict__:
            return list(self.__dict__["_padded"][1])
        sizes = np.asarray(self.batch_sizes.tolist())
        return [int(n) for n in (sizes[None, :] > np.arange(int(sizes[0]))[:, None]).sum(1)]

    def padded(self) -> Tensor:
        """The time-major padded batch ``[T, B, *]`` of the sorted sequences, anything
        past a sequence's length (``T`` at least the longest length)."""
        if "_padded" in self.__dict__:
            return cast(Tensor, self.__dict__["_padded"][0])
        data, lengths = self.data, self.sorted_lengths()
        full = data.new_zeros((lengths[0] * len(lengths), *data.shape[1:]))
        rows: Tensor = full.index_copy(0, index_tensor(packed_positions(lengths)), data)
        return rows.reshape(lengths[0], len(lengths), *data.shape[1:])

    def _with_padded(self, padded: Tensor) -> PackedSequence:
        return self.of_padded(padded, self.sorted_lengths(), self.sorted_indices,
                              self.unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        if "_padded" in self.__dict__:
            return self._with_padded(self.padded().to(*args, **kwargs))
        return self._replace(data=self.data.to(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        if "_padded" in self.__dict__:
            return self._with_padded(self.padded().cuda(*args, **kwargs))
        return self._replace(data=self.data.cuda(*args, **kwargs))

    @property
    def is_cuda(self) -> bool:
        return bool(self.padded().is_cuda if "_padded" in self.__dict__ else self.data.is_cuda)

    def is_pinned(self) -> bool:
        return False
