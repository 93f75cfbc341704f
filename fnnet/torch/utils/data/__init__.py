"""``torch.utils.data``: TensorDataset and DataLoader (the other datasets are in
:mod:`~fnnet.torch.utils.data.dataset`, the samplers in
:mod:`~fnnet.torch.utils.data.sampler`, DistributedSampler in
:mod:`~fnnet.torch.utils.data.distributed`).

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
the device as inputs of the compiled step. Shuffling draws PyTorch's own permutation,
from ``generator`` or, without one, from a generator seeded by a draw of the global one
(see :mod:`fnnet.torch._cpu_generator`): after ``torch.manual_seed(s)``, the model's
initial weights and the epochs' batches are PyTorch's.
"""

from __future__ import annotations

import collections
import itertools
import math
import multiprocessing
import multiprocessing.context
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic

import numpy as np

from fnnet.core.transfer import copy_to_device
from fnnet.data.loader import prefetch_to_device
from fnnet.torch import _random
from fnnet.torch.device import accelerator
from fnnet.torch.tensor import Tensor, _wrap_value
from fnnet.torch.utils.data import (  # noqa: F401 (torch.utils.data's submodules)
    _utils,
    dataset,
    distributed,
)
from fnnet.torch.utils.data._utils.collate import (
    default_collate,
    default_convert,
    host_array,
)
from fnnet.torch.utils.data._workers import (
    WorkerInfo,
    get_worker_info,
    in_worker,
    start_workers,
    worker_batches,
)
from fnnet.torch.utils.data.dataset import (  # noqa: F401
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    T_co,
    random_split,
)
from fnnet.torch.utils.data.distributed import DistributedSampler  # noqa: F401
from fnnet.torch.utils.data.sampler import (  # noqa: F401
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are the ``index``-th rows of each tensor. PyTorch: ``TensorDataset``.

    Raises:
        AssertionError: the tensors' first dimensions differ (PyTorch's assertion).
    """

    def __init__(self, *tensors: Any) -> None:
        if any(getattr(t, "ndim", 1) == 0 for t in tensors):
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        sizes = {len(t) for t in tensors}  # none: len() raises IndexError, as PyTorch's
        if len(sizes) > 1:
            raise AssertionError("Size mismatch between tensors")  # PyTorch's assert
        self.tensors = tuple(tensors)
        self._host = tuple(host_array(t) for t in tensors)  # in the dtypes batches take
        self._device: tuple[Tensor, ...] | None = None

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        size = len(self._host[0])
        if isinstance(index, (int, np.integer)) and not -size <= index < size:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {size}")
        return tuple(_wrap_value(host_array(a[index])) for a in self._host)

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


#: batches of a TensorDataset that DataLoader copies to the device ahead of the one in use
PREFETCH_BATCHES = 2

#: a TensorDataset of at most this many bytes is copied to the device whole, once, and
#: batched there (see the module docstring)
DEVICE_DATASET_BYTES = 1 << 30


def _checked_order(order: np.ndarray, n: int) -> np.ndarray:
    """``order`` as int32 row indexes, raising PyTorch's IndexError for one out of range (a
    gather on the device would clamp it silently)."""
    if order.size and (order.min() < -n or order.max() >= n):
        bad = order[(order < -n) | (order >= n)][0]
        raise IndexError(f"index {bad} is out of bounds for dimension 0 with size {n}")
    return (order % n).astype(np.int32) if order.size else order.astype(np.int32)


class DataLoader(Generic[T_co]):
    """Iterates over a dataset in batches.

    Args:
        dataset: a map-style dataset, or an :class:`IterableDataset` (batched in the
            order it yields; no ``shuffle``, ``sampler`` or ``batch_sampler``).
        batch_size: samples per batch (None: each sample as it comes, its numpy arrays
            made tensors by :func:`default_convert`).
        shuffle: a fresh permutation each epoch (from ``generator``, PyTorch's, or the
            global PRNG).
        sampler: an iterable of indices giving the order (exclusive with ``shuffle``).
        batch_sampler: an iterable of lists of indices, one list per batch (exclusive
            with ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``).
        drop_last: drop the last incomplete batch.
        collate_fn: turns a list of samples into a batch (default: stacking).
        generator: a :class:`fnnet.torch.Generator` for the shuffling.

    Worker processes (``num_workers``, ``worker_init_fn``, ``multiprocessing_context``,
    ``persistent_workers``, ``prefetch_factor``, ``timeout``, ``in_order``) and
    ``pin_memory`` are checked as PyTorch checks them, and batches are made in this
    process: a map-style dataset's batches are those of ``num_workers=0`` (as PyTorch's,
    whose workers keep the sampler's order), batch ``i`` read by worker
    ``i % num_workers`` from its own copy that ``worker_init_fn`` prepared, and a
    :class:`TensorDataset`'s are copied to the device ahead of use without workers (see
    the module's docstring). An
    :class:`IterableDataset` with ``num_workers=k`` is read by ``k`` workers taken in
    turn in this process (see :mod:`~fnnet.torch.utils.data._workers`), so that a stream
    split by :func:`get_worker_info` comes in PyTorch's order. Each worker draws from
    generators of its own, seeded as PyTorch's workers are: augmentations drawn in a
    worker are PyTorch's, and this process's numbers do not move. The sampler is read as
    PyTorch's loader reads it (started before the loader draws its seed, a batch's
    indices taken when the batch is made, or ``prefetch_factor`` batches per worker
    ahead), so an epoch left early leaves its generator where PyTorch's does. A misspelt
    option raises TypeError, as in PyTorch.

    As PyTorch's, the loader keeps the ``sampler`` (a ``SequentialSampler`` or
    ``RandomSampler`` when none is given), the ``batch_sampler`` (a ``BatchSampler``
    over it), and the ``collate_fn`` it uses; ``batch_size``, ``sampler``,
    ``batch_sampler``, ``drop_last``, ``dataset`` and ``persistent_workers`` cannot be
    set afterwards (a ValueError, PyTorch's).

    PyTorch equivalent: ``torch.utils.data.DataLoader``.
    """

    #: the options that PyTorch's loader refuses to change once made
    _FIXED = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
              "persistent_workers")

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Any = None,
                 batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], object] | None = None,
                 multiprocessing_context: Any = None,
                 generator: _random.Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        # kept for code that reads them back (``loader.num_workers``), as PyTorch's
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.pin_memory_device, self.in_order = pin_memory_device, in_order
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = _start_method(multiprocessing_context, num_workers)
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else \
            prefetch_factor
        self.persistent_workers = persistent_workers
        if isinstance(dataset, IterableDataset):
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            for option, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value is not None:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{option} option, but got {option}={value}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        sampler_given = sampler
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = RandomSampler(dataset, generator=generator) if shuffle else \
                SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            # PyTorch's: also the check of batch_size (a positive int, not a bool)
            batch_sampler = BatchSampler(sampler if sampler is not None else [],
                                         batch_size, drop_last)
        self._given_batches = batch_size is None and batch_sampler is not None
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.generator = generator
        self.collate_fn = collate_fn if collate_fn is not None else \
            default_collate if batch_sampler is not None else default_convert
        self._rows_in_order = sampler_given is None and not shuffle
        self._initialized = True
        _warn_of_many_workers(num_workers)

    @property
    def _batches_of_rows(self) -> bool:
        """Whether the batches are windows or gathers of a TensorDataset's rows (see the
        module's docstring)."""
        return isinstance(self.dataset, TensorDataset) and self.batch_size is not None \
            and self.collate_fn is default_collate

    @property
    def _windows_only(self) -> bool:
        """Whether the batches are windows of the rows in order, taking no indices from
        a sampler."""
        return self._rows_in_order and self._batches_of_rows

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._FIXED and getattr(self, "_initialized", False):
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # a TypeError where the stream has no length, as there
            # the length the loader's next iterators check the stream against, as PyTorch's
            self._IterableDataset_len_called = n
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        # a TypeError where the sampler has no length, as there
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def _samples(self, indices: Sequence[Any], dataset: Any) -> list[Any]:
        """The samples of ``dataset`` (the loader's, or a worker's copy) at ``indices``:
        through its ``__getitems__`` where it has one (a batch read at once), as
        PyTorch's loader reads them."""
        read_batch = getattr(dataset, "__getitems__", None)
        if callable(read_batch):
            return list(read_batch(list(indices)))
        return [dataset[i] for i in indices]

    def __iter__(self) -> _SingleProcessDataLoaderIter:
        if self.num_workers:
            _warn_of_many_workers(self.num_workers)  # at each epoch's workers, as PyTorch
        elif self.timeout:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        if self.pin_memory and self.pin_memory_device:
            warnings.warn(f"pin_memory_device is deprecated, the current accelerator will be "
                          f"used as the device,ignore pin_memory_device="
                          f"'{self.pin_memory_device}'.", stacklevel=2)
        if self.pin_memory and not accelerator.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        fresh = not (self.persistent_workers and getattr(self, "_started", False))
        # PyTorch's iterator starts the sampler (or batch sampler) before it draws the
        # seed: a sampler whose __iter__ draws at once draws first, as there
        indices = None if isinstance(self.dataset, IterableDataset) or self._windows_only \
            else iter(self.batch_sampler if self.batch_sampler is not None else self.sampler)
        if fresh:
            # PyTorch's iterator draws its workers' base seed from the loader's generator
            # or the global one (a 64-bit number, once for persistent workers): the
            # shuffles that follow start where PyTorch's do, and the workers' seeds are
            # PyTorch's
            base_seed = _random.seed_draw(self.generator)
            if self.num_workers:  # kept for the next epochs where the workers persist
                self._workers = start_workers(self.dataset, self.num_workers,
                                              self.worker_init_fn, base_seed)
        if self.num_workers and indices is not None:
            # PyTorch's workers are handed prefetch_factor batches each at once, and one
            # more batch's indices as each batch comes back
            indices = _read_ahead(indices, (self.prefetch_factor or 0) * self.num_workers)
        self._started = True
        # no workers where num_workers was set to 0 since the last workers were started
        workers = getattr(self, "_workers", None) if self.num_workers else None
        return _SingleProcessDataLoaderIter(self._epoch(workers, indices), len_of=self)

    def _batch(self, workers: list[WorkerInfo] | None, number: int,
               indices: list[Any] | None, index: Any = None) -> Any:
        """Batch ``number``: the samples at ``indices`` collated (or, batching off, the
        item at ``index``), read in its worker where there are ``workers`` (see
        :func:`~fnnet.torch.utils.data._workers.in_worker`)."""
        def read(dataset: Any) -> Any:
            return self.collate_fn(dataset[index] if indices is None else
                                   self._samples(indices, dataset))

        return read(self.dataset) if workers is None else in_worker(workers, number, read)

    def _epoch(self, workers: list[WorkerInfo] | None,
               indices: Iterator[Any] | None) -> Iterator[Any]:
        """One pass over the dataset, batch by batch (a map-style dataset's read by
        ``workers`` where there are), taking each batch's indices from ``indices`` (the
        batch sampler's, or the sampler's where batching is off) as it is needed, as
        PyTorch's loader does: an epoch left early leaves a generator where PyTorch's
        leaves it."""
        if isinstance(self.dataset, IterableDataset):
            if workers is not None:
                yield from worker_batches(workers, self._stream)
            else:
                yield from self._stream(self.dataset)
            return
        if self.batch_size is None:  # automatic batching off: each item as it comes
            assert indices is not None
            for number, index in enumerate(indices):
                if self._given_batches:  # each item a list of indices
                    yield self._batch(workers, number, list(index))
                else:  # a list, from a sampler of batches, too
                    yield self._batch(workers, number, None, index)
            return
        if self._batches_of_rows:
            assert isinstance(self.dataset, TensorDataset)
            on_device = self.dataset._on_device()
            if on_device is not None:
                yield from self._device_batches(on_device, indices)
                return
            # gathered and copied to the device two batches ahead: a TensorDataset's
            # batches depend on the order alone, so reading ahead changes nothing but
            # when the sampler draws its last numbers
            host = self.dataset._host
            rows = self._windows() if indices is None else \
                (np.asarray(list(batch), dtype=np.int64) for batch in indices)
            gathered = ([a[r] for a in host] for r in rows)
            for arrays in prefetch_to_device(gathered, PREFETCH_BATCHES, thread=False):
                yield [_wrap_value(a) for a in arrays]
            return
        assert indices is not None
        for number, batch in enumerate(indices):
            yield self._batch(workers, number, list(batch))

    def _windows(self) -> Iterator[slice]:
        """The batches of the rows in order, as slices."""
        size, n = self.batch_size, len(self.dataset)
        assert size is not None
        stop = n - n % size if self.drop_last else n
        return (slice(start, min(start + size, stop)) for start in range(0, stop, size))

    def _device_batches(self, on_device: tuple[Tensor, ...],
                        indices: Iterator[Any] | None) -> Iterator[list[Tensor]]:
        """A TensorDataset's batches from its device copy: each recorded into the step
        that reads it, a window at a dynamic offset (the rows in order, ``indices``
        None) or a gather of the batch's indexes."""
        assert isinstance(self.dataset, TensorDataset)
        n = len(self.dataset)
        labels_of = [None if np.issubdtype(a.dtype, np.floating) else a
                     for a in self.dataset._host]
        batches: Iterator[slice | np.ndarray] = self._windows() if indices is None else (
            _checked_order(np.asarray(list(batch), dtype=np.int64), n) for batch in indices)
        for rows in batches:
            index = rows if isinstance(rows, slice) else _wrap_value(rows)
            batch = [a[index] for a in on_device]
            for t, labels in zip(batch, labels_of, strict=True):
                if labels is not None:  # read on the host by the losses' checks
                    t._cell.host = labels[rows]
            yield batch

    def _stream(self, dataset: IterableDataset[Any]) -> Iterator[Any]:
        """An ``IterableDataset``'s samples, batched in the order it yields them."""
        stream = iter(dataset)
        if self.batch_size is None:  # no batching: each sample as it comes
            for sample in stream:
                yield self.collate_fn(sample)
            return
        for samples in _batches(stream, self.batch_size, self.drop_last):
            yield self.collate_fn(samples)


class _SingleProcessDataLoaderIter:
    """What ``iter(loader)`` returns: the epoch's batches, and ``len()`` the loader's (as
    PyTorch's iterator, which code counting the batches left relies on).

    As PyTorch's, it warns at each batch past the length an ``IterableDataset`` reported
    when ``len(loader)`` was last asked (compared with the count of batches, as there).
    """

    def __init__(self, batches: Iterator[Any], len_of: DataLoader[Any]) -> None:
        self._batches, self._loader = batches, len_of
        self._reported: int | None = getattr(len_of, "_IterableDataset_len_called", None)
        self._yielded = 0

    def __iter__(self) -> _SingleProcessDataLoaderIter:
        return self

    def __next__(self) -> Any:
        batch = next(self._batches)
        self._yielded += 1
        if self._reported is not None and self._yielded > self._reported:
            said = (f"Length of IterableDataset {self._loader.dataset} was reported to be "
                    f"{self._reported}(when accessing len(dataloader)), but {self._yielded} "
                    f"samples have been fetched. ")
            if self._loader.num_workers > 0:
                said += ("For multiprocessing data-loading, this could be caused by not "
                         "properly configuring the IterableDataset replica at each worker. "
                         "Please see https://pytorch.org/docs/stable/data.html#torch.utils."
                         "data.IterableDataset for examples.")
            warnings.warn(said, stacklevel=2)
        return batch

    def __len__(self) -> int:
        return len(self._loader)


def _start_method(context: Any, num_workers: Any) -> Any:
    """``multiprocessing_context`` as PyTorch's loader keeps it: a start method's name
    made its context, checked as PyTorch checks it (no worker process uses it here)."""
    if context is None:
        return None
    if not num_workers > 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process "
                         f"loading (num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got "
                             f"multiprocessing_context={context!r}")
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(f"multiprocessing_context option should be a valid context object or "
                        f"a string specifying the start method, but got "
                        f"multiprocessing_context={context}")
    return context


