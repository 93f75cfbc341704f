"""Margin losses on scores and embeddings: ranking pairs, hinge and soft-margin
classification with ±1 targets, multi-label soft margin, cosine-embedding pairs and
triplets."""

from __future__ import annotations

from numbers import Real
from typing import Any

import jax
import jax.numpy as jnp

from fnnet.losses._checks import as_array, check_floating, check_reduction, reduce
from fnnet.nn.functional.distance import pairwise_distance
from fnnet.typing import Array


def hinge(z: Array) -> Array:
    """``max(z, 0)`` with PyTorch's ``clamp_min(0)`` gradient: 1 where ``z >= 0``, also
    at the hinge itself (``jnp.maximum``'s is a half there: a pair scored equally, or a
    triplet at the margin); a NaN stays NaN.

    Args:
        z: any shape.

    Returns:
        An array of ``z``'s shape and dtype.
    """
    return jnp.where(z < 0, 0, z)


def _floats(loss: str, reduction: Any, **arrays: Any) -> list[Array]:
    """The arrays, checked floating-point; an integer ``target`` (±1 or 0/1 labels, as
    PyTorch takes them) is cast to the first input's dtype, as PyTorch promotes it."""
    check_reduction(loss, reduction)
    out: list[Array] = []
    for name, value in arrays.items():
        array = as_array(loss, name, value)
        if name == "target" and out and jnp.issubdtype(array.dtype, jnp.integer):
            array = array.astype(out[0].dtype)
        check_floating(loss, name, array)
        out.append(array)
    return out


def margin_ranking_loss(input1: Array, input2: Array, target: Array, margin: float = 0.0,
                        reduction: str = "mean") -> Array:
    """``max(0, -target * (input1 - input2) + margin)``: ``target`` 1 asks for
    ``input1`` to rank higher, -1 for ``input2``.

    Args:
        input1: ``[N]`` or a scalar.
        input2: the same shape as ``input1``.
        target: the same shape, ±1.
        margin: the required gap.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    PyTorch equivalent: ``torch.nn.functional.margin_ranking_loss``.
    """
    x1, x2, t = _floats("margin_ranking_loss", reduction, input1=input1, input2=input2,
                        target=target)
    return reduce(hinge(-t * (x1 - x2) + margin), reduction)


def hinge_embedding_loss(input: Array, target: Array, margin: float = 1.0,
                         reduction: str = "mean") -> Array:
    """``input`` where ``target`` is 1, ``max(0, margin - input)`` where it is -1.

    PyTorch equivalent: ``torch.nn.functional.hinge_embedding_loss``.
    """
    x, t = _floats("hinge_embedding_loss", reduction, input=input, target=target)
    zero = jnp.zeros((), x.dtype)
    # PyTorch sums both terms, so a target other than ±1 gets both
    losses = jnp.where(t != 1, hinge(margin - x), zero) + \
        jnp.where(t != -1, x, zero)
    return reduce(losses, reduction)


def soft_margin_loss(input: Array, target: Array, reduction: str = "mean") -> Array:
    """``log(1 + exp(-target * input))``, the logistic loss of ±1 targets.

    PyTorch equivalent: ``torch.nn.functional.soft_margin_loss``.
    """
    x, t = _floats("soft_margin_loss", reduction, input=input, target=target)
    return reduce(jnp.logaddexp(0.0, -t * x), reduction)


def multilabel_soft_margin_loss(input: Array, target: Array, weight: Array | None = None,
                                reduction: str = "mean") -> Array:
    """The logistic loss of each class's 0/1 target, averaged over the classes:
    ``-mean_c(w_c * (t * log_sigmoid(x) + (1 - t) * log_sigmoid(-x)))`` per sample.

    Args:
        input: ``[N, C]`` (or ``[C]``) scores.
        target: the same shape, 0 or 1 per class.
        weight: ``[C]`` class weights, or None.
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (``[N]``) over the samples.

    PyTorch equivalent: ``torch.nn.functional.multilabel_soft_margin_loss``.
    """
    x, t = _floats("multilabel_soft_margin_loss", reduction, input=input, target=target)
    losses = -(t * jax.nn.log_sigmoid(x) + (1 - t) * jax.nn.log_sigmoid(-x))
    if weight is not None:
        losses = losses * as_array("multilabel_soft_margin_loss", "weight", weight)
    return reduce(losses.sum(axis=-1) / x.shape[-1], reduction)


def cosine_embedding_loss(input1: Array, input2: Array, target: Array, margin: float = 0.0,
                          reduction: str = "mean") -> Array:
    """``1 - cos(input1, input2)`` where ``target`` is 1, ``max(0, cos - margin)`` where
    it is -1; the cosine over the last dimension.

    Args:
        input1: ``[N, D]`` or ``[D]``.
        input2: the same shape as ``input1``.
        target: ``[N]`` or a scalar, ±1.

    PyTorch equivalent: ``torch.nn.functional.cosine_embedding_loss``.
    """
    x1, x2, t = _floats("cosine_embedding_loss", reduction, input1=input1, input2=input2,
                        target=target)
    eps = 1e-12  # PyTorch adds it to each squared magnitude
    dot = jnp.sum(x1 * x2, axis=-1)
    cos = dot / jnp.sqrt((jnp.sum(x1 * x1, axis=-1) + eps) * (jnp.sum(x2 * x2, axis=-1) + eps))
    zero = jnp.zeros((), cos.dtype)
    losses = jnp.where(t == 1, 1 - cos, zero) + \
        jnp.where(t == -1, hinge(cos - margin), zero)
    return reduce(losses, reduction)


def _check_margin(loss: str, margin: Any) -> None:
    """Raises PyTorch's ValueError for a triplet margin that is not > 0 (and a TypeError
    for one that is not a real number)."""
    if isinstance(margin, bool) or not isinstance(margin, Real):
        raise TypeError(f"{loss}: margin must be a number, got {type(margin).__name__}")
    if not float(margin) > 0:
        raise ValueError(f"{loss}: margin must be greater than 0, got {margin}")


def triplet_margin_loss(anchor: Array, positive: Array, negative: Array,
                        margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                        swap: bool = False, reduction: str = "mean") -> Array:
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with ``d`` the
    ``p``-norm distance over the last dimension; ``swap`` uses the smaller of
    ``d(anchor, negative)`` and ``d(positive, negative)``.

    PyTorch equivalent: ``torch.nn.functional.triplet_margin_loss``.
    """
    _check_margin("triplet_margin_loss", margin)
    a, pos, neg = _floats("triplet_margin_loss", reduction, anchor=anchor, positive=positive,
                          negative=negative)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = jnp.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return triplet_margin_from_distances(d_pos, d_neg, margin, reduction)


def triplet_margin_from_distances(positive_distance: Array, negative_distance: Array,
                                  margin: float = 1.0, reduction: str = "mean") -> Array:
    """``max(0, margin + positive_distance - negative_distance)``: the triplet loss of
    distances computed beforehand, by any distance function.

    Args:
        positive_distance: ``[N]`` (or any shape): the anchors' distances to their
            positives.
        negative_distance: the same shape: their distances to their negatives (the
            smaller of anchor's and positive's, for the swap).
        margin: the required gap.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    PyTorch equivalent: the loss of ``torch.nn.functional.triplet_margin_with_distance_loss``
    once its ``distance_function`` has run.
    """
    _check_margin("triplet_margin_from_distances", margin)
    d_pos, d_neg = _floats("triplet_margin_with_distance_loss", reduction,
                           positive_distance=positive_distance,
                           negative_distance=negative_distance)
    return reduce(hinge(margin + d_pos - d_neg), reduction)
