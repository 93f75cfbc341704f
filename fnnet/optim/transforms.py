"""The optax pieces that PyTorch's update rules need and optax lacks.

Each is an optax ``GradientTransformation`` in optax's own style (a ``NamedTuple``
state, ``init_fn`` and ``update_fn``); state fields carry the names PyTorch gives them
in ``optimizer.state[p]`` so that a user can find them.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.nn.functional._utils import widened
from fnnet.optim._validate import (
    check_below_one,
    check_flag,
    check_nonnegative,
    check_number,
)

# ---------------------------------------------------------------- SGD momentum


class MomentumState(NamedTuple):
    """State of :func:`momentum_buffer`.

    Attributes:
        momentum_buffer: PyTorch's ``state["momentum_buffer"]``.
        count: number of updates taken with a non-zero momentum; the first one sets the
            buffer to the gradient.
    """

    momentum_buffer: optax.Updates
    # Named as optax's states name it; the field shadows tuple.count, as theirs do.
    count: jax.Array  # type: ignore[assignment]


def momentum_buffer(momentum: Any, dampening: Any = 0.0,
                    nesterov: bool = False) -> optax.GradientTransformation:
    """SGD's momentum exactly as ``torch.optim.SGD``, for any (even injected) values.

    ``buf = g`` on the first step with non-zero momentum (no dampening), then ``buf =
    momentum * buf + (1 - dampening) * g``; the update is ``g + momentum * buf`` with
    Nesterov, else ``buf``. While ``momentum`` is 0 the update is ``g`` and the buffer
    is neither used nor updated, but kept for when momentum returns, as PyTorch keeps
    ``state["momentum_buffer"]``. So ``momentum`` and ``dampening`` may be injected
    arrays that change between steps. optax has no dampening; with ``dampening = 0`` and
    a fixed momentum this is ``optax.trace``, which fnnet then uses.

    Args:
        momentum: the momentum factor, a number or an array.
        dampening: the dampening of each new gradient after the first.
        nesterov: use Nesterov momentum.

    Returns:
        An ``optax.GradientTransformation``.
    """
    check_number("momentum", momentum)
    check_nonnegative(momentum, "Invalid momentum value")
    check_number("dampening", dampening)
    check_flag("nesterov", nesterov)

    def init_fn(params: optax.Params) -> MomentumState:
        return MomentumState(momentum_buffer=optax.tree.zeros_like(params),
                             count=jnp.zeros([], jnp.int32))

    def update_fn(updates: optax.Updates, state: MomentumState,
                  params: optax.Params | None = None) -> tuple[Any, MomentumState]:
        del params
        active = jnp.asarray(momentum) != 0
        first = state.count == 0

        def buffer(g: jax.Array, b: jax.Array) -> jax.Array:
            new = jnp.where(first, g, momentum * b + (1 - dampening) * g)
            return jnp.where(active, new, b)

        def direction(g: jax.Array, b: jax.Array) -> jax.Array:
            return jnp.where(active, g + momentum * b if nesterov else b, g)

        buffers = jax.tree.map(buffer, updates, state.momentum_buffer)
        updates = jax.tree.map(direction, updates, buffers)
        count = jnp.where(active, optax.safe_increment(state.count), state.count)
        return updates, MomentumState(momentum_buffer=buffers, count=count)

    return optax.GradientTransformation(init_fn, update_fn)


# ---------------------------------------------------------------- Adagrad


class ScaleByAdagradState(NamedTuple):
    """State of :func:`scale_by_adagrad`.

    Attributes:
        sum: PyTorch's ``state["sum"]``, the running sum of squared gradients.
    """

    sum: optax.Updates


def scale_by_adagrad(initial_accumulator_value: float = 0.0,
                     eps: float = 1e-10) -> optax.GradientTransformation:
    """Adagrad's scaling as ``torch.optim.Adagrad``: ``g / (sqrt(sum) + eps)``.

    ``optax.scale_by_rss`` adds ``eps`` inside the square root (``g / sqrt(sum +
    eps)``), which differs markedly from PyTorch while ``sum`` is small.

    Args:
        initial_accumulator_value: the starting value of ``sum``.
        eps: added to the square root of ``sum``.

    Returns:
        An ``optax.GradientTransformation``.
    """
    check_number("initial_accumulator_value", initial_accumulator_value)
    check_nonnegative(initial_accumulator_value, "Invalid initial_accumulator_value value")
    check_number("eps", eps)
    check_nonnegative(eps, "Invalid epsilon value")

    def init_fn(params: optax.Params) -> ScaleByAdagradState:
        return ScaleByAdagradState(sum=optax.tree.full_like(params,
                                                            initial_accumulator_value))

    def update_fn(updates: optax.Updates, state: ScaleByAdagradState,
                  params: optax.Params | None = None) -> tuple[Any, ScaleByAdagradState]:
        del params
        total = jax.tree.map(lambda g, s: s + g * g, updates, state.sum)
        updates = jax.tree.map(lambda g, s: g / (jnp.sqrt(s) + eps), updates, total)
        return updates, ScaleByAdagradState(sum=total)

    return optax.GradientTransformation(init_fn, update_fn)


# ---------------------------------------------------------------- AMSGrad


class ScaleByAmsgradState(NamedTuple):
    """State of :func:`scale_by_amsgrad`, named as PyTorch's ``optimizer.state[p]``.

    Attributes:
        step: number of updates taken.
        exp_avg: first moment.
        exp_avg_sq: second moment.
        max_exp_avg_sq: elementwise maximum of every ``exp_avg_sq`` so far.
    """

    step: jax.Array
    exp_avg: optax.Updates
    exp_avg_sq: optax.Updates
    max_exp_avg_sq: optax.Updates


def neg_log(beta: Any) -> Any:
    """``-log(beta)``, in float64 for a Python number (as torch's scalar arithmetic)."""
    if isinstance(beta, (int, float)):
        return -math.log(beta) if beta > 0 else math.inf
    return -jnp.log(beta)


def one_minus_power(beta: Any, step: jax.Array) -> jax.Array:
    """``1 - beta**step``, Adam's bias corrections, to float32 rounding.

    torch computes them from Python floats, in float64. In float32 ``beta = 0.999``
    itself rounds by 1.3e-8, which ``1 - beta**t`` magnifies to about 1e-5 relative for
    the first thousands of steps; ``-expm1(t log(beta))``, with the logarithm taken in
    float64, is exact to the rounding of the default float (float32, float64 in x64
    mode).
    """
    # float32, or float64 where JAX's x64 mode makes it the default float
    out: jax.Array = -jnp.expm1(step.astype(jnp.result_type(float)) * -neg_log(beta))
    return out


def rounded(fn: Any, x: jax.Array, *others: Any) -> jax.Array:
    """``fn(x, *others)`` computed in float32 and rounded once to ``x``'s dtype.

    PyTorch's CPU kernels compute a float16/bfloat16 tensor's op in float32 and round
    its result once; the same expression in half precision would round after every
    operation. For float32 and float64 arrays this is ``fn`` itself.
    """
    wide = [widened(a) if hasattr(a, "dtype") else a for a in (x, *others)]
    out: jax.Array = fn(*wide).astype(x.dtype)
    return out


def lerp(start: jax.Array, end: jax.Array, weight: Any) -> jax.Array:
    """``start + weight * (end - start)`` as PyTorch's ``lerp`` rounds it: from ``end``
    (``end - (end - start) * (1 - weight)``) once ``|weight| >= 0.5``, so that a weight
    near 1 lands on ``end`` exactly.

    Args:
        start: the array at weight 0.
        end: the array at weight 1 (broadcast with ``start``).
        weight: a Python number, or an array broadcast with them.

    Returns:
        The interpolated array.

    PyTorch equivalent: ``torch.lerp``.
    """
    if isinstance(weight, (int, float)):
        if abs(weight) < 0.5:
            return start + weight * (end - start)
        # 1 - weight in the tensor's float type (float32 for a float32 tensor), as torch
        complement = 1 - jnp.asarray(weight, jnp.promote_types(start.dtype, jnp.float32))
        return end - (end - start) * complement
    small = start + weight * (end - start)
    out: jax.Array = jnp.where(jnp.abs(weight) < 0.5, small, end - (end - start) * (1 - weight))
    return out


def adam_moments(updates: optax.Updates, exp_avg: optax.Updates, exp_avg_sq: optax.Updates,
                 b1: Any, b2: Any) -> tuple[optax.Updates, optax.Updates]:
    """Adam's moments as torch updates them, op by op: ``exp_avg.lerp_(g, 1 - b1)``,
    ``exp_avg_sq.mul_(b2).addcmul_(g, g, value=1 - b2)``."""
    exp_avg = jax.tree.map(lambda m, g: rounded(lambda m, g: lerp(m, g, 1 - b1), m, g),
                           exp_avg, updates)
    exp_avg_sq = jax.tree.map(
        lambda v, g: rounded(lambda v, g: v + (1 - b2) * g * g,
                             rounded(lambda v: v * b2, v), g), exp_avg_sq, updates)
    return exp_avg, exp_avg_sq


def adam_direction(exp_avg: optax.Updates, exp_avg_sq: optax.Updates, step: jax.Array,
                   b1: Any, b2: Any, eps: Any) -> optax.Updates:
    """``m / (1 - b1**t) / (sqrt(v) / sqrt(1 - b2**t) + eps)``, torch's Adam step before
    the learning rate: the denominator rounded as torch's ``exp_avg_sq.sqrt() /
    bias_correction2_sqrt).add_(eps)`` rounds it, the quotient in float32 (torch's
    ``addcdiv_`` adds it to the parameter before rounding)."""
    correction1 = one_minus_power(b1, step)
    correction2_sqrt = jnp.sqrt(one_minus_power(b2, step))

    def direction(m: jax.Array, v: jax.Array) -> jax.Array:
        denom = rounded(lambda d: d + eps,
                        rounded(lambda r: r / correction2_sqrt, rounded(jnp.sqrt, v)))
        out: jax.Array = (widened(m) / correction1) / widened(denom)
        return out

    return jax.tree.map(direction, exp_avg, exp_avg_sq)


def _check_betas_eps(b1: Any, b2: Any, eps: Any) -> None:
    """PyTorch's checks of Adam's ``betas`` and ``eps``, with its messages."""
    for index, (name, beta) in enumerate((("b1", b1), ("b2", b2))):
        check_number(name, beta)
        check_below_one(beta, f"Invalid beta parameter at index {index}")
    check_number("eps", eps)
    check_nonnegative(eps, "Invalid epsilon value")


def scale_by_adam(b1: float = 0.9, b2: float = 0.999,
                  eps: float = 1e-8) -> optax.GradientTransformation:
    """Adam's direction as ``torch.optim.Adam`` computes it, in ``optax.scale_by_adam``'s
    state (``count``, ``mu``, ``nu``).

    optax's own computes the same formula (with ``eps_root=0``) but its bias corrections
    in float32 (see :func:`one_minus_power`), about 1e-5 relative from torch's steps.

    Args:
        b1: decay of the first moment (PyTorch's ``betas[0]``).
        b2: decay of the second moment (``betas[1]``).
        eps: added to the denominator, outside the square root and after the bias
            correction.

    Returns:
        An ``optax.GradientTransformation``.
    """
    _check_betas_eps(b1, b2, eps)

    def init_fn(params: optax.Params) -> optax.ScaleByAdamState:
        zeros = optax.tree.zeros_like
        return optax.ScaleByAdamState(count=jnp.zeros([], jnp.int32), mu=zeros(params),
                                      nu=zeros(params))

    def update_fn(updates: optax.Updates, state: optax.ScaleByAdamState,
                  params: optax.Params | None = None) -> tuple[Any, optax.ScaleByAdamState]:
        del params
        mu, nu = adam_moments(updates, state.mu, state.nu, b1, b2)
        count = optax.safe_increment(state.count)
        return (adam_direction(mu, nu, count, b1, b2, eps),
                optax.ScaleByAdamState(count=count, mu=mu, nu=nu))

    return optax.GradientTransformation(init_fn, update_fn)


def scale_by_amsgrad(b1: float = 0.9, b2: float = 0.999,
                     eps: float = 1e-8) -> optax.GradientTransformation:
    """Adam's AMSGrad variant as ``torch.optim.Adam(amsgrad=True)`` computes it.

    PyTorch keeps the maximum of the raw second moments and bias-corrects it
    afterwards: ``max_v = max(max_v, v)``, update ``m_hat / (sqrt(max_v) /
    sqrt(1 - b2**t) + eps)``. ``optax.scale_by_amsgrad`` takes the maximum of the
    bias-corrected moments instead, a different (smaller) denominator.

    Args:
        b1: decay of the first moment.
        b2: decay of the second moment.
        eps: added to the denominator.

    Returns:
        An ``optax.GradientTransformation``.
    """
    _check_betas_eps(b1, b2, eps)

    def init_fn(params: optax.Params) -> ScaleByAmsgradState:
        # three buffers, not one shared: fnnet.torch donates each state leaf to its step
        zeros = optax.tree.zeros_like
        return ScaleByAmsgradState(step=jnp.zeros([], jnp.int32), exp_avg=zeros(params),
                                   exp_avg_sq=zeros(params), max_exp_avg_sq=zeros(params))

    def update_fn(updates: optax.Updates, state: ScaleByAmsgradState,
                  params: optax.Params | None = None) -> tuple[Any, ScaleByAmsgradState]:
        del params
        exp_avg, exp_avg_sq = adam_moments(updates, state.exp_avg, state.exp_avg_sq, b1, b2)
        step = optax.safe_increment(state.step)
        max_exp_avg_sq = jax.tree.map(jnp.maximum, state.max_exp_avg_sq, exp_avg_sq)
        return (adam_direction(exp_avg, max_exp_avg_sq, step, b1, b2, eps),
                ScaleByAmsgradState(step=step, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq,
                                    max_exp_avg_sq=max_exp_avg_sq))

    return optax.GradientTransformation(init_fn, update_fn)


__all__ = [
    "MomentumState",
    "ScaleByAdagradState",
    "ScaleByAmsgradState",
    "momentum_buffer",
    "scale_by_adagrad",
    "scale_by_adam",
    "scale_by_amsgrad",
]
