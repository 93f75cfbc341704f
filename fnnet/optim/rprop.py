"""Rprop, as ``torch.optim.Rprop`` updates a parameter."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from fnnet.optim._build import build, negate
from fnnet.optim._validate import check_flag, check_implementation_flags, check_lr, concrete


class RpropState(NamedTuple):
    """State of :func:`scale_by_rprop`, named as PyTorch's ``optimizer.state[p]``.

    Attributes:
        prev: the previous step's gradient (0 where its sign flipped).
        step_size: each element's step size.
        step: updates taken.
    """

    prev: optax.Updates
    step_size: optax.Updates
    step: jax.Array


def scale_by_rprop(lr: Any, etas: tuple[float, float], step_sizes: tuple[float, float]
                   ) -> optax.GradientTransformation:
    """``-sign(g) * step_size``, the step size of an element multiplied by ``etaplus``
    while its gradient keeps its sign and by ``etaminus`` when it flips (that step's
    gradient then counts as 0), within ``step_sizes``; the step sizes start at ``lr``."""
    etaminus, etaplus = etas
    low, high = step_sizes

    def init_fn(params: optax.Params) -> RpropState:
        first = lr(0) if callable(lr) else lr
        return RpropState(optax.tree.zeros_like(params),
                          jax.tree.map(lambda p: jnp.full_like(p, first), params),
                          jnp.zeros([], jnp.int32))

    def update_fn(updates: optax.Updates, state: RpropState,
                  params: optax.Params | None = None) -> tuple[Any, RpropState]:
        del params

        def factor(g: jax.Array, prev: jax.Array) -> jax.Array:
            agree = jnp.sign(g * prev)
            return jnp.where(agree > 0, etaplus, jnp.where(agree < 0, etaminus, 1.0)
                             ).astype(g.dtype)

        factors = jax.tree.map(factor, updates, state.prev)
        size = jax.tree.map(lambda s, f: jnp.clip(s * f, low, high), state.step_size, factors)
        # a flipped sign's gradient counts as 0 (PyTorch tests the factor, as here)
        prev = jax.tree.map(lambda g, f: jnp.where(f == etaminus, 0, g), updates, factors)
        out = jax.tree.map(lambda g, s: -jnp.sign(g) * s, prev, size)
        return out, RpropState(prev, size, optax.safe_increment(state.step))

    return optax.GradientTransformation(init_fn, update_fn)


def Rprop(lr: float | optax.Schedule = 1e-2, etas: tuple[float, float] = (0.5, 1.2),  # noqa: N802
          step_sizes: tuple[float, float] = (1e-6, 50), *, maximize: bool = False,
          foreach: bool | None = None, capturable: bool = False, differentiable: bool = False
          ) -> optax.GradientTransformationExtraArgs:
    """Rprop exactly as ``torch.optim.Rprop`` updates a parameter::

        factor = etaplus if g * prev > 0 else etaminus if g * prev < 0 else 1
        step_size = clamp(step_size * factor, *step_sizes)
        g = 0 where factor == etaminus
        param = param - sign(g) * step_size;  prev = g

    Args:
        lr: the initial step size (PyTorch's default 1e-2); later changes do nothing, as
            in PyTorch.
        etas: ``(etaminus, etaplus)``, ``0 < etaminus < 1 < etaplus``.
        step_sizes: the step sizes' ``(minimum, maximum)``.
        maximize: maximise the objective instead of minimising it.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        capturable: PyTorch's CUDA-graph option; checked, without effect.
        differentiable: PyTorch's autograd through the step; checked, without
            effect (``jax.grad`` differentiates fnnet's update either way).

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["rprop"]`` holds ``prev``,
        ``step_size`` and ``step``.

    PyTorch equivalent: ``torch.optim.Rprop``.
    """
    check_implementation_flags(foreach=foreach, capturable=capturable,
                               differentiable=differentiable)
    check_lr(lr)
    etaminus, etaplus = (float(e) if concrete(e) is not None else e for e in etas)
    if not 0.0 < etaminus < 1.0 < etaplus:
        raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
    low, high = step_sizes
    return build(
        ("maximize", negate(check_flag("maximize", maximize))),
        ("rprop", scale_by_rprop(lr, (etaminus, etaplus), (low, high))),
    )
