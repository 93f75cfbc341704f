"""What ``fnnet.train.fit(..., devices=n)`` trains with: the sharding-style steps."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fnnet.core.state import TrainState
from fnnet.core.step import LossFn
from fnnet.nn.module import Module
from fnnet.parallel.mesh import check_divisible, data_mesh
from fnnet.parallel.sharding import make_eval_step, make_train_step, put_replicated


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


def data_parallel_steps(model: Module, loss_fn: LossFn | None, state: TrainState,
                        devices: int) -> tuple[TrainState, Callable[..., Any], Callable[..., Any]]:
    """``(state replicated on the first devices, make_train_step for them, eval_step)``.

    The returned ``make_train_step`` takes ``fnnet.train.make_train_step``'s arguments
    (``model, optimizer, loss_fn, on_nonfinite=..., steps_per_call=...,
    clip_grad_norm=...``) and builds the data-parallel step over the same mesh.
    """
    mesh = data_mesh(devices)
    return (put_replicated(state, mesh), functools.partial(make_train_step, mesh=mesh),
            make_eval_step(model, loss_fn, mesh=mesh))
