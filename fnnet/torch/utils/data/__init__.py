"""``torch.utils.data``: Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset,
random_split, DataLoader (and, in
:mod:`~fnnet.torch.utils.data.distributed`, DistributedSampler).

A :class:`TensorDataset` of at most :data:`DEVICE_DATASET_BYTES` is copied to the
device once, the first time a ``DataLoader`` iterates over it, and each batch is then
recorded into the step that reads it as a window of the device copy at a dynamic offset
(the rows in order) or a gather of the order's indexes (shuffled or sampled): no host
work or host-to-device copy per batch, as a PyTorch loop that keeps its dataset on the
GPU (the losses check a batch's labels against a host copy, without waiting for the
device). A larger one is indexed on the host with one
fancy-indexing call per batch, and its batches are copied to the device two ahead of
the one in use, so the copy overlaps the steps (as ``pin_memory`` and ``non_blocking``
copies do in PyTorch). Other datasets' batches are read when the loop asks for them
(their ``__getitem__`` may draw random numbers, whose order must not change) and reach
the device as inputs of the compiled step. Shuffling draws a
permutation from ``generator`` or, without one, from the global PRNG seeded by
``torch.manual_seed``; the order differs from PyTorch's (another PRNG), so parity tests
pass the same index order as ``sampler``.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from typing import TYPE_CHECKING, Any

import numpy as np

from fnnet.core.transfer import copy_to_device
from fnnet.data.loader import prefetch_to_device
from fnnet.torch import _graph, _random
from fnnet.torch.tensor import Tensor, _wrap_value
from fnnet.torch.utils.data import distributed  # noqa: F401 (torch.utils.data.distributed)
from fnnet.torch.utils.data.distributed import DistributedSampler  # noqa: F401
from fnnet.torch.utils.data.sampler import (  # noqa: F401
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


class Dataset:
    """Map-style dataset: ``__getitem__`` and ``__len__``. PyTorch: ``Dataset``.

    There is no default ``__len__``, as in PyTorch: ``len()`` of a dataset without one
    raises TypeError, which ``list(loader)`` of a stream with no length relies on.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    if TYPE_CHECKING:  # what a subclass defines; no default at run time (see above)
        def __len__(self) -> int: ...


class IterableDataset(Dataset):
    """A dataset read as a stream (``__iter__``): lines of a file, a generator's samples.
    A ``DataLoader`` batches what it yields, in order. PyTorch: ``IterableDataset``."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


def get_worker_info() -> None:
    """None: a ``DataLoader`` here reads its dataset in the calling process (an
    ``IterableDataset`` that splits its stream among workers reads all of it).

    PyTorch equivalent: ``torch.utils.data.get_worker_info``.
    """
    return None


class TensorDataset(Dataset):
    """Samples are the ``index``-th rows of each tensor. PyTorch: ``TensorDataset``.

    Raises:
        AssertionError: the tensors' first dimensions differ (PyTorch's assertion).
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise AssertionError("Size mismatch between tensors")  # PyTorch's assert
        self.tensors = tuple(tensors)
        self._host = tuple(_host_array(t) for t in tensors)  # in the dtypes batches take
        self._device: tuple[Tensor, ...] | None = None

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        size = len(self._host[0])
        if isinstance(index, (int, np.integer)) and not -size <= index < size:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {size}")
        return tuple(_wrap_value(_host_array(a[index])) for a in self._host)

    def __len__(self) -> int:
        return len(self._host[0])

    def _on_device(self) -> tuple[Tensor, ...] | None:
        """The tensors as tensors of device arrays (copied once), or None when they
        take more than :data:`DEVICE_DATASET_BYTES`."""
        if self._device is None:
            arrays = self._host
            if sum(a.nbytes for a in arrays) > DEVICE_DATASET_BYTES:
                return None
            # private copies: the device copy is asynchronous and must not see later writes
            self._device = tuple(_wrap_value(a)
                                 for a in copy_to_device([np.array(a) for a in arrays]))
        return self._device


