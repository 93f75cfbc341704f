"""Adamax, as ``torch.optim.Adamax`` computes it."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.optim._adam_family import check_adam_args
from fnnet.optim._build import add_weight_decay, build, negate
from fnnet.optim._validate import check_flag, check_implementation_flags
from fnnet.optim.transforms import lerp, one_minus_power


class AdamaxState(NamedTuple):
    """State of :func:`scale_by_adamax`, named as PyTorch's ``optimizer.state[p]``.

    Attributes:
        exp_avg: first moment.
        exp_inf: exponentially weighted infinity norm.
        step: updates taken.
    """

    exp_avg: optax.Updates
    exp_inf: optax.Updates
    step: jax.Array


def scale_by_adamax(b1: Any = 0.9, b2: Any = 0.999, eps: Any = 1e-8
                    ) -> optax.GradientTransformation:
    """``exp_avg / (1 - b1**t) / exp_inf`` with ``exp_inf = max(b2 * exp_inf, |g| + eps)``.

    torch adds ``eps`` to ``|g|`` inside the maximum; optax's ``adamax`` adds it to the
    norm afterwards, which differs from the first step on.
    """

    def init_fn(params: optax.Params) -> AdamaxState:
        return AdamaxState(optax.tree.zeros_like(params), optax.tree.zeros_like(params),
                           jnp.zeros([], jnp.int32))

    def update_fn(updates: optax.Updates, state: AdamaxState,
                  params: optax.Params | None = None) -> tuple[Any, AdamaxState]:
        del params
        step = optax.safe_increment(state.step)
        exp_avg = jax.tree.map(lambda m, g: lerp(m, g, 1 - b1), state.exp_avg, updates)
        exp_inf = jax.tree.map(lambda u, g: jnp.maximum(b2 * u, jnp.abs(g) + eps),
                               state.exp_inf, updates)
        correction = one_minus_power(b1, step)
        out = jax.tree.map(lambda m, u: m / u / correction, exp_avg, exp_inf)
        return out, AdamaxState(exp_avg, exp_inf, step)

    return optax.GradientTransformation(init_fn, update_fn)


def Adamax(lr: float | optax.Schedule = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
           eps: Any = 1e-8, weight_decay: Any = 0.0, *, maximize: bool = False,
           foreach: bool | None = None, capturable: bool = False, differentiable: bool = False
           ) -> optax.GradientTransformationExtraArgs:
    """Adamax exactly as ``torch.optim.Adamax`` updates a parameter.

    With ``g = grad + weight_decay * param``, at step ``t``::

        exp_avg = b1 * exp_avg + (1 - b1) * g
        exp_inf = max(b2 * exp_inf, |g| + eps)
        param = param - lr / (1 - b1**t) * exp_avg / exp_inf

    Args:
        lr: learning rate (PyTorch's default 2e-3), a float or an optax schedule.
        betas: ``(b1, b2)``.
        eps: added to ``|g|`` inside the maximum.
        weight_decay: L2 penalty added to the gradient.
        maximize: maximise the objective instead of minimising it.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        capturable: PyTorch's CUDA-graph option; checked, without effect.
        differentiable: PyTorch's autograd through the step; checked, without
            effect (``jax.grad`` differentiates fnnet's update either way).

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["adamax"]`` holds ``exp_avg``,
        ``exp_inf`` and ``step``.

    PyTorch equivalent: ``torch.optim.Adamax``.
    """
    check_implementation_flags(foreach=foreach, capturable=capturable,
                               differentiable=differentiable)
    b1, b2 = check_adam_args(lr, betas, eps, weight_decay)
    return build(
        ("maximize", negate(check_flag("maximize", maximize))),
        ("weight_decay", add_weight_decay(weight_decay)),
        ("adamax", scale_by_adamax(b1, b2, eps)),
        ("lr", optax.scale_by_learning_rate(lr)),
    )
