"""Adafactor, as ``torch.optim.Adafactor`` computes it."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.optim._build import build, negate
from fnnet.optim._validate import (
    check_flag,
    check_implementation_flags,
    check_nonnegative,
    check_number,
)
from fnnet.optim.transforms import lerp

#: the state a parameter does not use: a vector's factors, a matrix's full variance
UNUSED = (0,)


class AdafactorState(NamedTuple):
    """State of :func:`scale_by_adafactor`, named as PyTorch's ``optimizer.state[p]``.

    A parameter of two or more dimensions keeps the factors of its gradients' second
    moment over its last two dimensions (``row_var``: the last one reduced to 1,
    ``col_var``: the one before); a vector or scalar keeps the whole ``variance``. The
    state a parameter does not use is an empty array (shape ``(0,)``).

    Attributes:
        row_var: moving average of the squared gradients' means over the last dimension.
        col_var: ... over the second last dimension.
        variance: moving average of the squared gradients (vectors and scalars).
        step: updates taken.
    """

    row_var: optax.Updates
    col_var: optax.Updates
    variance: optax.Updates
    step: jax.Array


def _factored(leaf: Any) -> bool:
    return bool(jnp.ndim(leaf) > 1)


def _norm_squared(g: jax.Array, axis: int) -> jax.Array:
    """``norm(g, dim=axis, keepdim=True) ** 2``: the square root taken and squared again,
    as PyTorch computes the mean of squares without forming them."""
    return jnp.square(jnp.sqrt(jnp.sum(jnp.square(g), axis=axis, keepdims=True)))


def _rms(x: jax.Array) -> jax.Array:
    """``norm(x) / sqrt(numel)``."""
    return jnp.sqrt(jnp.sum(jnp.square(x))) / jnp.sqrt(jnp.float32(x.size))


def scale_by_adafactor(lr: float | optax.Schedule = 1e-2, beta2_decay: float = -0.8,
                       eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0
                       ) -> optax.GradientTransformation:
    """Adafactor's whole update, learning rate included (it sets the step's size):
    ``-max(eps2, rms(param)) * min(lr, t**-0.5) / max(1, rms(u) / d) * u`` with ``u``
    the gradient over the square root of its estimated second moment (see
    :func:`Adafactor`).

    Args:
        lr, beta2_decay, eps, d: as :func:`Adafactor`'s (unchecked here).

    Returns:
        An ``optax.GradientTransformation`` whose state is an :class:`AdafactorState`;
        its ``update`` needs the parameters.

    Raises:
        RuntimeError: at ``init``, a complex parameter.
        ValueError: ``update`` without the parameters.
    """
    eps1, eps2 = eps

    def init_fn(params: optax.Params) -> AdafactorState:
        def row(p: jax.Array) -> jax.Array:
            return jnp.zeros((*p.shape[:-1], 1), p.dtype) if _factored(p) else \
                jnp.zeros(UNUSED, p.dtype)

        def column(p: jax.Array) -> jax.Array:
            return jnp.zeros((*p.shape[:-2], 1, p.shape[-1]), p.dtype) if _factored(p) \
                else jnp.zeros(UNUSED, p.dtype)

        def whole(p: jax.Array) -> jax.Array:
            return jnp.zeros(UNUSED, p.dtype) if _factored(p) else jnp.zeros_like(p)

        for leaf in jax.tree.leaves(params):
            if jnp.iscomplexobj(leaf):
                raise RuntimeError("Adafactor does not support complex parameters")
        return AdafactorState(jax.tree.map(row, params), jax.tree.map(column, params),
                              jax.tree.map(whole, params), jnp.zeros([], jnp.int32))

    def update_fn(updates: optax.Updates, state: AdafactorState,
                  params: optax.Params | None = None) -> tuple[Any, AdafactorState]:
        if params is None:
            raise ValueError("Adafactor needs the parameters: update(grads, state, params)")
        rate = lr(state.step) if callable(lr) else lr
        step = optax.safe_increment(state.step)
        t = step.astype(jnp.float32)
        weight = t ** beta2_decay
        size = jnp.minimum(rate, jax.lax.rsqrt(t))

        def one(g: jax.Array, p: jax.Array, row: jax.Array, column: jax.Array,
                variance: jax.Array) -> tuple[jax.Array, ...]:
            floor = jnp.finfo(p.dtype).eps if eps1 is None else eps1
            alpha = jnp.maximum(eps2, _rms(p)) * size
            if _factored(g):
                row = lerp(row, _norm_squared(g, -1) / g.shape[-1], weight)
                column = lerp(column, _norm_squared(g, -2) / g.shape[-2], weight)
                estimate = (row @ column) / jnp.maximum(jnp.mean(row, axis=-2, keepdims=True),
                                                        floor)
            else:
                variance = lerp(variance, g * g, weight)
                estimate = variance
            u = jax.lax.rsqrt(jnp.maximum(estimate, floor * floor)) * g
            denom = jnp.maximum(1.0, _rms(u) / d)
            return -(alpha / denom) * u, row, column, variance

        out = jax.tree.map(one, updates, params, state.row_var, state.col_var, state.variance)
        pick = [jax.tree.map(lambda _, o, i=i: o[i], updates, out) for i in range(4)]
        return pick[0], AdafactorState(pick[1], pick[2], pick[3], step)

    return optax.GradientTransformation(init_fn, update_fn)


def decay_by_lr(lr: float | optax.Schedule, weight_decay: Any
                ) -> optax.GradientTransformation | None:
    """Adds ``-lr * weight_decay * param``: PyTorch's ``param.mul_(1 - lr * wd)`` before
    an update that sets its own size.

    Args:
        lr: the learning rate, a float or an optax schedule (of the step count).
        weight_decay: the decay's factor.

    Returns:
        An ``optax.GradientTransformation`` (its ``update`` needs the parameters), or
        None when ``weight_decay`` is a Python 0.
    """
    if isinstance(weight_decay, (int, float)) and weight_decay == 0:
        return None

    def update_fn(updates: optax.Updates, state: optax.ScaleByScheduleState,
                  params: optax.Params | None = None) -> tuple[Any, Any]:
        rate = lr(state.count) if callable(lr) else lr
        out = jax.tree.map(lambda u, p: u - rate * weight_decay * p, updates, params)
        return out, optax.ScaleByScheduleState(optax.safe_increment(state.count))

    return optax.GradientTransformation(
        lambda params: optax.ScaleByScheduleState(jnp.zeros([], jnp.int32)), update_fn)


def Adafactor(lr: float | optax.Schedule = 1e-2, beta2_decay: float = -0.8,
              eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
              weight_decay: Any = 0.0, *, foreach: bool | None = None, maximize: bool = False
              ) -> optax.GradientTransformationExtraArgs:
    """Adafactor exactly as ``torch.optim.Adafactor`` updates a parameter.

    At step ``t`` with gradient ``g`` (``-g`` if ``maximize``), ``w = t**beta2_decay``::

        row_var = lerp(row_var, mean(g**2, dim=-1), w)      (two or more dimensions)
        col_var = lerp(col_var, mean(g**2, dim=-2), w)
        v = row_var @ col_var / max(mean(row_var, dim=-2), eps1)
        variance = lerp(variance, g**2, w); v = variance    (vectors and scalars)
        u = g / sqrt(max(v, eps1**2))
        param = param * (1 - lr * weight_decay)
              - max(eps2, rms(param)) * min(lr, t**-0.5) / max(1, rms(u) / d) * u

    with ``rms(x) = norm(x) / sqrt(numel)`` (of the parameter before the decay).

    Args:
        lr: learning rate, a float or an optax schedule: the step's size is at most this.
        beta2_decay: the exponent of the second moment's weight ``t**beta2_decay``.
        eps: ``(eps1, eps2)``: the floor of the second moment (None: the parameter's
            dtype's machine epsilon) and of the parameter's RMS.
        d: the update's RMS above which it is scaled down.
        weight_decay: decoupled weight decay, scaled by ``lr``.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        maximize: maximise the objective instead of minimising it.

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["adafactor"]`` holds ``row_var``,
        ``col_var``, ``variance`` and ``step``. Its ``update`` needs the parameters.

    Raises:
        ValueError: PyTorch's checks, e.g. ``beta2_decay should be <= 0 but is: 0.5``.

    PyTorch equivalent: ``torch.optim.Adafactor``.
    """
    check_implementation_flags(foreach=foreach)
    check_number("lr", lr, schedule_ok=True)
    check_nonnegative(lr, "Learning rate should be >= 0 but is")
    for name, value in (("beta2_decay", beta2_decay), ("d", d), ("weight_decay", weight_decay)):
        check_number(name, value)
    if not beta2_decay <= 0.0:
        raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
    if not isinstance(eps, (tuple, list)) or len(eps) != 2:
        raise TypeError(f"eps must be a pair (eps1 or None, eps2), got {eps!r}")
    if eps[0] is not None:
        check_number("eps[0]", eps[0])
        check_nonnegative(eps[0], "epsilon1 should be >= 0 but is")
    check_number("eps[1]", eps[1])
    check_nonnegative(eps[1], "epsilon2 should be >= 0 but is")
    if not 1.0 <= d:
        raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
    check_nonnegative(weight_decay, "weight_decay should be >= 0 but is")
    return build(
        ("maximize", negate(check_flag("maximize", maximize))),
        ("adafactor", scale_by_adafactor(lr, beta2_decay, (eps[0], eps[1]), d)),
        ("decoupled_weight_decay", decay_by_lr(lr, weight_decay)),
    )
