"""The training state: everything a step reads and writes, as one pytree."""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.core.cache import STEPS
from fnnet.nn.errors import check_key
from fnnet.nn.module import Module
from fnnet.nn.tree_check import check_trees
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
        params: parameters to start from (e.g. loaded from PyTorch) instead of ``init``;
            copied, so that they outlive the train steps, which donate the state.
        layer_state: layer state to start from, with ``params`` (copied too).

    Returns:
        A :class:`TrainState` at step 0.

    Raises:
        TypeError: ``model`` is not a model, ``optimizer`` not an optax transformation,
            ``key`` not a PRNG key, or ``params``/``layer_state`` not nested dicts of
            arrays.
        StateDictError: ``params`` or ``layer_state`` lacks an entry ``model.init``
            makes, has one it does not, or one of another shape.
    """
    check_parts(model, optimizer, needs_optimizer=True)
    check_key(key, "create_train_state")
    # A train step donates the state's buffers: without a copy, the caller's own trees
    # (the loaded weights, kept to compare with) would be deleted by the first step.
    params, layer_state = jax.tree.map(
        lambda x: x.copy() if isinstance(x, jax.Array) else x, (params, layer_state))
    init_key, run_key = jax.random.split(key)
    # One compiled init instead of an eager call (and compile) per random draw, shared
    # by every model of the same structure.
    init = STEPS.get("init", (model,), lambda: jax.jit(model.init))
    if params is None:
        params, init_state = init(init_key)
        layer_state = init_state if layer_state is None else layer_state
    elif layer_state is None:
        _, layer_state = init(init_key)
    if isinstance(model, Module):
        # Given trees of another model would otherwise fail at the first step.
        check_trees(model, params, layer_state, "create_train_state")
    return TrainState(
        params=params,
        layer_state=layer_state,
        opt_state=optimizer.init(params),
        step=jnp.zeros((), jnp.int32),
        key=run_key,
    )


def check_parts(model: Any, optimizer: Any = None, loss_fn: Any = None, *,
                needs_optimizer: bool = False) -> None:
    """Raises a TypeError naming ``model``, ``optimizer`` or ``loss_fn`` when it is not
    what the steps call (``loss_fn`` None is the default loss; ``optimizer`` None is
    refused when ``needs_optimizer``)."""
    if isinstance(model, type):
        # the class has init and apply too, but unbound: they would fail on their args
        raise TypeError(f"model must be an fnnet.nn.Module instance, got the class "
                        f"{model.__name__}: create the model first, e.g. {model.__name__}(...)")
    if not (callable(getattr(model, "init", None)) and callable(getattr(model, "apply", None))):
        raise TypeError(f"model must be an fnnet.nn.Module (with init and apply), got "
                        f"{type(model).__name__}")
    if (optimizer is not None or needs_optimizer) and not (
            callable(getattr(optimizer, "init", None))
            and callable(getattr(optimizer, "update", None))):
        raise TypeError(f"optimizer must be an optax.GradientTransformation (e.g. "
                        f"fnnet.optim.SGD(lr=0.1)), got {type(optimizer).__name__}")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function (outputs, labels) -> scalar loss "
                        f"(e.g. fnnet.losses.cross_entropy), got {type(loss_fn).__name__}")
    if loss_fn is not None:
        try:
            signature = inspect.signature(loss_fn)
        except (TypeError, ValueError):  # a builtin or C function: called as it is
            signature = None
        if signature is not None:
            try:
                signature.bind(None, None)
            except TypeError:
                # the step calls it with two arguments, inside a trace whose error would
                # name neither loss_fn nor what it must take
                raise TypeError(f"loss_fn must take (outputs, labels), as the training "
                                f"step calls it; it is defined as "
                                f"{getattr(loss_fn, '__name__', type(loss_fn).__name__)}"
                                f"{signature}") from None


def check_state(state: Any, what: str = "") -> None:
    """Raises a TypeError unless ``state`` is a :class:`TrainState`; ``what`` (the
    function's name) prefixes the message."""
    if not isinstance(state, TrainState):
        prefix = f"{what}: " if what else ""
        raise TypeError(f"{prefix}state must be a TrainState (see create_train_state), got "
                        f"{type(state).__name__}")


def check_not_donated(state: Any, what: str, error: BaseException | None = None) -> None:
    """Raises a ValueError (from ``error``) naming the first array of ``state`` that an
    earlier call donated (deleted), if any: what XLA reports as "Buffer has been deleted
    or donated" or JAX as "Array has been deleted". A multi-device step checks before
    its call, as XLA's multi-device executable may crash the process on such a buffer."""
    for path, leaf in jax.tree_util.tree_leaves_with_path(state):
        if isinstance(leaf, jax.Array) and leaf.is_deleted():
            raise ValueError(
                f"{what}: the state's {jax.tree_util.keystr(path, simple=True, separator='.')} "
                "was deleted: this state was passed to an earlier train_step, which donates "
                "its input state (its buffers hold the new state). Pass the state that call "
                "returned (state, metrics = train_step(state, batch)), or build the step with "
                "make_train_step(..., donate=False) to keep using the old one") from error
