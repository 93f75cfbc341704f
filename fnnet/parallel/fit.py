"""What ``fnnet.train.fit(..., devices=n)`` trains with: the sharding-style steps."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh

from fnnet.core import step as single
from fnnet.core.state import TrainState
from fnnet.core.step import LossFn
from fnnet.nn.module import Module
from fnnet.parallel.mesh import batch_size as rows_of
from fnnet.parallel.mesh import check_divisible, data_mesh
from fnnet.parallel.sharding import (
    gather,
    make_eval_step,
    make_train_step,
    put_batch,
    put_replicated,
)
from fnnet.typing import Batch


def check_devices(devices: int, batch_size: int) -> None:
    """Raises before anything is compiled when ``fit``'s ``devices`` cannot be used.

    Raises:
        TypeError: ``devices`` is not an int.
        ValueError: ``devices`` is outside ``[1, jax.device_count()]``, or ``batch_size``
            is not divisible by it.
    """
    if isinstance(devices, bool) or not isinstance(devices, int):
        raise TypeError(f"devices must be an int (a number of devices), got {devices!r}")
    data_mesh(devices)  # checks the count
    check_divisible(batch_size, devices, what="batch")
    if jax.process_count() > 1 and devices != jax.device_count():
        raise ValueError(f"devices={devices}: with {jax.process_count()} processes fit "
                         f"splits each batch over every device of every process, "
                         f"devices={jax.device_count()}")


def data_parallel_steps(model: Module, loss_fn: LossFn | None, state: TrainState,
                        devices: int) -> tuple[TrainState, Callable[..., Any], Callable[..., Any]]:
    """``(state replicated on the first devices, make_train_step for them, eval_step)``.

    The returned ``make_train_step`` takes ``fnnet.train.make_train_step``'s arguments
    (``model, optimizer, loss_fn, on_nonfinite=..., steps_per_call=...,
    clip_grad_norm=...``) and builds the data-parallel step over the same mesh.
    """
    mesh = data_mesh(devices)
    build = functools.partial(make_train_step, mesh=mesh)
    eval_step = make_eval_step(model, loss_fn, mesh=mesh)
    if jax.process_count() > 1:
        build = functools.partial(_from_whole_batches, build, mesh)
        eval_step = _evaluate_whole_batches(eval_step, single.make_eval_step(model, loss_fn),
                                            mesh)
    return put_replicated(state, mesh), build, eval_step


def _rows(batch: Any, axis: int) -> Any:
    """This process's share of a whole batch that every process holds: the slice
    ``fnnet.data.batches`` would have given it, so the global batch is the whole one."""
    share = rows_of(batch, axis=axis) // jax.process_count()
    start = jax.process_index() * share
    index = (slice(None),) * axis + (slice(start, start + share),)
    return jax.tree.map(lambda x: np.asarray(x)[index], batch)


def _from_whole_batches(build: Callable[..., Any], mesh: Mesh, *args: Any,
                        steps_per_call: int = 1, **kwargs: Any) -> Callable[..., Any]:
    """The data-parallel train step taking the whole batch on every process (as ``fit``
    reads it) and placing each process's rows."""
    step = build(*args, steps_per_call=steps_per_call, **kwargs)
    axis = 0 if steps_per_call == 1 else 1

    def run(state: TrainState, batch: Batch) -> Any:
        return step(state, put_batch(_rows(batch, axis), mesh, leading=axis))

    return run


def _evaluate_whole_batches(sharded: Callable[..., Any], local: Callable[..., Any],
                            mesh: Mesh) -> Callable[..., Any]:
    """The data-parallel eval step taking the whole batch on every process; a batch that
    does not split over the devices (an evaluation's short last one) is evaluated by
    each process on its own device, from a host copy of the replicated state."""

    def run(state: TrainState, batch: Batch) -> Any:
        if rows_of(batch) % mesh.size == 0:
            return sharded(state, put_batch(_rows(batch, 0), mesh))
        return local(gather(state), batch)

    return run
