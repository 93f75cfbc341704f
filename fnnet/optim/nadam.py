"""NAdam, as ``torch.optim.NAdam`` computes it (momentum decay, ``mu_product``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.optim._adam_family import check_adam_args
from fnnet.optim._build import add_weight_decay, build, negate
from fnnet.optim._validate import (
    check_flag,
    check_implementation_flags,
    check_nonnegative,
    check_number,
)
from fnnet.optim.transforms import adam_moments, one_minus_power


class NAdamState(NamedTuple):
    """State of :func:`scale_by_nadam`, named as PyTorch's ``optimizer.state[p]``.

    Attributes:
        exp_avg, exp_avg_sq: first and second moments.
        mu_product: product of the momentum coefficients so far (one per parameter).
        step: updates taken.
    """

    exp_avg: optax.Updates
    exp_avg_sq: optax.Updates
    mu_product: optax.Updates
    step: jax.Array


def scale_by_nadam(b1: Any = 0.9, b2: Any = 0.999, eps: Any = 1e-8,
                   momentum_decay: Any = 4e-3) -> optax.GradientTransformation:
    """NAdam's direction with Dozat's momentum schedule ``mu_t = b1 (1 - 0.96**(t psi)
    / 2)``, which optax's ``nadam`` (a fixed ``b1``) lacks."""

    def init_fn(params: optax.Params) -> NAdamState:
        return NAdamState(optax.tree.zeros_like(params), optax.tree.zeros_like(params),
                          jax.tree.map(lambda p: jnp.ones([], jnp.float32), params),
                          jnp.zeros([], jnp.int32))

    def update_fn(updates: optax.Updates, state: NAdamState,
                  params: optax.Params | None = None) -> tuple[Any, NAdamState]:
        del params
        step = optax.safe_increment(state.step)
        t = step.astype(jnp.float32)
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        correction2 = one_minus_power(b2, step)
        mu_product = jax.tree.map(lambda p: p * mu, state.mu_product)
        exp_avg, exp_avg_sq = adam_moments(updates, state.exp_avg, state.exp_avg_sq, b1, b2)

        def direction(g: jax.Array, m: jax.Array, v: jax.Array,
                      prod: jax.Array) -> jax.Array:
            denom = jnp.sqrt(v / correction2) + eps
            out: jax.Array = ((1.0 - mu) / (1.0 - prod) * g / denom
                              + mu_next / (1.0 - prod * mu_next) * m / denom)
            return out

        out = jax.tree.map(direction, updates, exp_avg, exp_avg_sq, mu_product)
        return out, NAdamState(exp_avg, exp_avg_sq, mu_product, step)

    return optax.GradientTransformation(init_fn, update_fn)


def NAdam(lr: float | optax.Schedule = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
          eps: Any = 1e-8, weight_decay: Any = 0.0, momentum_decay: Any = 4e-3,
          decoupled_weight_decay: bool = False, *, maximize: bool = False,
          foreach: bool | None = None, capturable: bool = False, differentiable: bool = False
          ) -> optax.GradientTransformationExtraArgs:
    """NAdam exactly as ``torch.optim.NAdam`` updates a parameter.

    At step ``t``, with ``mu_t = b1 (1 - 0.5 * 0.96**(t * momentum_decay))`` and
    ``prod_t = mu_1 ... mu_t``, the moments as Adam's and ``denom = sqrt(v / (1 -
    b2**t)) + eps``::

        param -= lr (1 - mu_t) / (1 - prod_t) * g / denom
        param -= lr mu_{t+1} / (1 - prod_t mu_{t+1}) * m / denom

    Args:
        lr: learning rate (PyTorch's default 2e-3), a float or an optax schedule.
        betas: ``(b1, b2)``.
        eps: added to the denominator.
        weight_decay: L2 penalty (decoupled, as AdamW's, if
            ``decoupled_weight_decay``).
        momentum_decay: ``psi`` of the momentum schedule.
        decoupled_weight_decay: NAdamW.
        maximize: maximise the objective instead of minimising it.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        capturable: PyTorch's CUDA-graph option; checked, without effect.
        differentiable: PyTorch's autograd through the step; checked, without
            effect (``jax.grad`` differentiates fnnet's update either way).

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["nadam"]`` holds ``exp_avg``,
        ``exp_avg_sq``, ``mu_product`` and ``step``.

    PyTorch equivalent: ``torch.optim.NAdam``.
    """
    check_implementation_flags(foreach=foreach, capturable=capturable,
                               differentiable=differentiable)
    b1, b2 = check_adam_args(lr, betas, eps, weight_decay)
    check_number("momentum_decay", momentum_decay)
    check_nonnegative(momentum_decay, "Invalid momentum_decay value")
    decoupled = check_flag("decoupled_weight_decay", decoupled_weight_decay)
    decay = add_weight_decay(weight_decay)
    return build(
        ("maximize", negate(check_flag("maximize", maximize))),
        ("weight_decay", None if decoupled else decay),
        ("nadam", scale_by_nadam(b1, b2, eps, momentum_decay)),
        ("decoupled_weight_decay", decay if decoupled else None),
        ("lr", optax.scale_by_learning_rate(lr)),
    )