def _warn_of_many_workers(num_workers: Any) -> None:
    """PyTorch's warning for more workers than this process may use CPUs (its workers
    would be processes; a user's script shows the warning as there)."""
    if not num_workers:
        return
    cpuset = hasattr(os, "sched_getaffinity")
    cpus = len(os.sched_getaffinity(0)) if cpuset else os.cpu_count()
    if cpus is not None and num_workers <= cpus:
        return
    unchecked = "" if cpuset else " (`cpuset` is not taken into account)"
    suggestion = ("DataLoader is not able to compute a suggested max number of worker in "
                  "current system." if cpus is None else
                  f"Our suggested max number of worker in current system is {cpus}{unchecked}"
                  f", which is smaller than what this DataLoader is going to create.")
    warnings.warn(f"This DataLoader will create {num_workers} worker processes in total. "
                  f"{suggestion} Please be aware that excessive worker creation might get "
                  f"DataLoader running slow or even freeze, lower the worker number to avoid "
                  f"potential slowness/freeze if necessary.", stacklevel=3)


def _check_worker_options(num_workers: Any, timeout: Any, prefetch_factor: Any,
                          persistent_workers: Any) -> None:
    """PyTorch's errors for worker options that need worker processes (accepted and
    ignored otherwise: batches are made in this process)."""
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in "
                         "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                         "otherwise set prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if num_workers == 0 and persistent_workers:
        raise ValueError("persistent_workers option needs num_workers > 0")


def _read_ahead(items: Iterator[Any], count: int) -> Iterator[Any]:
    """``items``, ``count`` of them taken at once and one more as each is handed on (how
    PyTorch's loader takes its workers' batches of indices from the batch sampler)."""
    waiting = collections.deque(itertools.islice(items, count))

    def handed_on() -> Iterator[Any]:
        while waiting:
            item = waiting.popleft()
            waiting.extend(itertools.islice(items, 1))
            yield item

    return handed_on()


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


# ``torch.utils.data.dataloader``, a module of names defined above
from fnnet.torch.utils.data import dataloader  # noqa: E402, F401


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
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
    "DistributedSampler", "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler",
    "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "WorkerInfo", "dataloader", "dataset", "default_collate", "default_convert", "distributed",
    "get_worker_info", "random_split",
]
