"""Data parallelism in the sharding style: global arrays on a mesh, ``jit`` + ``shard_map``.

The state is replicated on every device of a one-axis mesh (``NamedSharding(mesh,
P())``), each global batch is split along axis 0 (``NamedSharding(mesh, P("data"))``),
and the step is ``fnnet.train.make_train_step(..., axis_name="data")`` run by
``shard_map`` on each device's shard, inside ``jit``. The same code runs on one or
several processes (hosts): :func:`put_batch` builds the global batch from each
process's slice.

Example::

    mesh = fnnet.parallel.data_mesh()                 # every device, axis "data"
    step = fnnet.parallel.make_train_step(model, optimizer, mesh=mesh)
    state = fnnet.parallel.put_replicated(create_train_state(model, optimizer, key), mesh)
    for x, y in fnnet.data.batches(images, labels, 64, drop_last=True):
        state, metrics = step(state, fnnet.parallel.put_batch((x, y), mesh))
    params = fnnet.parallel.gather(state.params)      # numpy, for a checkpoint
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from fnnet.core import step as single
from fnnet.core.cache import STEPS
from fnnet.core.state import TrainState, check_not_donated, check_parts
from fnnet.core.step import LossFn, Metrics
from fnnet.nn.module import Module
from fnnet.parallel.distributed import check_same_across_processes
from fnnet.parallel.inflight import serialized, wait_for_previous
from fnnet.parallel.mesh import (
    axis_of,
    batch_sharded,
    batch_size,
    check_divisible,
    check_mesh,
    data_mesh,
    replicated,
)
from fnnet.typing import Batch


def _put(tree: Any, sharding: NamedSharding) -> Any:
    """Places host or device arrays with ``sharding``; each process gives its own part."""
    if jax.process_count() == 1:
        return jax.device_put(tree, sharding)
    return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x), tree)


def put_replicated(tree: Any, mesh: Mesh | None = None) -> Any:
    """Copies ``tree`` (e.g. a ``TrainState``) whole onto every device of ``mesh``; the
    copies share no buffer with ``tree``, which stays usable after a step donates them.

    With several processes, first checks that every process holds the same tree
    (:func:`~fnnet.parallel.check_same_across_processes`): a mismatch is an error at
    start rather than a silently diverging run.

    Args:
        tree: a pytree of arrays, the same on every process.
        mesh: the data mesh (default: :func:`data_mesh` over every device).

    Returns:
        The tree as global arrays replicated over ``mesh``.

    Raises:
        TypeError: ``mesh`` is not a ``jax.sharding.Mesh``.
        ValueError: the tree differs across processes, or an earlier step donated
            (deleted) its arrays.
    """
    if mesh is not None:
        check_mesh("put_replicated", mesh)
    mesh = data_mesh() if mesh is None else mesh
    check_not_donated(tree, "put_replicated")
    check_same_across_processes(tree)
    # The replica on a device array's own device shares its buffer (device_put's
    # may_alias=False notwithstanding), and the train steps donate their state, which
    # would delete the caller's tree with it: device arrays are copied first.
    tree = jax.tree.map(lambda x: x.copy() if isinstance(x, jax.Array) else x, tree)
    return _put(tree, replicated(mesh))


def put_batch(batch: Any, mesh: Mesh | None = None, *, leading: int = 0) -> Any:
    """Splits a batch over the devices of ``mesh`` along its batch axis.

    On one process ``batch`` is the global batch. With several processes it is this
    process's slice (as ``fnnet.data.batches`` yields by default) and the global batch
    is the slices stacked in process order (``jax.make_array_from_process_local_data``).

    Args:
        batch: a pytree of ``[B, ...]`` arrays (``(x, y)``), or ``[k, B, ...]`` with
            ``leading=1`` for ``steps_per_call=k``.
        mesh: the data mesh (default: every device).
        leading: the batch axis.

    Returns:
        The global batch, sharded along ``leading`` over the mesh's axis.

    Raises:
        TypeError: ``mesh`` is not a ``jax.sharding.Mesh``, or ``leading`` not an int.
        ValueError: ``leading`` is negative, or the global batch size is not divisible
            by the device count (or the local slice by this process's device count).
    """
    if mesh is not None:
        check_mesh("put_batch", mesh)
    mesh = data_mesh() if mesh is None else mesh
    sharding = batch_sharded(mesh, leading, who="put_batch")  # checks leading first
    size = batch_size(batch, axis=leading)
    processes = jax.process_count()
    check_divisible(size * processes, mesh.size, what="global batch")
    if processes > 1:
        check_divisible(size, len(mesh.local_devices), what="process-local batch")
    return _put(batch, sharding)


def gather(tree: Any) -> Any:
    """Numpy copies of global arrays, on every process, for logging and checkpoints.

    Replicated arrays are read from a local device; arrays sharded across processes
    are gathered from all of them (a collective: every process must call it).

    Returns:
        The tree with numpy leaves (PRNG keys as their ``key_data``).

    Raises:
        ValueError: an earlier step donated (deleted) arrays of ``tree``: a state
            passed to it rather than the one it returned.
    """
    from jax.experimental import multihost_utils

    def fetch(x: Any) -> Any:
        if not isinstance(x, jax.Array):
            return x
        if jax.numpy.issubdtype(x.dtype, jax.dtypes.prng_key):
            x = jax.random.key_data(x)
        if x.is_fully_addressable:
            return np.asarray(jax.device_get(x))
        if x.is_fully_replicated:
            return np.asarray(x.addressable_data(0))
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))

    check_not_donated(tree, "gather")
    wait_for_previous()
    return jax.tree.map(fetch, tree)


def make_train_step(
    model: Module,
    optimizer: optax.GradientTransformation,
    loss_fn: LossFn | None = None,
    *,
    mesh: Mesh | None = None,
    donate: bool = True,
    steps_per_call: int = 1,
    on_nonfinite: str = "ignore",
    clip_grad_norm: float | None = None,
) -> Callable[[TrainState, Batch], tuple[TrainState, Metrics]]:
    """Builds the data-parallel ``train_step(state, (x, y)) -> (state, metrics)``.

    The step is :func:`fnnet.train.make_train_step` with ``axis_name`` the mesh's axis,
    run on each device's shard of the batch by ``shard_map`` inside ``jit``: gradients,
    metrics and floating-point layer state are averaged over the devices and Dropout
    draws the global batch's mask, so the step computes what the single-device step
    computes on the whole batch (up to float rounding in the averages). BatchNorm
    layers compute their statistics on each device's shard unless they are given
    ``axis_name="data"`` (then over the whole batch, as ``torch.nn.SyncBatchNorm``).

    Args:
        model: the fnnet model.
        optimizer: any optax transformation.
        loss_fn: ``loss_fn(outputs, labels) -> scalar`` mean loss; default
            cross-entropy.
        mesh: the data mesh (default: :func:`data_mesh`, every device).
        donate: reuse the old state's buffers for the new state.
        steps_per_call: fuse this many steps into one call; the batch is then
            ``[k, B, ...]`` (split along axis 1).
        on_nonfinite: as :func:`fnnet.train.make_train_step`.
        clip_grad_norm: clip the averaged gradients to this total norm, as
            :func:`fnnet.train.make_train_step`.

    Returns:
        ``step(state, batch)``. ``state`` should be replicated (:func:`put_replicated`;
        a single-device state is copied to every device at each call). ``batch`` is the
        global batch: numpy arrays on one process, :func:`put_batch` output on several.
        Metrics are replicated scalars.

    Raises:
        ValueError: at the call, when the global batch size is not divisible by the
            number of devices.

    PyTorch equivalent: a ``DistributedDataParallel`` model's training step, with one
    process per device.
    """
    if mesh is not None:
        check_mesh("make_train_step", mesh)
    mesh = data_mesh() if mesh is None else mesh
    axis_of(mesh)  # a one-axis mesh, checked before the cache is consulted
    check_parts(model, optimizer, loss_fn, needs_optimizer=True)
    single.check_step_options(steps_per_call, on_nonfinite)
    build = functools.partial(_train_step, model, optimizer, loss_fn, mesh=mesh,
                              donate=donate, steps_per_call=steps_per_call,
                              on_nonfinite=on_nonfinite, clip_grad_norm=clip_grad_norm)
    # The same structure on the same devices gets the same jitted step (and so its
    # compilations): the mesh is keyed by its devices and axes, which fix the shardings.
    parts = (model, optimizer, loss_fn, mesh_key(mesh), donate, steps_per_call,
             on_nonfinite, clip_grad_norm)
    return STEPS.get("data_parallel_train_step", parts, build)


def mesh_key(mesh: Mesh) -> tuple[Any, ...]:
    """What identifies ``mesh`` for the step cache: its axes, shape and devices."""
    return (tuple(mesh.axis_names), mesh.devices.shape,
            tuple((d.platform, d.process_index, d.id) for d in mesh.devices.flat))


def _train_step(model: Module, optimizer: optax.GradientTransformation,
                loss_fn: LossFn | None, *, mesh: Mesh, donate: bool, steps_per_call: int,
                on_nonfinite: str, clip_grad_norm: float | None
                ) -> Callable[[TrainState, Batch], tuple[TrainState, Metrics]]:
    """:func:`make_train_step`'s step, built from checked arguments."""
    axis = axis_of(mesh)
    lead = 0 if steps_per_call == 1 else 1
    inner = single.make_train_step(model, optimizer, loss_fn, jit=False,
                                   steps_per_call=steps_per_call, on_nonfinite=on_nonfinite,
                                   axis_name=axis, clip_grad_norm=clip_grad_norm)
    # On one device nothing can vary, so JAX's replication check (check_vma) is moot;
    # off, it adds no one-participant all-reduces to the gradients.
    mapped = jax.shard_map(inner, mesh=mesh, in_specs=(P(), P(*([None] * lead), axis)),
                           out_specs=(P(), P()), check_vma=mesh.size > 1)
    compiled = serialized(
        jax.jit(mapped, in_shardings=(replicated(mesh), batch_sharded(mesh, lead)),
                out_shardings=replicated(mesh), donate_argnums=(0,) if donate else ()),
        mesh.devices.flat)
    devices = mesh.size

    def step(state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        check_divisible(batch_size(batch, axis=lead), devices, what="global batch")
        check_not_donated(state, "train_step")
        out: tuple[TrainState, Metrics] = compiled(state, batch)
        return out

    return step


def make_eval_step(
    model: Module,
    loss_fn: LossFn | None = None,
    *,
    mesh: Mesh | None = None,
) -> Callable[[TrainState, Batch], Metrics]:
    """Builds the data-parallel ``eval_step(state, (x, y)) -> metrics`` (eval mode).

    Batches divisible by the device count are split over the devices and the metrics
    averaged (``count`` summed); on a single process, any other batch (the short last
    one of an evaluation pass) is evaluated whole on every device, so ``evaluate``
    works unchanged.

    Raises:
        ValueError: with several processes, a global batch not divisible by the
            device count.

    PyTorch equivalent: ``model.eval()`` and a loop under ``torch.no_grad()``, with the
    metrics all-reduced.
    """
    if mesh is not None:
        check_mesh("make_eval_step", mesh)
    mesh = data_mesh() if mesh is None else mesh
    axis_of(mesh)
    check_parts(model, None, loss_fn)
    build = functools.partial(_eval_step, model, loss_fn, mesh)
    return STEPS.get("data_parallel_eval_step", (model, loss_fn, mesh_key(mesh)), build)


def _eval_step(model: Module, loss_fn: LossFn | None, mesh: Mesh
               ) -> Callable[[TrainState, Batch], Metrics]:
    """:func:`make_eval_step`'s step."""
    axis = axis_of(mesh)
    inner = single.make_eval_step(model, loss_fn, jit=False, axis_name=axis)
    sharded = serialized(
        jax.jit(jax.shard_map(inner, mesh=mesh, in_specs=(P(), P(axis)), out_specs=P(),
                              check_vma=mesh.size > 1),
                in_shardings=(replicated(mesh), batch_sharded(mesh)),
                out_shardings=replicated(mesh)),
        mesh.devices.flat)
    whole = serialized(
        jax.jit(single.make_eval_step(model, loss_fn, jit=False),
                in_shardings=(replicated(mesh), replicated(mesh)),
                out_shardings=replicated(mesh)),
        mesh.devices.flat)
    devices = mesh.size

    def step(state: TrainState, batch: Batch) -> Metrics:
        check_not_donated(state, "eval_step")
        size = batch_size(batch)
        metrics: Metrics
        if size % devices == 0:
            metrics = sharded(state, batch)
            return metrics
        if jax.process_count() > 1:
            check_divisible(size, devices, what="global batch")
        metrics = whole(state, batch)
        return metrics

    return step
