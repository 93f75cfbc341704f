"""Averaged SGD, as ``torch.optim.ASGD`` updates a parameter."""

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
)


class ASGDState(NamedTuple):
    """State of :func:`asgd_update`, named as PyTorch's ``optimizer.state[p]``.

    Attributes:
        eta: the current step size.
        mu: the averaging rate.
        ax: the averaged parameter.
        step: updates taken.
    """

    eta: jax.Array
    mu: jax.Array
    ax: optax.Updates
    step: jax.Array


def asgd_update(lr: Any, lambd: float, alpha: float, t0: float
                ) -> optax.GradientTransformation:
    """The update to ``param * (1 - lambd * eta) - eta * g``; then ``ax`` moves towards the
    new parameter by ``mu`` (a copy while ``mu`` is 1), and ``eta = lr / (1 + lambd * lr *
    t)**alpha``, ``mu = 1 / max(1, t - t0)`` for the next step."""

    def init_fn(params: optax.Params) -> ASGDState:
        first = lr(0) if callable(lr) else lr
        return ASGDState(jnp.asarray(first, jnp.float32), jnp.ones([], jnp.float32),
                         optax.tree.zeros_like(params), jnp.zeros([], jnp.int32))

    def update_fn(updates: optax.Updates, state: ASGDState,
                  params: optax.Params | None = None) -> tuple[Any, ASGDState]:
        if params is None:
            raise ValueError("ASGD: update needs the parameters (params=...)")
        step = optax.safe_increment(state.step)
        eta, mu = state.eta, state.mu
        new = jax.tree.map(lambda p, g: p * (1 - lambd * eta).astype(p.dtype)
                           - eta.astype(p.dtype) * g, params, updates)
        ax = jax.tree.map(lambda a, p: jnp.where(mu != 1, a + (p - a) * mu.astype(p.dtype), p),
                          state.ax, new)
        t = step.astype(jnp.float32)
        rate = lr(state.step) if callable(lr) else lr
        next_eta = jnp.asarray(rate / (1 + lambd * rate * t) ** alpha, jnp.float32)
        next_mu = jnp.asarray(1 / jnp.maximum(1.0, t - t0), jnp.float32)
        out = jax.tree.map(lambda n, p: n - p, new, params)
        return out, ASGDState(next_eta, next_mu, ax, step)

    return optax.GradientTransformation(init_fn, update_fn)


def ASGD(lr: float | optax.Schedule = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,  # noqa: N802
         t0: float = 1e6, weight_decay: Any = 0.0, *, maximize: bool = False,
         foreach: bool | None = None, capturable: bool = False, differentiable: bool = False
         ) -> optax.GradientTransformationExtraArgs:
    """Averaged SGD exactly as ``torch.optim.ASGD`` updates a parameter: with ``g = grad +
    weight_decay * param``::

        param = param * (1 - lambd * eta) - eta * g
        ax = param if mu == 1 else ax + mu * (param - ax)
        eta = lr / (1 + lambd * lr * t) ** alpha;  mu = 1 / max(1, t - t0)

    Args:
        lr: learning rate (PyTorch's default 1e-2), a float or an optax schedule.
        lambd: the decay term.
        alpha: the power of the step size's decay.
        t0: the step from which the average starts.
        weight_decay: L2 penalty added to the gradient.
        maximize: maximise the objective instead of minimising it.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        capturable: PyTorch's CUDA-graph option; checked, without effect.
        differentiable: PyTorch's autograd through the step; checked, without
            effect (``jax.grad`` differentiates fnnet's update either way).

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["asgd"]`` holds ``eta``, ``mu``,
        ``ax`` (the averaged parameters) and ``step``.

    PyTorch equivalent: ``torch.optim.ASGD``.
    """
    check_implementation_flags(foreach=foreach, capturable=capturable,
                               differentiable=differentiable)
    check_lr(lr)
    check_nonnegative(weight_decay, "Invalid weight_decay value")
    return build(
        ("maximize", negate(check_flag("maximize", maximize))),
        ("weight_decay", add_weight_decay(weight_decay)),
        ("asgd", asgd_update(lr, lambd, alpha, t0)),
    )
