"""RAdam, as ``torch.optim.RAdam`` computes it."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.optim._adam_family import check_adam_args
from fnnet.optim._build import add_weight_decay, build, negate
from fnnet.optim._validate import check_flag, check_implementation_flags
from fnnet.optim.transforms import adam_moments, neg_log

# Taylor coefficients of g(y) = y / expm1(y) (Bernoulli numbers B_n / n!), from y**2 on.
_EVEN = ((2, 1 / 12), (4, -1 / 720), (6, 1 / 30240), (8, -1 / 1209600),
         (10, 1 / 47900160))


def _g_difference(a: Any, x: jax.Array) -> jax.Array:
    """``g(-a) - g(x)`` for ``g(y) = y / expm1(y)``, accurate in float32 for small x."""
    g_minus_a = 1 + a / 2 + sum(c * a ** n for n, c in _EVEN)
    series = (a + x) / 2 + sum(c * (a ** n - x ** n) for n, c in _EVEN)
    safe = jnp.maximum(x, 1.0)
    direct = g_minus_a - safe / jnp.expm1(safe)
    return jnp.where(x < 1.0, series, direct)


class RAdamState(NamedTuple):
    """State of :func:`scale_by_radam`, named as PyTorch's ``optimizer.state[p]``."""

    exp_avg: optax.Updates
    exp_avg_sq: optax.Updates
    step: jax.Array


def scale_by_radam(b1: Any = 0.9, b2: Any = 0.999, eps: Any = 1e-8
                   ) -> optax.GradientTransformation:
    """RAdam's rectified direction. torch adds ``eps`` to ``sqrt(v)`` before the bias
    correction ``sqrt(1 - b2**t)`` multiplies it (optax's ``radam`` after), and switches
    to the rectified step when ``rho_t > 5`` (optax: a threshold of 5 too)."""
    # torch computes these scalars in float64. In float32, rho_t = rho_inf - 2 t b2**t /
    # (1 - b2**t) cancels ~2000 down to ~5 over the first steps; with a = -log(b2), x = t a
    # and g(y) = y / expm1(y) it is (2 / a) (g(-a) - g(x)) - 1, whose difference is a
    # series without cancellation while x < 1.
    a = neg_log(b2)
    rho_inf = 2 / (1 - b2) - 1
    log_b1 = -neg_log(b1)

    def init_fn(params: optax.Params) -> RAdamState:
        return RAdamState(optax.tree.zeros_like(params), optax.tree.zeros_like(params),
                          jnp.zeros([], jnp.int32))

    def update_fn(updates: optax.Updates, state: RAdamState,
                  params: optax.Params | None = None) -> tuple[Any, RAdamState]:
        del params
        step = optax.safe_increment(state.step)
        t = step.astype(jnp.float32)
        exp_avg, exp_avg_sq = adam_moments(updates, state.exp_avg, state.exp_avg_sq, b1, b2)
        x = t * a
        correction1, correction2 = -jnp.expm1(t * log_b1), -jnp.expm1(-x)
        rho_t = 2 / a * _g_difference(a, x) - 1
        rectified = rho_t > 5.0
        safe_rho = jnp.where(rectified, rho_t, rho_inf)  # no NaN in the unused branch
        rect = jnp.sqrt((safe_rho - 4) * (safe_rho - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * safe_rho))

        def direction(m: jax.Array, v: jax.Array) -> jax.Array:
            corrected = m / correction1
            adaptive = jnp.sqrt(correction2) / (jnp.sqrt(v) + eps)
            return jnp.where(rectified, corrected * adaptive * rect, corrected)

        out = jax.tree.map(direction, exp_avg, exp_avg_sq)
        return out, RAdamState(exp_avg, exp_avg_sq, step)

    return optax.GradientTransformation(init_fn, update_fn)


def RAdam(lr: float | optax.Schedule = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
          eps: Any = 1e-8, weight_decay: Any = 0.0, decoupled_weight_decay: bool = False,
          *, maximize: bool = False,
          foreach: bool | None = None, capturable: bool = False, differentiable: bool = False
          ) -> optax.GradientTransformationExtraArgs:
    """RAdam exactly as ``torch.optim.RAdam`` updates a parameter.

    The moments as Adam's; with ``rho_inf = 2 / (1 - b2) - 1`` and ``rho_t = rho_inf -
    2 t b2**t / (1 - b2**t)``, the update is ``lr * m / (1 - b1**t)`` times, when
    ``rho_t > 5``, ``rect_t * sqrt(1 - b2**t) / (sqrt(v) + eps)``.

    Args:
        lr: learning rate, a float or an optax schedule.
        betas: ``(b1, b2)``.
        eps: added to ``sqrt(v)``.
        weight_decay: L2 penalty (decoupled if ``decoupled_weight_decay``).
        decoupled_weight_decay: AdamW-style decay.
        maximize: maximise the objective instead of minimising it.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        capturable: PyTorch's CUDA-graph option; checked, without effect.
        differentiable: PyTorch's autograd through the step; checked, without
            effect (``jax.grad`` differentiates fnnet's update either way).

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["radam"]`` holds ``exp_avg``,
        ``exp_avg_sq`` and ``step``.

    PyTorch equivalent: ``torch.optim.RAdam``.
    """
    check_implementation_flags(foreach=foreach, capturable=capturable,
                               differentiable=differentiable)
    b1, b2 = check_adam_args(lr, betas, eps, weight_decay)
    decoupled = check_flag("decoupled_weight_decay", decoupled_weight_decay)
    decay = add_weight_decay(weight_decay)
    return build(
        ("maximize", negate(check_flag("maximize", maximize))),
        ("weight_decay", None if decoupled else decay),
        ("radam", scale_by_radam(b1, b2, eps)),
        ("decoupled_weight_decay", decay if decoupled else None),
        ("lr", optax.scale_by_learning_rate(lr)),
    )
