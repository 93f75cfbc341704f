"""Host-side batching: a seeded, resumable epoch iterator and a prefetching loader."""

from __future__ import annotations

import collections
import functools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jax
import numpy as np

from fnnet.core.transfer import check_device, copy_to_device
from fnnet.data.dataset import ArrayDataset, as_dataset, check_lengths
from fnnet.data.sampler import batch_indices, check_order, resolve_process, steps_per_epoch


def _check_start(start: int, steps: int) -> None:
    if not 0 <= start <= steps:
        raise ValueError(f"start must be in [0, {steps}] (steps per epoch), got {start}")


def batches(
    images: Any,
    labels: Any,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
    drop_last: bool = False,
    start: int = 0,
    process_index: int | None = None,
    process_count: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Iterates over one epoch of ``(images, labels)`` in batches, on the host.

    The order is a pure function of ``(seed, epoch)`` (see
    :func:`~fnnet.data.sampler.batch_indices`), so a run stopped after ``k`` steps of
    epoch ``e`` resumes exactly with ``epoch=e, start=k``.

    Args:
        images: ``[N, ...]`` array.
        labels: ``[N]`` array.
        batch_size: examples per batch (per process).
        shuffle: shuffle the epoch.
        seed: the data seed.
        epoch: the epoch number; each epoch has its own order.
        drop_last: drop the last, incomplete batch.
        start: number of batches of this epoch to skip (to resume).
        process_index: this process (default ``jax.process_index()``).
        process_count: number of processes (default ``jax.process_count()``); each
            reads only its slice of every global batch.

    Yields:
        ``(images [B, ...], labels [B])`` numpy arrays.

    Raises:
        ValueError: lengths differ, ``batch_size <= 0``, an epoch with no batch, or
            ``start`` beyond the epoch (raised at the call, before iterating).

    PyTorch equivalent: one epoch of ``DataLoader(TensorDataset(x, y), batch_size,
    shuffle=True, drop_last=...)`` with a seeded generator.
    """
    for name, value in (("images", images), ("labels", labels)):
        if not hasattr(value, "shape"):  # a list's [idx] is no batch
            raise TypeError(f"batches: {name} must be an array (numpy or jax) with a "
                            f"leading batch axis, got {type(value).__name__}; convert it "
                            "with np.asarray")
    check_lengths(images, labels)
    rows = batch_indices(len(labels), batch_size, shuffle=shuffle, seed=seed, epoch=epoch,
                         drop_last=drop_last, process_index=process_index,
                         process_count=process_count)
    _check_start(start, len(rows))
    return ((images[idx], labels[idx]) for idx in rows[start:])


class DataLoader:
    """Batches over epochs, with the next batches sent to the device ahead of the step.

    ``iter(loader)`` runs one epoch and the next ``iter`` the following one (the first
    from step ``start``), as iterating a PyTorch ``DataLoader`` does, with a fresh
    seeded shuffle each epoch; :meth:`epoch` runs any given epoch.

    With ``prefetch=k > 0`` the next ``k`` batches are read and copied to the device
    ahead of the one in use (see :func:`prefetch_to_device`): in a background thread
    for a random-access source or a ``transform``, in the calling thread for arrays in
    memory.

    Args:
        data: an ``(images, labels)`` pair of arrays, or any random-access data set
            (``len`` and ``data[indices] -> (images, labels)``, e.g.
            :class:`~fnnet.data.TfdsSource`): only the batches read are loaded.
        batch_size: examples per batch (per process).
        shuffle: shuffle each epoch, seeded by ``(seed, epoch)``.
        seed: the data seed.
        drop_last: drop the last, incomplete batch.
        prefetch: number of batches transferred ahead (0: yield host numpy batches).
        epoch: the epoch the first ``iter`` runs.
        start: the step of that epoch to start at (to resume).
        transform: applied to each host batch ``(images, labels)`` before transfer.
        device: a ``jax.Device`` or ``Sharding`` to copy batches to (default device).
        process_index: this process (default ``jax.process_index()``).
        process_count: number of processes (default ``jax.process_count()``).

    Raises:
        ValueError: lengths differ, ``batch_size <= 0``, an epoch with no batch,
            ``prefetch < 0``, a negative ``seed`` or ``epoch``, or ``start`` beyond the
            epoch.
        TypeError: ``data`` is not a pair or a data set; ``shuffle`` or ``drop_last``
            not a bool, ``seed`` or ``epoch`` not an int, ``transform`` not callable,
            ``device`` not a device or sharding.

    Example::

        loader = DataLoader((images, labels), batch_size=64, seed=0)
        for epoch in range(3):
            for x, y in loader:          # jax arrays, already on the device
                state, metrics = train_step(state, (x, y))

    PyTorch equivalent: ``torch.utils.data.DataLoader(dataset, batch_size, shuffle,
    drop_last, pin_memory=True)`` with a ``DistributedSampler``.
    """

    def __init__(self, data: Any, batch_size: int, *, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False, prefetch: int = 2, epoch: int = 0, start: int = 0,
                 transform: Callable[[Any, Any], tuple[Any, Any]] | None = None,
                 device: Any = None, process_index: int | None = None,
                 process_count: int | None = None) -> None:
        self.dataset = as_dataset(data)
        check_order(shuffle=shuffle, drop_last=drop_last, seed=seed, epoch=epoch)
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be a function (images, labels) -> (images, "
                            f"labels), got {type(transform).__name__}")
        check_device(device)
        self.process_index, self.process_count = resolve_process(process_index, process_count)
        self.steps = steps_per_epoch(len(self.dataset), batch_size, drop_last=drop_last,
                                     process_count=self.process_count)
        _check_start(start, self.steps)
        if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0:
            raise ValueError(f"prefetch must be a non-negative int, got {prefetch!r}")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.prefetch = prefetch
        self.transform = transform
        self.device = device
        self.next_epoch = epoch
        self._start = start

    def __len__(self) -> int:
        """Batches per epoch (per process)."""
        return self.steps

    def indices(self, epoch: int) -> list[np.ndarray]:
        """The example indices of each batch of ``epoch`` read by this process."""
        return batch_indices(len(self.dataset), self.batch_size, shuffle=self.shuffle,
                             seed=self.seed, epoch=epoch, drop_last=self.drop_last,
                             process_index=self.process_index,
                             process_count=self.process_count)

    def host_batches(self, epoch: int, start: int = 0) -> Iterator[tuple[Any, Any]]:
        """The host (numpy) batches of ``epoch`` from step ``start``, transformed."""
        _check_start(start, self.steps)
        for idx in self.indices(epoch)[start:]:
            batch = self.dataset[idx]
            if self.transform is not None:
                batch = self.transform(*batch)
                if not (isinstance(batch, tuple | list) and len(batch) == 2):
                    raise TypeError(f"transform must return an (images, labels) pair, "
                                    f"got {type(batch).__name__}")
            yield batch

    def epoch(self, epoch: int, start: int = 0) -> Iterator[tuple[Any, Any]]:
        """The batches of ``epoch`` from step ``start``, prefetched to the device.

        Raises:
            ValueError: ``start`` is outside ``[0, len(loader)]`` (at the call).
        """
        host = self.host_batches(epoch, start)
        if self.prefetch == 0:
            return host
        # A gather from memory is too quick to be worth a thread (see prefetch_to_device).
        in_memory = isinstance(self.dataset, ArrayDataset) and self.transform is None
        return prefetch_to_device(host, self.prefetch, self.device, thread=not in_memory)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        epoch, start = self.next_epoch, self._start
        self.next_epoch, self._start = epoch + 1, 0
        return self.epoch(epoch, start)


def prefetch_to_device(batches: Iterable[Any], size: int = 2,
                       device: Any = None, *, thread: bool = True) -> Iterator[Any]:
    """Yields ``batches`` on the device, read and transferred ``size`` ahead.

    With ``thread=True`` a background thread pulls each host batch (the read from a
    random-access source, a decode) and copies it to the device, keeping at most
    ``size`` batches ahead of the one the caller holds; the calling thread only
    dispatches its steps. With ``thread=False`` the calling thread reads and copies
    ``size`` batches ahead itself: for batches gathered from memory (tens of
    microseconds) this is cheaper than handing each batch between threads, and JAX's
    asynchronous dispatch still overlaps the copies with the running steps. Order is
    preserved, and an exception raised while reading is raised here, after the batches
    read before it.

    The copy to the default device is :data:`fnnet.core.transfer.copy_to_device`, not
    ``jax.device_put``, which costs more on the CPU and may alias the host arrays'
    memory.

    Args:
        batches: an iterable of pytrees of host arrays.
        size: number of batches read and transferred ahead (at least 1).
        device: a ``jax.Device`` or ``Sharding`` (default device).
        thread: read and copy in a background thread.

    Yields:
        The same pytrees, as device arrays.

    Raises:
        TypeError: ``batches`` is not iterable (or is a str), or ``size`` not an int.
        ValueError: ``size`` is below 1.

    PyTorch equivalent: ``DataLoader(num_workers=1, prefetch_factor=size,
    pin_memory=True)`` with ``.to(device, non_blocking=True)``.
    """
    if isinstance(size, bool) or not isinstance(size, int | np.integer):
        raise TypeError(f"prefetch_to_device: size must be an int, got {size!r}")
    if size < 1:
        raise ValueError(f"prefetch_to_device: size must be at least 1, got {size}")
    # A str iterates, but as characters: never a stream of batches.
    if isinstance(batches, str | bytes) or not isinstance(batches, Iterable):
        raise TypeError(f"prefetch_to_device: batches must be an iterable of batches "
                        f"(pytrees of host arrays), got {type(batches).__name__}")
    if thread:
        return _prefetch(iter(batches), size, device)
    return _read_ahead(iter(batches), size, _copy_to(device))


def _read_ahead(iterator: Iterator[Any], size: int,
                transfer: Callable[[Any], Any]) -> Iterator[Any]:
    ahead: collections.deque[Any] = collections.deque()
    for batch in iterator:
        ahead.append(transfer(batch))
        if len(ahead) > size:
            yield ahead.popleft()
    while ahead:
        yield ahead.popleft()


_END = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _copy_to(device: Any) -> Callable[[Any], Any]:
    """A function copying a pytree of host arrays to ``device`` (None: the default)."""
    if device is None:
        return copy_to_device
    return functools.partial(jax.device_put, device=device)


def _prefetch(iterator: Iterator[Any], size: int, device: Any) -> Iterator[Any]:
    transfer = _copy_to(device)
    ready: queue.Queue[Any] = queue.Queue()
    slots = threading.Semaphore(size + 1)  # the batch in the caller's hands + size ahead
    stop = threading.Event()

    def work() -> None:
        try:
            while True:
                while not slots.acquire(timeout=0.05):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                try:
                    batch = next(iterator, _END)
                except BaseException as error:  # re-raised in the consuming thread
                    batch = _Failure(error)
                if batch is _END or isinstance(batch, _Failure):
                    ready.put(batch)
                    return
                ready.put(transfer(batch))
        except BaseException as error:  # a failed transfer
            ready.put(_Failure(error))

    worker = threading.Thread(target=work, name="fnnet-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
            slots.release()  # the caller is done with this batch
    finally:
        stop.set()
