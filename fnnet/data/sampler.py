"""Which examples go into which batch: seeded shuffles and per-process shards.

Every fnnet loader (the host :class:`~fnnet.data.DataLoader`, :func:`~fnnet.data.batches`
and the on-device :class:`~fnnet.data.DeviceDataset`) draws its batches from
:func:`batch_indices`, so they all visit the same examples in the same order.
"""

from __future__ import annotations

import jax
import numpy as np


def check_batch_size(batch_size: int, n: int, *, drop_last: bool, process_count: int = 1) -> None:
    """Raises a ValueError when ``batch_size`` is invalid for ``n`` examples.

    Args:
        batch_size: examples per batch and process.
        n: number of examples in the data set.
        drop_last: whether the last, incomplete batch is dropped.
        process_count: number of processes that share each global batch.

    Raises:
        TypeError: ``batch_size`` is not an int.
        ValueError: ``batch_size <= 0``, or the epoch would have no batch.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    global_batch = batch_size * process_count
    if n == 0:
        raise ValueError("the data set is empty (N=0): there is nothing to batch")
    if drop_last and global_batch > n:
        per = f" x process_count={process_count}" if process_count > 1 else ""
        raise ValueError(
            f"batch_size={batch_size}{per} is larger than the data set (N={n}): "
            "with drop_last=True an epoch would have no batch"
        )


def check_order(*, shuffle: bool, drop_last: bool, seed: int, epoch: int) -> None:
    """Raises a TypeError or ValueError naming the first of an epoch's order arguments
    that is not what :func:`batch_indices` takes (a str ``shuffle="no"`` would shuffle).
    """
    for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(f"{name} must be a bool, got {flag!r}")
    for name, count in (("seed", seed), ("epoch", epoch)):
        if isinstance(count, bool) or not isinstance(count, int | np.integer):
            raise TypeError(f"{name} must be an int, got {count!r}")
        if count < 0:
            raise ValueError(f"{name} must be non-negative, got {count}")


def resolve_process(process_index: int | None, process_count: int | None) -> tuple[int, int]:
    """Fills in ``jax.process_index()`` and ``jax.process_count()`` and checks the pair.

    Raises:
        ValueError: ``process_count < 1`` or ``process_index`` outside
            ``[0, process_count)``.
    """
    count = jax.process_count() if process_count is None else int(process_count)
    index = jax.process_index() if process_index is None else int(process_index)
    if count < 1:
        raise ValueError(f"process_count must be at least 1, got {count}")
    if not 0 <= index < count:
        raise ValueError(f"process_index must be in [0, {count}), got {index}")
    return index, count


def permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order of the ``n`` examples in epoch ``epoch``: a pure function of its arguments.

    Args:
        n: number of examples.
        seed: the run's data seed.
        epoch: the epoch number (0-based).

    Returns:
        ``[n]`` int64, a permutation of ``range(n)``; the same on every process and
        every run, so a run resumed at ``(epoch, step)`` continues exactly.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be the number of examples, an int >= 0, got {n!r}")
    if seed < 0 or epoch < 0:
        raise ValueError(f"seed and epoch must be non-negative, got seed={seed}, epoch={epoch}")
    return np.random.default_rng([seed, epoch]).permutation(n)


def batch_indices(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
    drop_last: bool = False,
    process_index: int | None = None,
    process_count: int | None = None,
) -> list[np.ndarray]:
    """The example indices of each batch of one epoch, for this process.

    Global batch ``s`` is ``order[s * B * P : (s + 1) * B * P]`` with ``B = batch_size``,
    ``P = process_count`` and ``order`` the epoch's :func:`permutation` (or
    ``range(n)`` without shuffling). Process ``p`` takes the contiguous slice
    ``[p * B : (p + 1) * B]`` of it, so the processes read disjoint examples that
    together cover the epoch, and stacking the process-local batches in process order
    gives the global batch (the layout ``jax.make_array_from_process_local_data``
    expects). Without ``drop_last`` the last, incomplete global batch is split as
    evenly as ``np.array_split`` does, so every process runs the same number of steps.

    Args:
        n: number of examples.
        batch_size: examples per batch and process.
        shuffle: whether to shuffle (seeded by ``(seed, epoch)``).
        seed: the data seed.
        epoch: the epoch number.
        drop_last: drop the last, incomplete global batch.
        process_index: this process; defaults to ``jax.process_index()``.
        process_count: number of processes; defaults to ``jax.process_count()``.

    Returns:
        One ``[batch]`` int64 array per step.

    Raises:
        TypeError, ValueError: see :func:`check_order`, :func:`check_batch_size` and
            :func:`resolve_process`.

    PyTorch equivalent: ``RandomSampler`` + ``BatchSampler`` (+ ``DistributedSampler``
    with ``set_epoch``).
    """
    check_order(shuffle=shuffle, drop_last=drop_last, seed=seed, epoch=epoch)
    index, count = resolve_process(process_index, process_count)
    check_batch_size(batch_size, n, drop_last=drop_last, process_count=count)
    order = permutation(n, seed, epoch) if shuffle else np.arange(n)
    global_batch = batch_size * count
    full = n // global_batch
    batches = [
        order[s * global_batch + index * batch_size: s * global_batch + (index + 1) * batch_size]
        for s in range(full)
    ]
    rest = order[full * global_batch:]
    if len(rest) and not drop_last:
        batches.append(np.array_split(rest, count)[index])
    return batches


def steps_per_epoch(n: int, batch_size: int, *, drop_last: bool = False,
                    process_count: int = 1) -> int:
    """Number of batches in one epoch (per process; the same on every process).

    Raises:
        TypeError: ``n`` (the number of examples) or ``batch_size`` is not an int.
        ValueError: see :func:`check_batch_size`.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n must be an int (the number of examples), got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must be the number of examples (>= 0), got {n}")
    check_batch_size(batch_size, n, drop_last=drop_last, process_count=process_count)
    global_batch = batch_size * process_count
    return n // global_batch if drop_last else -(-n // global_batch)
