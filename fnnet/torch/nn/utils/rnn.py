"""``torch.nn.utils.rnn``: padding a batch of sequences of different lengths and packing
it for ``nn.RNN``/``LSTM``/``GRU``.

A :class:`PackedSequence` holds PyTorch's layout: ``data [sum(lengths), *]`` is time-major
over the sequences sorted by decreasing length, ``batch_sizes[t]`` is how many are still
running at step ``t``. The lengths are host integers (as PyTorch, which wants them on
the CPU). A packed batch keeps the padded one it was made from (see
:class:`PackedSequence`): the recurrent layers run it masked by the lengths, so batches
of other lengths but the same padded length record the same step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fnnet.torch.nn._packed import PackedSequence, host_lengths, index_tensor
from fnnet.torch.tensor import Tensor, _as_tensor


def pad_sequence(sequences: Sequence[Tensor] | Tensor, batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stacks sequences ``[L_i, *]`` into ``[T, B, *]`` (``[B, T, *]`` if
    ``batch_first``), padding each to the longest ``T`` with ``padding_value``.

    PyTorch equivalent: ``torch.nn.utils.rnn.pad_sequence``.
    """
    from fnnet.torch._functions import cat, stack

    if padding_side not in ("right", "left"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    for index, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"expected Tensor as element {index} in argument 0, but got "
                            f"{type(s).__name__}")
    first = sequences[0]
    if first.ndim == 0:  # PyTorch's words for slicing the sizes of a 0-d tensor
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    if any(s.ndim == 0 for s in sequences):
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        # PyTorch copies each sequence into an output of the first one's trailing sizes
        # and dtype: a sequence broadcasts to them and takes that dtype
        s = _as_copied(s, (s.shape[0], *first.shape[1:]), first.dtype)
        fill = s.new_full((longest - s.shape[0], *s.shape[1:]), padding_value)
        padded.append(cat([s, fill] if padding_side == "right" else [fill, s]))
    return stack(padded, 0 if batch_first else 1)


def _as_copied(sequence: Tensor, shape: tuple[int, ...], dtype: Any) -> Tensor:
    """``sequence`` as ``copy_`` writes it into a region of ``shape`` and ``dtype``.

    Raises:
        RuntimeError: it does not broadcast to ``shape`` (``copy_``'s words).
    """
    from fnnet.torch._graph import broadcast_mismatch

    given = tuple(sequence.shape)
    if given != shape:
        mismatch = broadcast_mismatch([shape, given])
        if mismatch is not None:
            raise RuntimeError(mismatch)
        broadcast = tuple(np.broadcast_shapes(shape, given))
        if broadcast != shape:
            raise RuntimeError(f"output with shape {list(shape)} doesn't match the "
                               f"broadcast shape {list(broadcast)}")
        sequence = sequence.expand(*shape)
    return sequence if sequence.dtype == dtype else sequence.to(dtype)


def _packed_lengths(lengths: Any) -> list[int]:
    """``pack_padded_sequence``'s lengths as PyTorch reads them: as int64 (a float
    length truncated), refused unless 1-D."""
    from fnnet.torch._functions import as_tensor

    if lengths is None:  # PyTorch's reading of it as a sequence of ints
        raise TypeError("'NoneType' object cannot be interpreted as an integer")
    if not isinstance(lengths, Tensor):
        lengths = as_tensor(lengths)
    if lengths.dim() != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.dim()}D cpu Long tensor")
    return [int(n) for n in lengths.tolist()]


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Packs a padded batch ``[T, B, *]`` (``[B, T, *]`` if ``batch_first``) whose
    sequence ``b`` has ``lengths[b]`` valid steps.

    PyTorch equivalent: ``torch.nn.utils.rnn.pack_padded_sequence``.
    """
    values = _packed_lengths(lengths)
    x = input.transpose(0, 1) if batch_first else input
    if len(values) != x.shape[1]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(values)} (batch_size={x.shape[1]})")
    if min(values) <= 0:  # an empty sequence cannot be packed
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if max(values) > x.shape[0]:
        raise RuntimeError(f"pack_padded_sequence: a length ({max(values)}) exceeds the "
                           f"padded length {x.shape[0]}")
    if enforce_sorted:
        if any(a < b for a, b in zip(values, values[1:], strict=False)):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted="
                               "False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX "
                               "exportability.")
        order = list(range(len(values)))
        sorted_indices = unsorted_indices = None
    else:
        order = [int(i) for i in np.argsort(-np.asarray(values), kind="stable")]
        sorted_indices = index_tensor(order)
        unsorted_indices = index_tensor(np.argsort(order))
        x = x.index_select(1, sorted_indices)
    return PackedSequence.of_padded(x, [values[i] for i in order], sorted_indices,
                                    unsorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """The padded batch ``[T, B, *]`` (``[B, T, *]`` if ``batch_first``) of a packed
    one, in the original batch order, and the lengths (int64).

    PyTorch equivalent: ``torch.nn.utils.rnn.pad_packed_sequence``.
    """
    from fnnet.torch._functions import cat

    sorted_lengths = sequence.sorted_lengths()
    steps = sorted_lengths[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the "
                             f"longest sequence in input, but got total_length="
                             f"{total_length} and max sequence length being {steps}")
        steps = total_length
    padded = sequence.padded()
    if padded.shape[0] > steps:
        padded = padded[:steps]
    elif padded.shape[0] < steps:
        padded = cat([padded, padded.new_zeros((steps - padded.shape[0], *padded.shape[1:]))])
    past = np.arange(steps)[:, None] >= np.asarray(sorted_lengths)[None, :]
    padded = padded.masked_fill(_as_tensor(past.reshape(*past.shape, *(1,) * (padded.dim() - 2))),
                                padding_value)
    lengths = sorted_lengths
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = [sorted_lengths[i] for i in sequence.unsorted_indices.tolist()]
    return (padded.transpose(0, 1) if batch_first else padded), index_tensor(lengths)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True
                  ) -> PackedSequence:
    """Pads then packs sequences ``[L_i, *]``.

    PyTorch equivalent: ``torch.nn.utils.rnn.pack_sequence``.
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False
                   ) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length.

    PyTorch equivalent: ``torch.nn.utils.rnn.unpad_sequence``.
    """
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b, :n] for b, n in enumerate(host_lengths(lengths, "unpad_sequence"))]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a packed batch, in the original order.

    PyTorch equivalent: ``torch.nn.utils.rnn.unpack_sequence``.
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (a 1-D tensor of indices), as a
    PackedSequence's ``unsorted_indices`` undo its ``sorted_indices``; None for None.

    PyTorch equivalent: ``torch.nn.utils.rnn.invert_permutation``.
    """
    if permutation is None:
        return None
    from fnnet.torch._functions import arange

    inverse: Tensor = permutation.new_empty(permutation.shape).scatter_(
        0, permutation, arange(permutation.numel()))
    return inverse


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.nn.utils.rnn.{name}; pad the batch "
        f"(pad_sequence) and pack it (pack_padded_sequence)")
