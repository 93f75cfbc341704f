"""Data parallelism in the ``pmap`` style: a leading device axis on every array.

The state is replicated with a leading axis of one copy per local device
(:func:`replicate`), each batch reshaped to ``[devices, B / devices, ...]``
(:func:`shard_batch`), and the step is ``fnnet.train.make_train_step(...,
axis_name="data")`` mapped over that axis as ``jax.pmap`` maps it (compiled as ``jit``
of ``shard_map``, which ``pmap`` has been since JAX 0.8). :func:`unreplicate` takes one
copy back for logging and checkpoints. With several processes each process passes its
own slice of the batch and the collectives span every process's devices.

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

from fnnet.core import step as single
from fnnet.core.cache import STEPS
from fnnet.core.state import TrainState, check_not_donated, check_parts
from fnnet.core.step import LossFn, Metrics
from fnnet.nn.module import Module
from fnnet.nn.tree_check import first_leaf
from fnnet.parallel.distributed import check_same_across_processes
from fnnet.parallel.inflight import serialized
from fnnet.parallel.mesh import DATA_AXIS, batch_size, check_divisible, pick_devices
from fnnet.typing import Batch


def _stacked(devices: Sequence[jax.Device] | None) -> tuple[list[jax.Device], NamedSharding]:
    devices = pick_devices(devices, jax.local_devices(), "replicate")
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
        ValueError: the tree differs across processes, or an earlier step donated
            (deleted) its arrays.

    PyTorch equivalent: what ``DistributedDataParallel`` does to the module at
    construction (broadcast the parameters to every rank).
    """
    check_not_donated(tree, "replicate")
    check_same_across_processes(tree)
    devices, sharding = _stacked(devices)

    def copies(x: Any) -> jax.Array:
        x = jax.numpy.asarray(x)
        shards = [jax.device_put(x[None], d) for d in devices]
        return jax.make_array_from_single_device_arrays((len(devices), *x.shape), sharding,
                                                        shards)

    return jax.tree.map(copies, tree)


def unreplicate(tree: Any) -> Any:
    """The first copy of a replicated tree (drops the leading device axis).

    Args:
        tree: a pytree of arrays with a leading device axis, as :func:`replicate`
            returns.

    Returns:
        The tree with leaves ``[...]``: copy 0.

    Raises:
        TypeError: a leaf is not an array.
        ValueError: a leaf is a 0-d array (it has no device axis).
    """
    if any(np.ndim(x) == 0 for x in jax.tree.leaves(tree)):
        name, leaf = first_leaf(tree, lambda x: np.ndim(x) == 0) or ("", None)
        kind = "a 0-d array" if hasattr(leaf, "shape") else type(leaf).__name__
        error = ValueError if hasattr(leaf, "shape") else TypeError
        raise error(f"unreplicate: tree must hold arrays with a leading device axis (as "
                    f"replicate returns), got {kind} at {name!r}")
    return jax.tree.map(lambda x: x[0], tree)


