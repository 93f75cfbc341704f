"""Averages across the devices of a data-parallel step: gradients, metrics, layer state
(re-exported by :mod:`fnnet.parallel`).

Each device holds an equal shard of the global batch. Its loss is the mean over its
shard, so the mean of the devices' gradients is the gradient of the global-batch mean
loss: the single-device gradient. These helpers are what ``make_train_step(...,
axis_name=...)`` calls; they work the same under ``jax.pmap`` and under
``jax.shard_map`` with or without ``check_vma``.

Why ``check_vma`` matters: under ``shard_map(..., check_vma=True)`` (its default) JAX
tracks which values vary across the mapped axis, and the gradient of a replicated
parameter used with sharded data comes out of ``jax.grad`` already SUMMED over the
devices (the transpose of the implicit broadcast of the parameter is a ``psum``). A
further ``pmean`` would leave that sum ``devices`` times too large; such gradients are
divided by the device count instead.

Over an axis of size one (a single device) they return their input where JAX does not
track variation: XLA keeps even a one-participant all-reduce, and its cost would be the
whole overhead of the data-parallel step on one device.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax


def varies(x: Any, axis_name: Hashable) -> bool:
    """True when JAX tracks ``x`` as varying across ``axis_name`` (``check_vma``).

    Always False under ``pmap``, ``vmap`` and ``shard_map(check_vma=False)``, which
    track nothing.
    """
    aval = jax.typeof(x)
    if hasattr(aval, "vma"):  # jax 0.7 - 0.8
        return axis_name in aval.vma
    if hasattr(aval, "mat"):  # later: the manual-axis type of the value
        return axis_name in aval.mat.varying
    # Guessing would silently scale the gradients by the device count.
    raise RuntimeError(f"fnnet.parallel cannot tell which values vary across devices with "
                       f"jax {jax.__version__} (the type {aval} has no vma or mat); please "
                       "report it")


def mean_gradients(grads: Any, loss: Any, axis_name: Hashable) -> Any:
    """The average over devices of each device's gradient of its shard's mean loss.

    Args:
        grads: the gradient tree computed on this device.
        loss: this device's loss; tells whether JAX tracks variation across devices
            (the loss varies with the sharded batch), in which case the gradients of
            replicated parameters were already summed by ``jax.grad``.
        axis_name: the mapped axis the batch is split over.

    Returns:
        The averaged gradients, the same on every device.

    PyTorch equivalent: the gradient all-reduce (average) of
    ``torch.nn.parallel.DistributedDataParallel``.
    """
    tracked = varies(loss, axis_name)
    size = lax.axis_size(axis_name)

    def mean(g: Any) -> Any:
        if tracked and not varies(g, axis_name):
            return g / size if size > 1 else g  # psummed by the transpose of the broadcast
        if size == 1 and not varies(g, axis_name):
            return g
        return lax.pmean(g, axis_name)

    return jax.tree.map(mean, grads)


def mean_metrics(metrics: dict[str, Any], axis_name: Hashable) -> dict[str, Any]:
    """Averages per-device metrics over devices; ``count`` (examples) is summed.

    Means of equal-sized shards average to the global-batch mean, so ``loss`` and
    ``accuracy`` become those of the whole batch and ``count`` its size.
    """
    alone = lax.axis_size(axis_name) == 1

    def mean(name: str, value: Any) -> Any:
        if alone and not varies(value, axis_name):
            return value
        return lax.psum(value, axis_name) if name == "count" else lax.pmean(value, axis_name)

    return {name: mean(name, value) for name, value in metrics.items()}


def sync_layer_state(layer_state: Any, axis_name: Hashable, loss: Any) -> Any:
    """Averages the floating-point layer state (BatchNorm running statistics) over devices.

    BatchNorm layers given ``axis_name`` compute the statistics of the global batch, so
    their running statistics are already the same everywhere; without it each device
    tracks its own shard's statistics (PyTorch DDP without SyncBatchNorm), and their
    average is kept so that every device holds the same state. Where JAX tracks
    variation (``shard_map`` with ``check_vma``) only varying leaves are averaged;
    integer leaves (``num_batches_tracked``) are the same everywhere and kept.

    Args:
        layer_state: this device's new layer state.
        axis_name: the mapped axis.
        loss: this device's loss (see :func:`mean_gradients`).

    Returns:
        The layer state, the same on every device.
    """
    tracked = varies(loss, axis_name)
    alone = lax.axis_size(axis_name) == 1

    def sync(x: Any) -> Any:
        if not jnp.issubdtype(jnp.result_type(x), jnp.floating):
            return x
        if (tracked or alone) and not varies(x, axis_name):
            return x
        return lax.pmean(x, axis_name)

    return jax.tree.map(sync, layer_state)
