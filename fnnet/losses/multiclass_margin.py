"""Multi-class and multi-label hinge losses: ``multi_margin_loss`` and
``multilabel_margin_loss``, PyTorch's definitions."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fnnet.losses._checks import reduce
from fnnet.typing import Array


def multi_margin_loss(x: Array, target: Array, p: int = 1, margin: float = 1.0,
                      weight: Array | None = None, reduction: str = "mean") -> Array:
    """``sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C`` per sample: the
    multi-class hinge loss (the weight multiplies each term after the power, as PyTorch).

    Args:
        x: ``[N, C]`` scores (or ``[C]``).
        target: ``[N]`` class indices (or a scalar).
        p: 1 or 2.
        margin: the margin.
        weight: ``[C]`` per-class weights of the target class, or None.
        reduction: ``'mean'`` over the samples, ``'sum'`` or ``'none'``.

    Returns:
        A scalar, or ``[N]`` (a scalar for 1-D ``x``) with ``'none'``.

    PyTorch equivalent: ``torch.nn.functional.multi_margin_loss``.
    """
    classes = x.shape[-1]
    target = target.astype(jnp.int32)
    picked = jnp.take_along_axis(x, target[..., None], axis=-1)
    # only terms above zero count, as in PyTorch's kernel: no gradient at the hinge
    z = margin - picked + x
    terms = jnp.where(z > 0, z, 0) ** p
    if weight is not None:
        terms = terms * weight[target][..., None]
    others = jnp.arange(classes) != target[..., None]
    loss = jnp.sum(jnp.where(others, terms, 0), axis=-1) / classes
    return reduce(loss, reduction)


def multilabel_margin_loss(x: Array, target: Array, reduction: str = "mean") -> Array:
    """``sum_{j, i} max(0, 1 - (x_{y_j} - x_i)) / C`` over the target classes ``y_j`` (the
    entries of ``target`` before its first -1) and the other classes ``i``.

    Args:
        x: ``[N, C]`` scores (or ``[C]``).
        target: ``[N, C]`` class indices padded with -1 (or ``[C]``).
        reduction: ``'mean'`` over the samples, ``'sum'`` or ``'none'``.

    Returns:
        A scalar, or ``[N]`` (a scalar for 1-D ``x``) with ``'none'``.

    PyTorch equivalent: ``torch.nn.functional.multilabel_margin_loss``.
    """
    classes = x.shape[-1]
    target = target.astype(jnp.int32)
    listed = jnp.cumprod(target >= 0, axis=-1).astype(bool)  # up to the first -1
    index = jnp.where(listed, target, 0)
    is_target = jnp.any(jax.nn.one_hot(index, classes, dtype=bool) & listed[..., None],
                        axis=-2)
    picked = jnp.take_along_axis(x, index, axis=-1)
    z = 1 - picked[..., :, None] + x[..., None, :]
    terms = jnp.where(z > 0, z, 0)  # above zero only, as PyTorch's kernel counts them
    counted = listed[..., :, None] & ~is_target[..., None, :]
    loss = jnp.sum(jnp.where(counted, terms, 0), axis=(-2, -1)) / classes
    return reduce(loss, reduction)