class Subset(Dataset):
    """PyTorch equivalent: ``torch.utils.data.Subset``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The samples of several datasets, one after another.

    PyTorch equivalent: ``torch.utils.data.ConcatDataset``.
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: _random.Generator | None = None) -> list[Subset]:
    """Splits ``dataset`` into non-overlapping random :class:`Subset` s.

    Args:
        dataset: the dataset to split.
        lengths: the size of each split, or fractions summing to 1 (the items left over by
            flooring go one each to the first splits, as in PyTorch).
        generator: a :class:`fnnet.torch.Generator` for the permutation (default: the
            global PRNG seeded by ``torch.manual_seed``); the split differs from PyTorch's.

    Returns:
        One :class:`Subset` per length.

    Raises:
        ValueError: a fraction outside [0, 1], or lengths that do not add up to
            ``len(dataset)``.
        TypeError: a length that is neither an int nor one of fractions summing to 1.

    PyTorch equivalent: ``torch.utils.data.random_split``.
    """
    n = len(dataset)
    given = list(lengths)
    if math.isclose(sum(given), 1) and sum(given) <= 1:
        for i, frac in enumerate(given):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        sizes = [int(math.floor(n * frac)) for frac in given]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, count in enumerate(sizes):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=2)
    else:
        if sum(given) != n:  # PyTorch's check comes first: fractions of another sum too
            raise ValueError(f"Sum of input lengths does not equal the length of the "
                             f"input dataset! (lengths {given} sum to {sum(given)}, the "
                             f"dataset has {n})")
        sizes = []
        for i, size in enumerate(given):
            if not isinstance(size, (int, np.integer)):
                raise TypeError(f"random_split: lengths must be ints or fractions summing to "
                                f"1, got {size!r} at index {i}")
            sizes.append(int(size))
    if sum(sizes) != n:
        raise ValueError(f"Sum of input lengths does not equal the length of the input "
                         f"dataset! (lengths {list(lengths)} sum to {sum(sizes)}, the dataset "
                         f"has {n})")
    rng = generator.numpy() if generator is not None else _random.state.numpy_rng()
    order = rng.permutation(n).tolist()
    bounds = list(itertools.accumulate(sizes))
    return [Subset(dataset, order[stop - size:stop])
            for size, stop in zip(sizes, bounds, strict=True)]


#: batches of a TensorDataset that DataLoader copies to the device ahead of the one in use
PREFETCH_BATCHES = 2

#: a TensorDataset of at most this many bytes is copied to the device whole, once, and
#: batched there (see the module docstring)
DEVICE_DATASET_BYTES = 1 << 30


def _host_array(value: Any) -> np.ndarray:
    array = np.asarray(value)
    dtype = _graph.canonical_dtype(array.dtype)
    return array if array.dtype == dtype else array.astype(dtype)


def _checked_order(order: np.ndarray, n: int) -> np.ndarray:
    """``order`` as int32 row indexes, raising numpy's IndexError for one out of range (a
    gather on the device would clamp it silently)."""
    if order.size and (order.min() < -n or order.max() >= n):
        bad = order[(order < -n) | (order >= n)][0]
        raise IndexError(f"index {bad} is out of bounds for axis 0 with size {n}")
    return (order % n).astype(np.int32) if order.size else order.astype(np.int32)


def default_convert(data: Any) -> Any:
    """Turns numpy arrays into tensors inside tuples, lists and dicts, without batching
    (what a loader with ``batch_size=None`` does to each sample).

    PyTorch equivalent: ``torch.utils.data.default_convert``.
    """
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return _wrap_value(_host_array(data))
    if isinstance(data, dict):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(v) for v in data]
    return data


def default_collate(batch: Sequence[Any]) -> Any:
    """Stacks samples: tensors/arrays/numbers into tensors, tuples and dicts elementwise.

    PyTorch equivalent: ``torch.utils.data.default_collate``.
    """
    first = batch[0]
    if isinstance(first, (str, bytes)):  # numpy's str_ and bytes_ too
        return batch
    if isinstance(first, Tensor):
        return _wrap_value(_stacked(batch))
    if isinstance(first, (np.ndarray, np.generic)) and first.dtype.kind in "SUaO":
        raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                        f"numbers, dicts or lists; found {first.dtype}")
    if isinstance(first, (np.ndarray, np.generic, int, float, bool)):
        return _wrap_value(_host_array(_stacked(batch)))
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        # each field's samples stay a tuple (strings come back as one); a tuple sample
        # collates to a list, as in PyTorch, a namedtuple to its own type
        fields = [default_collate(items) for items in zip(*batch, strict=False)]
        if hasattr(first, "_fields"):
            return type(first)(*fields)
        return fields if isinstance(first, tuple) else type(first)(fields)
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first)}")


def _stacked(batch: Sequence[Any]) -> np.ndarray:
    """The samples stacked on a new first axis; samples of different shapes raise
    PyTorch's RuntimeError (a loader whose sequences need a padding ``collate_fn``)."""
    arrays = [np.asarray(b) for b in batch]
    for i, array in enumerate(arrays[1:], 1):
        if array.shape != arrays[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(arrays[0].shape)} at entry 0 and {list(array.shape)} "
                               f"at entry {i}")
    return np.stack(arrays)


