"""The optax pieces that PyTorch's update rules need and optax lacks.

Each is an optax ``GradientTransformation`` in optax's own style (a ``NamedTuple``
state, ``init_fn`` and ``update_fn``); state fields carry the names PyTorch gives them
in ``optimizer.state[p]`` so that a user can find them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

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

    def init_fn(params: optax.Params) -> ScaleByAmsgradState:
        # three buffers, not one shared: fnnet.torch donates each state leaf to its step
        zeros = optax.tree.zeros_like
        return ScaleByAmsgradState(step=jnp.zeros([], jnp.int32), exp_avg=zeros(params),
                                   exp_avg_sq=zeros(params), max_exp_avg_sq=zeros(params))

    def update_fn(updates: optax.Updates, state: ScaleByAmsgradState,
                  params: optax.Params | None = None) -> tuple[Any, ScaleByAmsgradState]:
        del params
        exp_avg = optax.tree.update_moment(updates, state.exp_avg, b1, 1)
        exp_avg_sq = optax.tree.update_moment_per_elem_norm(updates, state.exp_avg_sq, b2, 2)
        step = optax.safe_increment(state.step)
        max_exp_avg_sq = jax.tree.map(jnp.maximum, state.max_exp_avg_sq, exp_avg_sq)
        bias_correction1 = 1 - b1**step
        bias_correction2_sqrt = jnp.sqrt(1 - b2**step)
        updates = jax.tree.map(
            lambda m, v: (m / bias_correction1) / (jnp.sqrt(v) / bias_correction2_sqrt + eps),
            exp_avg, max_exp_avg_sq)
        return updates, ScaleByAmsgradState(step=step, exp_avg=exp_avg,
                                            exp_avg_sq=exp_avg_sq,
                                            max_exp_avg_sq=max_exp_avg_sq)

    return optax.GradientTransformation(init_fn, update_fn)


__all__ = [
    "MomentumState",
    "ScaleByAdagradState",
    "ScaleByAmsgradState",
    "momentum_buffer",
    "scale_by_adagrad",
    "scale_by_amsgrad",
]
