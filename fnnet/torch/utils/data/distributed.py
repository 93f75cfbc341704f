"""``torch.utils.data.distributed.DistributedSampler``: each rank's share of a dataset."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from fnnet.torch._random import Generator, randperm
from fnnet.torch.utils.data.sampler import Sampler, T_co


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"DistributedSampler: {name} must be an int, got "
                        f"{type(value).__name__} {value!r}")
    return int(value)


def rank_indices(order: Sequence[int], num_replicas: int, rank: int,
                 drop_last: bool) -> list[int]:
    """Rank ``rank``'s indices of ``order`` (every rank gets the same number).

    As PyTorch: without ``drop_last`` the order is padded by repeating its start until
    it divides evenly, with ``drop_last`` its tail is cut; rank ``r`` then takes every
    ``num_replicas``-th index from position ``r``.

    Args:
        order: the epoch's order of the dataset's indices, ``[N]``.
        num_replicas: the number of ranks.
        rank: this rank, in ``[0, num_replicas)``.
        drop_last: cut the tail instead of padding.

    Returns:
        ``num_samples`` indices (see :class:`DistributedSampler`).
    """
    indices = list(order)
    n = len(indices)
    if drop_last and n % num_replicas:
        per_rank = math.ceil((n - num_replicas) / num_replicas)
    else:
        per_rank = math.ceil(n / num_replicas)
    total = per_rank * num_replicas
    if not drop_last:
        padding = total - n
        if padding <= n:
            indices += indices[:padding]
        elif n:
            indices += (indices * math.ceil(padding / n))[:padding]
    else:
        indices = indices[:total]
    return indices[rank:total:num_replicas]


class DistributedSampler(Sampler[T_co]):
    """The indices of one rank's share of ``dataset``, for ``DataLoader(sampler=...)``.

    Args:
        dataset: a dataset with ``len()``.
        num_replicas: the number of ranks (default: ``get_world_size()``).
        rank: this rank (default: ``get_rank()``).
        shuffle: a new order each epoch, the same on every rank (seeded by
            ``seed + epoch``; call :meth:`set_epoch` at each epoch).
        seed: the shuffling seed; every rank must pass the same.
        drop_last: cut the dataset's tail so it divides evenly, instead of padding it
            with repeated samples.

    Attributes:
        num_samples: indices per rank; ``total_size``: ``num_samples * num_replicas``.

    Raises:
        ValueError: a rank outside ``[0, num_replicas)`` (``num_replicas < 1`` too), or
            ``num_replicas`` or ``rank`` left out before ``init_process_group``
            (PyTorch's errors).
        TypeError: a non-integer ``num_replicas``, ``rank`` or ``seed``.

    Every rank gets exactly PyTorch's indices: with ``shuffle=True`` the epoch's order
    is PyTorch's ``torch.randperm`` of a generator seeded with ``seed + epoch`` (see
    :func:`fnnet.torch._random.randperm`), split as PyTorch splits it.

    PyTorch equivalent: ``torch.utils.data.distributed.DistributedSampler``.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from fnnet.torch.distributed import _group as dist

            # without a group: PyTorch's ValueError, from the same calls
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        num_replicas, rank = _int(num_replicas, "num_replicas"), _int(rank, "rank")
        if not 0 <= rank < num_replicas:  # num_replicas < 1 too, with PyTorch's message
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, rank
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.seed = _int(seed, "seed")
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def order(self) -> list[int]:
        """The epoch's order of all the dataset's indices, before the split."""
        n = len(self.dataset)
        if not self.shuffle:
            return list(range(n))
        seed = self.seed + self.epoch
        if not isinstance(seed, (int, np.integer)):  # an epoch given as 1.0, say
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        return [int(i) for i in randperm(n, Generator().manual_seed(int(seed)))]

    def __iter__(self) -> Iterator[Any]:
        return iter(rank_indices(self.order(), self.num_replicas, self.rank, self.drop_last))

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch, so each epoch's shuffled order differs (call it each epoch).
        As PyTorch, an epoch that is not an int is kept, and refused when the shuffled
        order is drawn."""
        self.epoch = epoch
