"""``DataLoader`` workers, taken in turn in this process.

PyTorch's loader with ``num_workers=k`` starts ``k`` processes, each iterating its own
copy of an ``IterableDataset`` (which reads :func:`get_worker_info` to take its share of
the stream) and batching what it yields; the batches come back one per worker in turn.
Here the ``k`` workers are ``k`` iterators over copies of the dataset in this process
(see :func:`worker_copy`), advanced in the same turns, with :func:`get_worker_info`
answering for the worker being advanced: a stream sharded by worker gives PyTorch's
batches in PyTorch's order, and one that is not gives each sample ``k`` times, as there.
A map-style dataset's batch ``i`` is read by worker ``i % k`` (PyTorch's round robin), from that
worker's copy and with :func:`get_worker_info` naming it, so that a ``worker_init_fn``
that opens a file per worker (``get_worker_info().dataset.file = ...``) works as there.
Each worker has its own global generators, torch's, Python's and numpy's, seeded as
PyTorch seeds its worker processes' (torch's and Python's with the worker's seed, numpy's
with PyTorch's hash of the base seed and the worker's id), so the random numbers a
``__getitem__``, a transform or a stream draws in a worker are PyTorch's and this
process's generators do not move; ``torch.initial_seed()`` in a worker is its seed, as
there, so the recipe that seeds numpy from it in ``worker_init_fn`` gives PyTorch's
numbers too. The jax key of draws inside compiled steps stays this process's. An
exception raised in a worker comes out as PyTorch's loader raises it again: of its type,
its message naming the worker and holding the worker's traceback.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import io
import pickle
import random
import traceback
import types
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from fnnet.torch import _random
from fnnet.torch._cpu_generator import CpuGenerator


class WorkerInfo:
    """What :func:`get_worker_info` tells the code running for a ``DataLoader`` worker.

    Attributes:
        id: the worker's number, in ``[0, num_workers)``.
        num_workers: the loader's ``num_workers``.
        seed: the worker's seed (the epoch's base seed plus ``id``).
        dataset: the worker's own copy of the dataset.

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


class _Generators:
    """A worker's own global generators: torch's, and the states of Python's and
    numpy's, swapped in while it runs (PyTorch's workers are processes, each with its
    own)."""

    def __init__(self, base_seed: int, worker_id: int) -> None:
        seed = base_seed + worker_id
        # PyTorch's worker seeds torch and Python with base_seed + id, and numpy with its
        # _generate_state(base_seed, id), which is numpy's SeedSequence of these words
        numpy_seed = np.random.SeedSequence(
            [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]).generate_state(4)
        self.torch = CpuGenerator(seed)
        self.python = random.Random(seed).getstate()
        self.numpy = np.random.RandomState(numpy_seed).get_state()


#: each worker's generators (see :class:`_Generators`)
_RANDOM: weakref.WeakKeyDictionary[WorkerInfo, _Generators] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def _as_worker(info: WorkerInfo) -> Iterator[None]:
    token = _current.set(info)
    mine = _RANDOM.get(info)
    if mine is not None:
        state = _random.state
        kept = state.host, state._key, random.getstate(), np.random.get_state()
        state.host = mine.torch
        random.setstate(mine.python)
        np.random.set_state(mine.numpy)
    try:
        yield
    finally:
        if mine is not None:
            mine.python, mine.numpy = random.getstate(), np.random.get_state()
            state.host = kept[0]
            if kept[1] is None:  # a key made in the worker, from its seed, is dropped
                state._key = None
            random.setstate(kept[2])
            np.random.set_state(kept[3])
        _current.reset(token)


def worker_copy(dataset: Any) -> Any:
    """``dataset`` as a forked worker process has it: a copy made by pickling, so that
    its generator objects (``np.random.default_rng``, ``random.Random``,
    ``torch.Generator``), lists, caches and counters are the worker's own and start
    where this process's are, while what a fork shares without copying is shared (see
    :class:`_WorkerPickler`: numpy arrays and tensors, a memory-mapped file staying
    mapped, functions and classes, open files); a shallow copy where pickling fails (a
    lock, say)."""
    buffer = io.BytesIO()
    pickler = _WorkerPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        pickler.dump(dataset)
        return pickle.loads(buffer.getvalue())
    except Exception:  # noqa: BLE001 - whatever refuses to be pickled: shared, as before
        return copy.copy(dataset)
    finally:
        for token in pickler.tokens:
            _SHARED.pop(token, None)