def shard_batch(batch: Any, devices: int | Sequence[jax.Device] | None = None) -> Any:
    """Reshapes a batch ``[B, ...]`` to ``[devices, B / devices, ...]`` for ``pmap``.

    Host (numpy) arrays stay on the host: the pmapped step sends row ``i`` to device
    ``i`` as it starts, which is cheaper than a separate transfer; device arrays are
    reshaped where they are.

    Args:
        batch: a pytree of arrays sharing the batch axis 0 (``(x, y)``): the global
            batch, or this process's slice of it with several processes.
        devices: the devices or their number (default: ``jax.local_device_count()``).

    Returns:
        The batch with a leading device axis.

    Raises:
        TypeError: ``devices`` is neither a count nor a list of jax devices.
        ValueError: a count outside ``[1, jax.local_device_count()]``, or a batch size
            not divisible by the number of devices.
    """
    n = len(pick_devices(devices, jax.local_devices(), "shard_batch"))
    size = batch_size(batch)
    check_divisible(size, n, what="batch" if jax.process_count() == 1 else "process-local batch")

    def split(x: Any) -> Any:
        x = x if isinstance(x, jax.Array) else np.asarray(x)
        return x.reshape(n, size // n, *x.shape[1:])

    return jax.tree.map(split, batch)


def _device_mapped(fn: Callable[..., Any], axis_name: str, donate: bool) -> Callable[..., Any]:
    """``fn`` run on each device on its row of arguments with a leading device axis.

    What ``jax.pmap(fn, axis_name)`` does (since JAX 0.8 ``pmap`` itself is ``jit`` of
    ``shard_map``), but dispatched by ``jit`` alone, without ``pmap``'s per-call Python
    work. With several processes each passes its local rows, as to ``pmap``.
    """
    processes = jax.process_count()
    devices = jax.devices() if processes > 1 else jax.local_devices()
    mesh = Mesh(np.asarray(devices), (axis_name,))

    def per_device(*args: Any) -> Any:
        out = fn(*jax.tree.map(lambda x: x[0], args))
        return jax.tree.map(lambda x: x[None], out)

    # check_vma=False: pmap's semantics, every collective explicit.
    mapped = jax.shard_map(per_device, mesh=mesh, in_specs=P(axis_name),
                           out_specs=P(axis_name), check_vma=False)
    rows = NamedSharding(mesh, P(axis_name))
    compiled = serialized(jax.jit(mapped, in_shardings=rows, out_shardings=rows,
                                  donate_argnums=(0,) if donate else ()), devices)
    local = jax.local_device_count()
    if processes == 1:
        call = compiled
    else:
        from jax.experimental import multihost_utils

        def call(*args: Any) -> Any:
            args = multihost_utils.host_local_array_to_global_array(args, mesh,
                                                                    P(axis_name))
            out = compiled(*args)
            return multihost_utils.global_array_to_host_local_array(out, mesh,
                                                                    P(axis_name))

    def run(*args: Any) -> Any:
        check_not_donated(args[0], "pmap-style step")
        try:
            return call(*args)
        except (ValueError, TypeError) as error:  # JAX's words, or the step's, on rows
            _check_rows(args, local, error)
            raise

    return run


def _check_rows(args: tuple[Any, ...], devices: int, error: Exception) -> None:
    """Raises a ValueError naming the first argument without a leading device axis of
    ``devices`` rows (the cause of ``error``), if there is one."""
    for i, arg in enumerate(args):
        found = first_leaf(arg, lambda x: np.ndim(x) == 0 or np.shape(x)[0] != devices)
        if found is not None:
            name, leaf = found
            what = "the state (from fnnet.parallel.replicate)" if i == 0 else \
                "the batch (from fnnet.parallel.shard_batch)"
            raise ValueError(
                f"pmap-style step: argument {i}, {what}, must have a leading device axis "
                f"of {devices}, got shape {tuple(np.shape(leaf))} at {name!r}") from error


def make_pmap_train_step(
    model: Module,
    optimizer: optax.GradientTransformation,
    loss_fn: LossFn | None = None,
    *,
    axis_name: str = DATA_AXIS,
    donate: bool = True,
    on_nonfinite: str = "ignore",
    clip_grad_norm: float | None = None,
) -> Callable[[TrainState, Batch], tuple[TrainState, Metrics]]:
    """Builds ``p_train_step(states, (x, y)) -> (states, metrics)``, pmap style.

    Every argument and result carries the leading device axis, as under
    ``jax.pmap(step, axis_name)``; the per-device step is
    :func:`fnnet.train.make_train_step` with ``axis_name``: gradients, metrics and
    floating-point layer state are averaged across devices and Dropout draws the global
    batch's mask, so the result equals the single-device step on the whole batch.
    BatchNorm layers given the same ``axis_name`` use the whole batch's statistics. It
    is compiled as ``jit`` of ``shard_map`` over the device axis, which is what
    ``jax.pmap`` is since JAX 0.8, minus ``pmap``'s per-call Python overhead.

    Args:
        model: the fnnet model.
        optimizer: any optax transformation.
        loss_fn: ``loss_fn(outputs, labels) -> scalar`` mean loss; default cross-entropy.
        axis_name: the name of the mapped axis (BatchNorm layers refer to it).
        donate: reuse the old state's buffers.
        on_nonfinite: as :func:`fnnet.train.make_train_step`.
        clip_grad_norm: clip the averaged gradients to this total norm, as
            :func:`fnnet.train.make_train_step`.

    Returns:
        The step: ``states`` from :func:`replicate`, batches from :func:`shard_batch`;
        every output has the leading device axis.

    PyTorch equivalent: a ``DistributedDataParallel`` training step.
    """
    check_parts(model, optimizer, loss_fn, needs_optimizer=True)
    single.check_step_options(1, on_nonfinite)
    def build() -> Callable[..., Any]:
        inner = single.make_train_step(model, optimizer, loss_fn, jit=False,
                                       on_nonfinite=on_nonfinite, axis_name=axis_name,
                                       clip_grad_norm=clip_grad_norm)
        return _device_mapped(inner, axis_name, donate)

    # the same structure on the same devices gets the same jitted step and compilations
    parts = (model, optimizer, loss_fn, axis_name, donate, on_nonfinite, clip_grad_norm,
             _devices_key())
    return STEPS.get("pmap_train_step", parts, build)


def make_pmap_eval_step(
    model: Module,
    loss_fn: LossFn | None = None,
    *,
    axis_name: str = DATA_AXIS,
) -> Callable[[TrainState, Batch], Metrics]:
    """Builds ``p_eval_step(states, (x, y)) -> metrics``, pmap style (eval mode); metrics
    are averaged across devices (``count`` summed).

    PyTorch equivalent: ``model.eval()`` under ``torch.no_grad()``, metrics all-reduced.
    """
    check_parts(model, None, loss_fn)
    def build() -> Callable[..., Any]:
        inner = single.make_eval_step(model, loss_fn, jit=False, axis_name=axis_name)
        return _device_mapped(inner, axis_name, donate=False)

    parts = (model, loss_fn, axis_name, _devices_key())
    return STEPS.get("pmap_eval_step", parts, build)


def _devices_key() -> tuple[Any, ...]:
    """The devices a pmap-style step runs on (see ``_device_mapped``), for the step
    cache."""
    devices = jax.devices() if jax.process_count() > 1 else jax.local_devices()
    return tuple((d.platform, d.process_index, d.id) for d in devices)
