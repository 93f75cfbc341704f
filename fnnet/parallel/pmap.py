"""Data parallelism in the ``pmap`` style: a leading device axis on every array.

The state is replicated with a leading axis of one copy per local device
(:func:`replicate`), each batch reshaped to ``[devices, B / devices, ...]``
(:func:`shard_batch`), and the step is ``fnnet.train.make_train_step(...,
axis_name="data")`` under ``jax.pmap``. :func:`unreplicate` takes one copy back for
logging and checkpoints. With several processes each process passes its own slice of
the batch and the collectives span every process's devices.

Example::

    step = fnnet.parallel.make_pmap_train_step(model, optimizer)
    states = fnnet.parallel.replicate(create_train_state(model, optimizer, key))
    for x, y in fnnet.data.batches(images, labels, 64, drop_last=True):
        states, metrics = step(states, fnnet.parallel.shard_batch((x, y)))
    state = fnnet.parallel.unreplicate(states)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from fnnet.nn.module import Module
from fnnet.parallel.distributed import check_same_across_processes
from fnnet.parallel.inflight import serialized
from fnnet.parallel.mesh import DATA_AXIS, batch_size, check_divisible
from fnnet.train import step as single
from fnnet.train.state import TrainState
from fnnet.train.step import Batch, LossFn, Metrics


def _stacked(devices: Sequence[jax.Device] | None) -> tuple[list[jax.Device], NamedSharding]:
    devices = list(jax.local_devices() if devices is None else devices)
    return devices, NamedSharding(Mesh(np.asarray(devices), (DATA_AXIS,)), P(DATA_AXIS))


def replicate(tree: Any, devices: Sequence[jax.Device] | None = None) -> Any:
    """One copy of ``tree`` per local device, stacked on a new leading axis.

    With several processes, first checks that every process holds the same tree.

    Args:
        tree: a pytree of arrays (e.g. a ``TrainState``).
        devices: the devices (default: ``jax.local_devices()``).

    Returns:
        The tree with leaves ``[devices, ...]``, copy ``i`` on device ``i``.

    Raises:
        ValueError: the tree differs across processes.

    PyTorch equivalent: what ``DistributedDataParallel`` does to the module at
    construction (broadcast the parameters to every rank).
    """
    check_same_across_processes(tree)
    devices, sharding = _stacked(devices)

    def copies(x: Any) -> jax.Array:
        x = jax.numpy.asarray(x)
        shards = [jax.device_put(x[None], d) for d in devices]
        return jax.make_array_from_single_device_arrays((len(devices), *x.shape), sharding,
                                                        shards)

    return jax.tree.map(copies, tree)


def unreplicate(tree: Any) -> Any:
    """The first copy of a replicated tree (drops the leading device axis)."""
    return jax.tree.map(lambda x: x[0], tree)


def shard_batch(batch: Any, devices: Sequence[jax.Device] | None = None) -> Any:
    """Splits a batch ``[B, ...]`` into ``[devices, B / devices, ...]`` on the devices.

    Args:
        batch: a pytree of arrays sharing the batch axis 0 (``(x, y)``): the global
            batch, or this process's slice of it with several processes.
        devices: the devices (default: ``jax.local_devices()``).

    Returns:
        The batch with a leading device axis, row ``i`` on device ``i``.

    Raises:
        ValueError: the batch size is not divisible by the number of devices.
    """
    devices, sharding = _stacked(devices)
    n = len(devices)
    size = batch_size(batch)
    check_divisible(size, n, what="batch" if jax.process_count() == 1 else "process-local batch")

    def split(x: Any) -> jax.Array:
        x = x if isinstance(x, jax.Array) else np.asarray(x)
        return jax.device_put(x.reshape(n, size // n, *x.shape[1:]), sharding)

    return jax.tree.map(split, batch)


def make_pmap_train_step(
    model: Module,
    optimizer: optax.GradientTransformation,
    loss_fn: LossFn | None = None,
    *,
    axis_name: str = DATA_AXIS,
    donate: bool = True,
    on_nonfinite: str = "ignore",
) -> Callable[[TrainState, Batch], tuple[TrainState, Metrics]]:
    """Builds ``p_train_step(states, (x, y)) -> (states, metrics)`` under ``jax.pmap``.

    The per-device step is :func:`fnnet.train.make_train_step` with ``axis_name``:
    gradients, metrics and floating-point layer state are averaged across devices and
    Dropout draws the global batch's mask, so the result equals the single-device step
    on the whole batch. BatchNorm layers given the same ``axis_name`` use the whole
    batch's statistics.

    Args:
        model: the fnnet model.
        optimizer: any optax transformation.
        loss_fn: ``loss_fn(outputs, labels) -> scalar`` mean loss; default cross-entropy.
        axis_name: the name of the mapped axis (BatchNorm layers refer to it).
        donate: reuse the old state's buffers.
        on_nonfinite: as :func:`fnnet.train.make_train_step`.

    Returns:
        The pmapped step: ``states`` from :func:`replicate`, batches from
        :func:`shard_batch`; every output has the leading device axis.

    PyTorch equivalent: a ``DistributedDataParallel`` training step.
    """
    inner = single.make_train_step(model, optimizer, loss_fn, jit=False,
                                   on_nonfinite=on_nonfinite, axis_name=axis_name)
    step = jax.pmap(inner, axis_name=axis_name, donate_argnums=(0,) if donate else ())
    return serialized(step, jax.local_devices())


def make_pmap_eval_step(
    model: Module,
    loss_fn: LossFn | None = None,
    *,
    axis_name: str = DATA_AXIS,
) -> Callable[[TrainState, Batch], Metrics]:
    """Builds ``p_eval_step(states, (x, y)) -> metrics`` under ``jax.pmap`` (eval mode);
    metrics are averaged across devices (``count`` summed).

    PyTorch equivalent: ``model.eval()`` under ``torch.no_grad()``, metrics all-reduced.
    """
    inner = single.make_eval_step(model, loss_fn, jit=False, axis_name=axis_name)
    return serialized(jax.pmap(inner, axis_name=axis_name), jax.local_devices())
