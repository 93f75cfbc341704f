"""The training state: everything a step reads and writes, as one pytree."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.core.cache import STEPS
from fnnet.nn.module import Module
from fnnet.typing import Params, PRNGKey, State


class TrainState(NamedTuple):
    """Parameters, layer state, optimizer state, step count and PRNG key.

    PyTorch keeps these in four places (``model.parameters()``, the module buffers,
    ``optimizer.state`` and the global RNG); here they travel together through a pure
    step and come out new.

    Attributes:
        params: the model's parameter tree (PyTorch ``state_dict`` names and layouts).
        layer_state: BatchNorm running statistics and other buffers (may be empty).
        opt_state: the optax optimizer state.
        step: number of optimizer steps taken, an int32 scalar.
        key: the run's base PRNG key; step ``i`` draws from ``fold_in(key, i)``, so a
            run resumed at step ``i`` draws exactly what the uninterrupted run drew.
    """

    params: Params
    layer_state: State
    opt_state: Any
    step: jax.Array
    key: PRNGKey


def create_train_state(
    model: Module,
    optimizer: optax.GradientTransformation,
    key: PRNGKey,
    params: Params | None = None,
    layer_state: State | None = None,
) -> TrainState:
    """Initialises the model (unless ``params`` are given) and the optimizer.

    Args:
        model: an fnnet model.
        optimizer: any optax transformation (e.g. ``fnnet.optim.SGD(lr=0.1)``).
        key: PRNG key; split into an init key and the run's base key.
        params: parameters to start from (e.g. loaded from PyTorch) instead of ``init``.
        layer_state: layer state to start from, with ``params``.

    Returns:
        A :class:`TrainState` at step 0.
    """
    init_key, run_key = jax.random.split(key)
    # One compiled init instead of an eager call (and compile) per random draw, shared
    # by every model of the same structure.
    init = STEPS.get("init", (model,), lambda: jax.jit(model.init))
    if params is None:
        params, init_state = init(init_key)
        layer_state = init_state if layer_state is None else layer_state
    elif layer_state is None:
        _, layer_state = init(init_key)
    return TrainState(
        params=params,
        layer_state=layer_state,
        opt_state=optimizer.init(params),
        step=jnp.zeros((), jnp.int32),
        key=run_key,
    )
