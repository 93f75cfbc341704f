"""SparseAdam, as ``torch.optim.SparseAdam`` updates the rows a gradient touches."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.optim._adam_family import check_betas
from fnnet.optim._build import build, negate
from fnnet.optim._validate import check_flag, check_number, check_positive
from fnnet.optim.transforms import one_minus_power


class SparseAdamState(NamedTuple):
    """State of :func:`scale_by_sparse_adam`, named as PyTorch's ``optimizer.state[p]``.

    Attributes:
        exp_avg: first moment (rows never touched stay 0).
        exp_avg_sq: second moment.
        step: updates taken (every step counts, whichever rows it touched).
    """

    exp_avg: optax.Updates
    exp_avg_sq: optax.Updates
    step: jax.Array


def _touched(grad: jax.Array) -> jax.Array:
    """Where the sparse gradient PyTorch would hold has entries: the rows (along the
    first dimension) with a nonzero value, broadcast to ``grad``'s shape."""
    if grad.ndim == 0:
        return grad != 0
    rows = jnp.any(grad != 0, axis=tuple(range(1, grad.ndim)), keepdims=True)
    return jnp.broadcast_to(rows, grad.shape)


def scale_by_sparse_adam(b1: Any = 0.9, b2: Any = 0.999, eps: Any = 1e-8
                         ) -> optax.GradientTransformation:
    """Adam's step on the touched rows only (a lazy Adam): their moments decay and move
    toward the gradient, every other row keeps its moments and gets no update.

    The update is ``m / (sqrt(v) + eps) * sqrt(1 - b2**t) / (1 - b1**t)``: torch's
    SparseAdam adds ``eps`` before the bias correction of ``v``, where Adam adds it after.
    """

    def init_fn(params: optax.Params) -> SparseAdamState:
        return SparseAdamState(optax.tree.zeros_like(params), optax.tree.zeros_like(params),
                               jnp.zeros([], jnp.int32))

    def update_fn(updates: optax.Updates, state: SparseAdamState,
                  params: optax.Params | None = None) -> tuple[Any, SparseAdamState]:
        del params
        step = optax.safe_increment(state.step)
        touched = jax.tree.map(_touched, updates)
        exp_avg = jax.tree.map(lambda m, g, t: jnp.where(t, m + (g - m) * (1 - b1), m),
                               state.exp_avg, updates, touched)
        exp_avg_sq = jax.tree.map(lambda v, g, t: jnp.where(t, v + (g * g - v) * (1 - b2), v),
                                  state.exp_avg_sq, updates, touched)
        scale = jnp.sqrt(one_minus_power(b2, step)) / one_minus_power(b1, step)
        out = jax.tree.map(lambda m, v, t: jnp.where(t, m / (jnp.sqrt(v) + eps) * scale, 0),
                           exp_avg, exp_avg_sq, touched)
        return out, SparseAdamState(exp_avg, exp_avg_sq, step)

    return optax.GradientTransformation(init_fn, update_fn)


def SparseAdam(lr: float | optax.Schedule = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
               eps: Any = 1e-8, *, maximize: bool = False
               ) -> optax.GradientTransformationExtraArgs:
    """SparseAdam exactly as ``torch.optim.SparseAdam`` updates a parameter whose
    gradient is sparse (an ``Embedding(sparse=True)`` table): the rows the gradient
    touches (here: its rows holding a nonzero value) take Adam's step, at step ``t``::

        m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g**2   (touched rows)
        param = param - lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)

    and the other rows keep their values and moments.

    Args:
        lr: learning rate (> 0), a float or an optax schedule.
        betas: ``(b1, b2)``, each in [0, 1).
        eps: added to ``sqrt(v)`` (> 0).
        maximize: maximise the objective instead of minimising it.

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["sparse_adam"]`` holds
        ``exp_avg``, ``exp_avg_sq`` and ``step``.

    Raises:
        ValueError: PyTorch's checks, e.g. ``Invalid learning rate: 0.0``.
        TypeError: a non-number hyperparameter or malformed betas.

    PyTorch equivalent: ``torch.optim.SparseAdam``.
    """
    check_number("lr", lr, schedule_ok=True)
    check_positive(lr, "Invalid learning rate")
    check_number("eps", eps)
    check_positive(eps, "Invalid epsilon value")
    b1, b2 = check_betas(betas)
    return build(
        ("maximize", negate(check_flag("maximize", maximize))),
        ("sparse_adam", scale_by_sparse_adam(b1, b2, eps)),
        ("lr", optax.scale_by_learning_rate(lr)),
    )