#: objects a :class:`_WorkerPickler` is pickling by reference, by token
_SHARED: dict[int, Any] = {}


def _shared(token: int) -> Any:
    return _SHARED[token]


class _WorkerPickler(pickle.Pickler):
    """Pickles a dataset for a worker's copy, all but what a fork shares without
    copying it, which is pickled by reference (and unpickled as the object itself):
    arrays and tensors, functions, methods, classes and modules (also those defined
    in a function, which pickle cannot name), and open files. Python's containers and
    numbers are pickled at C speed (``reducer_override`` is not asked about them)."""

    #: what is shared: arrays and tensors are checked apart (Tensor is imported late)
    SHARED_TYPES = (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                    types.ModuleType, io.IOBase, np.ndarray)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from fnnet.torch.tensor import Tensor

        self.shared_types = (*self.SHARED_TYPES, Tensor)
        self.tokens: list[int] = []

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, self.shared_types) and obj is not _shared:
            token = id(obj)
            _SHARED[token] = obj
            self.tokens.append(token)
            return _shared, (token,)
        return NotImplemented


def start_workers(dataset: Any, num_workers: int,
                  worker_init_fn: Callable[[int], object] | None,
                  base_seed: int) -> list[WorkerInfo]:
    """``num_workers`` workers, each with its copy of ``dataset`` (see
    :func:`worker_copy`), the seed ``base_seed + id`` and its own generators (see
    :class:`_Generators`), ``worker_init_fn(id)`` called for each while
    :func:`get_worker_info` names it, as each PyTorch worker process starts."""
    workers = []
    for i in range(num_workers):
        info = WorkerInfo(id=i, num_workers=num_workers, seed=base_seed + i,
                          dataset=worker_copy(dataset))
        _RANDOM[info] = _Generators(base_seed, i)
        with _as_worker(info):
            if worker_init_fn is not None:
                try:
                    worker_init_fn(i)
                except Exception as error:
                    raise _reraised(error, info) from None
        workers.append(info)
    return workers


def in_worker(workers: list[WorkerInfo], number: int, read: Callable[[Any], Any]) -> Any:
    """``read(dataset)`` for batch ``number`` of a map-style dataset: in the worker
    PyTorch's loader gives it (batch ``i`` to worker ``i % num_workers``), with that
    worker's copy of the dataset and :func:`get_worker_info` naming it; an exception
    raised there comes out as :func:`_reraised` makes it."""
    info = workers[number % len(workers)]
    with _as_worker(info):
        try:
            return read(info.dataset)
        except Exception as error:
            raise _reraised(error, info) from None


class _KeyErrorMessage(str):
    """A KeyError's message shown as it is (KeyError shows its argument's repr)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return self


def _reraised(error: Exception, info: WorkerInfo) -> Exception:
    """``error``, raised in worker ``info``, as PyTorch's loader raises it again in the
    main process: an exception of its type whose message names the worker and holds
    the worker's traceback (a RuntimeError where the type takes no single message)."""
    said = (f"Caught {type(error).__name__} in DataLoader worker process {info.id}.\n"
            f"Original {''.join(traceback.format_exception(error))}")
    kind = type(error)
    if kind is KeyError:
        said = _KeyErrorMessage(said)
    elif getattr(kind, "message", None):
        return kind(message=said)  # type: ignore[call-arg]
    try:
        return kind(said)
    except Exception:  # noqa: BLE001 - PyTorch's fallback for any such type
        return RuntimeError(said)


def worker_batches(workers: list[WorkerInfo],
                   batches: Callable[[Any], Iterator[Any]]) -> Iterator[Any]:
    """The batches of ``workers`` over an ``IterableDataset``, one per worker in turn (a
    worker whose stream ended drops out).

    Args:
        workers: from :func:`start_workers`; each iterates its own copy of the dataset.
        batches: makes one worker's batches from its dataset copy.

    Yields:
        Each batch, made while :func:`get_worker_info` names its worker.
    """
    streams = []
    for info in workers:
        with _as_worker(info):
            streams.append((info, batches(info.dataset)))
    while streams:
        for stream in list(streams):
            info, batches_of_worker = stream
            with _as_worker(info):
                try:
                    batch = next(batches_of_worker, _END)
                except Exception as error:
                    raise _reraised(error, info) from None
            if batch is _END:
                streams.remove(stream)
            else:
                yield batch


_END = object()
