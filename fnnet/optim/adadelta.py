"""Adadelta, as ``torch.optim.Adadelta`` computes it."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.optim._build import add_weight_decay, build, negate
from fnnet.optim._validate import (
    check_flag,
    check_implementation_flags,
    check_lr,
    check_nonnegative,
    check_number,
)


class AdadeltaState(NamedTuple):
    """State of :func:`scale_by_adadelta`, named as PyTorch's ``optimizer.state[p]``.

    Attributes:
        square_avg: running average of the squared gradients.
        acc_delta: running average of the squared updates.
        step: updates taken.
    """

    square_avg: optax.Updates
    acc_delta: optax.Updates
    step: jax.Array


def scale_by_adadelta(rho: Any = 0.9, eps: Any = 1e-6) -> optax.GradientTransformation:
    """Adadelta's direction: ``sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g``.

    torch adds ``eps`` inside both square roots (optax's ``adadelta`` does too, but its
    state fields have other names and it folds in the learning rate).
    """

    def init_fn(params: optax.Params) -> AdadeltaState:
        return AdadeltaState(optax.tree.zeros_like(params), optax.tree.zeros_like(params),
                             jnp.zeros([], jnp.int32))

    def update_fn(updates: optax.Updates, state: AdadeltaState,
                  params: optax.Params | None = None) -> tuple[Any, AdadeltaState]:
        del params
        square_avg = jax.tree.map(lambda s, g: rho * s + (1 - rho) * g * g,
                                  state.square_avg, updates)
        delta = jax.tree.map(lambda a, s, g: jnp.sqrt(a + eps) / jnp.sqrt(s + eps) * g,
                             state.acc_delta, square_avg, updates)
        acc_delta = jax.tree.map(lambda a, d: rho * a + (1 - rho) * d * d,
                                 state.acc_delta, delta)
        return delta, AdadeltaState(square_avg, acc_delta, optax.safe_increment(state.step))

    return optax.GradientTransformation(init_fn, update_fn)


def Adadelta(lr: float | optax.Schedule = 1.0, rho: Any = 0.9, eps: Any = 1e-6,
             weight_decay: Any = 0.0, *, maximize: bool = False,
             foreach: bool | None = None, capturable: bool = False, differentiable: bool = False
             ) -> optax.GradientTransformationExtraArgs:
    """Adadelta exactly as ``torch.optim.Adadelta`` updates a parameter.

    With ``g = grad + weight_decay * param``::

        square_avg = rho * square_avg + (1 - rho) * g**2
        delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta**2
        param = param - lr * delta

    Args:
        lr: learning rate (PyTorch's default 1.0), a float or an optax schedule.
        rho: decay of both running averages.
        eps: added inside the square roots.
        weight_decay: L2 penalty added to the gradient.
        maximize: maximise the objective instead of minimising it.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        capturable: PyTorch's CUDA-graph option; checked, without effect.
        differentiable: PyTorch's autograd through the step; checked, without
            effect (``jax.grad`` differentiates fnnet's update either way).

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["adadelta"]`` holds
        ``square_avg``, ``acc_delta`` and ``step``.

    Raises:
        ValueError: PyTorch's checks, e.g. ``Invalid rho value: 1.5``.

    PyTorch equivalent: ``torch.optim.Adadelta``.
    """
    check_implementation_flags(foreach=foreach, capturable=capturable,
                               differentiable=differentiable)
    check_lr(lr)
    for name, value in (("rho", rho), ("eps", eps), ("weight_decay", weight_decay)):
        check_number(name, value)
    if not 0.0 <= float(rho) <= 1.0:
        raise ValueError(f"Invalid rho value: {rho}")
    check_nonnegative(eps, "Invalid epsilon value")
    check_nonnegative(weight_decay, "Invalid weight_decay value")
    return build(
        ("maximize", negate(check_flag("maximize", maximize))),
        ("weight_decay", add_weight_decay(weight_decay)),
        ("adadelta", scale_by_adadelta(rho, eps)),
        ("lr", optax.scale_by_learning_rate(lr)),
    )