class DataLoader:
    """Iterates over a dataset in batches.

    Args:
        dataset: a map-style dataset, or an :class:`IterableDataset` (batched in the
            order it yields; no ``shuffle``, ``sampler`` or ``batch_sampler``).
        batch_size: samples per batch (None: each sample as it comes, its numpy arrays
            made tensors by :func:`default_convert`).
        shuffle: a fresh permutation each epoch (from ``generator`` or the global PRNG).
        sampler: an iterable of indices giving the order (exclusive with ``shuffle``).
        batch_sampler: an iterable of lists of indices, one list per batch (exclusive
            with ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``).
        drop_last: drop the last incomplete batch.
        collate_fn: turns a list of samples into a batch (default: stacking).
        generator: a :class:`fnnet.torch.Generator` for the shuffling.

    Worker processes (``num_workers``, ``worker_init_fn``, ``multiprocessing_context``,
    ``persistent_workers``, ``prefetch_factor``, ``timeout``, ``in_order``) and
    ``pin_memory`` are accepted, checked as PyTorch checks them, and ignored: batches are
    made in this process, and a :class:`TensorDataset`'s are copied to the device ahead
    of use without them (see the module's docstring). A misspelt option raises
    TypeError, as in PyTorch.

    PyTorch equivalent: ``torch.utils.data.DataLoader``.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool = False,
                 sampler: Iterable[int] | None = None, batch_sampler: Any = None,
                 num_workers: int = 0, collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], object] | None = None,
                 multiprocessing_context: Any = None,
                 generator: _random.Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        del pin_memory_device, in_order
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        # kept for code that reads them back (``loader.num_workers``), as PyTorch's
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.multiprocessing_context = worker_init_fn, \
            multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else \
            prefetch_factor
        self.persistent_workers = persistent_workers
        if isinstance(dataset, IterableDataset):
            for option, value in (("shuffle", shuffle), ("sampler", sampler),
                                  ("batch_sampler", batch_sampler)):
                if value:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{option} option, but got {option}={value}")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        elif batch_size is not None and (
                not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        self.dataset = dataset
        self.batch_sampler = batch_sampler
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.sampler = sampler
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.generator = generator

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # a TypeError where the stream has no length, as there
            assert self.batch_size is not None
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if isinstance(self.sampler, Sized) else \
            len(self._order()) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:  # one sample per item
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        if self.sampler is not None:
            return np.asarray(list(self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = self.generator.numpy() if self.generator is not None else \
            _random.state.numpy_rng()
        return rng.permutation(n)

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, IterableDataset):
            yield from self._stream()
            return
        if self.batch_sampler is not None:  # each item a list of indices
            for indices in self.batch_sampler:
                samples = [self.dataset[int(i)] for i in indices]
                yield (self.collate_fn or default_collate)(samples)
            return
        order = self._order()
        size = self.batch_size
        if size is None:  # automatic batching off: each sample, converted
            for i in order:
                yield (self.collate_fn or default_convert)(self.dataset[int(i)])
            return
        stop = len(order) - len(order) % size if self.drop_last else len(order)
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is None:
            on_device = self.dataset._on_device()
            if on_device is not None:
                ordered = self.sampler is None and not self.shuffle
                if not ordered:
                    order = _checked_order(order, len(self.dataset))
                labels_of = [None if np.issubdtype(a.dtype, np.floating) else a
                             for a in self.dataset._host]
                for start in range(0, stop, size):
                    end = min(start + size, stop)
                    # the batch is recorded into the step that reads it: a window at a
                    # dynamic offset, or a gather of the order's indexes
                    rows: slice | np.ndarray = slice(start, end) if ordered else \
                        order[start:end]
                    index = rows if ordered else _wrap_value(rows)
                    batch = [a[index] for a in on_device]
                    for t, labels in zip(batch, labels_of, strict=True):
                        if labels is not None:  # read on the host by the losses' checks
                            t._cell.host = labels[rows]
                    yield batch
                return
            # gathered and copied to the device two batches ahead: a TensorDataset's
            # batches depend on the order alone, so reading ahead changes nothing else
            host = self.dataset._host
            gathered = ([a[order[start:start + size]] for a in host]
                        for start in range(0, stop, size))
            for arrays in prefetch_to_device(gathered, PREFETCH_BATCHES, thread=False):
                yield [_wrap_value(a) for a in arrays]
            return
        for start in range(0, stop, size):
            samples = [self.dataset[int(i)] for i in order[start:start + size]]
            yield (self.collate_fn or default_collate)(samples)

    def _stream(self) -> Iterator[Any]:
        """An ``IterableDataset``'s samples, batched in the order it yields them."""
        stream = iter(self.dataset)
        if self.batch_size is None:  # no batching: each sample as it comes
            yield from stream
            return
        for samples in _batches(stream, self.batch_size, self.drop_last):
            yield (self.collate_fn or default_collate)(samples)


def _check_worker_options(num_workers: Any, timeout: Any, prefetch_factor: Any,
                          persistent_workers: Any) -> None:
    """PyTorch's errors for worker options that need worker processes (accepted and
    ignored otherwise: batches are made in this process)."""
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in "
                         "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                         "otherwise set prefetch_factor to None.")
    if num_workers == 0 and persistent_workers:
        raise ValueError("persistent_workers option needs num_workers > 0")


def _batches(stream: Iterable[Any], size: int, drop_last: bool) -> Iterator[list[Any]]:
    """``stream``'s items in lists of ``size`` (the last shorter unless ``drop_last``)."""
    batch: list[Any] = []
    for item in stream:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch and not drop_last:
        yield batch


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.utils.data.{name}; use Dataset, "
        f"TensorDataset, Subset, ConcatDataset, random_split and DataLoader, or feed "
        f"numpy batches to fnnet.data")


# PyTorch's names, written out so that type checkers see the re-exports as exported
__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
    "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "Subset",
    "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "default_collate",
    "default_convert", "distributed", "get_worker_info", "random_split",
]
