"""``DataLoader`` workers, taken in turn in this process.

PyTorch's loader with ``num_workers=k`` starts ``k`` processes, each iterating its own
copy of an ``IterableDataset`` (which reads :func:`get_worker_info` to take its share of
the stream) and batching what it yields; the batches come back one per worker in turn.
Here the ``k`` workers are ``k`` iterators over shallow copies of the dataset in this
process, advanced in the same turns, with :func:`get_worker_info` answering for the
worker being advanced: a stream sharded by worker gives PyTorch's batches in PyTorch's
order, and one that is not gives each sample ``k`` times, as there. A map-style
dataset's batch ``i`` is read by worker ``i % k`` (PyTorch's round robin), from that
worker's copy and with :func:`get_worker_info` naming it, so that a ``worker_init_fn``
that opens a file per worker (``get_worker_info().dataset.file = ...``) works as there.
Each worker has its own state of Python's and numpy's global random numbers, seeded
from its seed as PyTorch's worker processes are (Python's gives PyTorch's numbers), and
``torch.initial_seed()`` in a worker is its seed, as there: the recipe that seeds numpy
from it in ``worker_init_fn`` gives each worker and epoch its own numbers and leaves this
process's untouched. torch's own random numbers are this process's.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import random
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from fnnet.torch import _random


class WorkerInfo:
    """What :func:`get_worker_info` tells the code running for a ``DataLoader`` worker.

    Attributes:
        id: the worker's number, in ``[0, num_workers)``.
        num_workers: the loader's ``num_workers``.
        seed: the worker's seed (the epoch's base seed plus ``id``).
        dataset: the worker's own (shallow) copy of the dataset.

    PyTorch equivalent: ``torch.utils.data._utils.worker.WorkerInfo``.
    """

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Any) -> None:
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(name, value)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


#: the worker being advanced, while one is (None in the loop's own code)
_current: contextvars.ContextVar[WorkerInfo | None] = contextvars.ContextVar(
    "fnnet_torch_data_worker", default=None)


def get_worker_info() -> WorkerInfo | None:
    """The :class:`WorkerInfo` of the ``DataLoader`` worker whose code is running (an
    ``IterableDataset``'s ``__iter__``, ``worker_init_fn``, ``collate_fn``), else None.

    PyTorch equivalent: ``torch.utils.data.get_worker_info``.
    """
    return _current.get()


#: each worker's own states of Python's and numpy's global random numbers, swapped in
#: while it runs (PyTorch's workers are processes, each with its own)
_RANDOM: weakref.WeakKeyDictionary[WorkerInfo, list[Any]] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def _as_worker(info: WorkerInfo) -> Iterator[None]:
    token = _current.set(info)
    mine = _RANDOM.get(info)
    if mine is not None:
        kept = random.getstate(), np.random.get_state()
        random.setstate(mine[0])
        np.random.set_state(mine[1])
    try:
        yield
    finally:
        if mine is not None:
            mine[:] = random.getstate(), np.random.get_state()
            random.setstate(kept[0])
            np.random.set_state(kept[1])
        _current.reset(token)


def start_workers(dataset: Any, num_workers: int,
                  worker_init_fn: Callable[[int], object] | None,
                  base_seed: int | None = None) -> list[WorkerInfo]:
    """``num_workers`` workers, each with a shallow copy of ``dataset`` and the seed
    ``base_seed + id`` (a fresh draw where None), ``worker_init_fn(id)`` called for each
    while :func:`get_worker_info` names it, as each PyTorch worker process starts."""
    if base_seed is None:
        base_seed = int(_random.state.numpy_rng().integers(0, 2**63 - 1))
    workers = []
    for i in range(num_workers):
        info = WorkerInfo(id=i, num_workers=num_workers, seed=base_seed + i,
                          dataset=copy.copy(dataset))
        # seeded as PyTorch seeds its worker processes: Python's with the worker's seed
        # (the same numbers as there), numpy's from it (not PyTorch's numbers)
        _RANDOM[info] = [random.Random(info.seed).getstate(),
                         np.random.RandomState(info.seed % 2**32).get_state()]
        with _as_worker(info):
            if worker_init_fn is not None:
                worker_init_fn(i)
        workers.append(info)
    return workers


def in_worker(workers: list[WorkerInfo], number: int, read: Callable[[Any], Any]) -> Any:
    """``read(dataset)`` for batch ``number`` of a map-style dataset: in the worker
    PyTorch's loader gives it (batch ``i`` to worker ``i % num_workers``), with that
    worker's copy of the dataset and :func:`get_worker_info` naming it."""
    info = workers[number % len(workers)]
    with _as_worker(info):
        return read(info.dataset)


def worker_batches(dataset: Any, num_workers: int, batches: Callable[[Any], Iterator[Any]],
                   worker_init_fn: Callable[[int], object] | None) -> Iterator[Any]:
    """The batches of ``num_workers`` workers over ``dataset``, one per worker in turn
    (a worker whose stream ended drops out).

    Args:
        dataset: the ``IterableDataset``; each worker iterates a shallow copy.
        num_workers: how many workers.
        batches: makes one worker's batches from its dataset copy.
        worker_init_fn: called with the worker's id as the worker starts, as PyTorch's.

    Yields:
        Each batch, made while :func:`get_worker_info` names its worker.
    """
    workers = []
    for info in start_workers(dataset, num_workers, worker_init_fn):
        with _as_worker(info):
            workers.append((info, batches(info.dataset)))
    while workers:
        for worker in list(workers):
            info, stream = worker
            with _as_worker(info):
                batch = next(stream, _END)
            if batch is _END:
                workers.remove(worker)
            else:
                yield batch


_END = object()
