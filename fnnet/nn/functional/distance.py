"""Similarities and distances between vectors: cosine similarity, pairwise p-norm
distance, the all-pairs ``cdist`` and ``pdist``."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from fnnet.typing import Array


def _clamped_norm(x: Array, dim: int, eps: float) -> Array:
    """``max(|x|, eps)`` along ``dim`` (kept), differentiated as ``|x|`` (PyTorch clamps
    the norm outside autograd); the norm's gradient at a zero vector is 0."""
    squared = jnp.sum(x * x, axis=dim, keepdims=True)
    positive = squared > 0
    norm = jnp.where(positive, jnp.sqrt(jnp.where(positive, squared, 1.0)), 0.0)
    return norm + lax.stop_gradient(jnp.maximum(norm, eps) - norm)


def cosine_similarity(x1: Array, x2: Array, dim: int = 1, eps: float = 1e-8) -> Array:
    """``sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps))`` along ``dim`` (inputs
    broadcast), each vector normalised first, as PyTorch computes it.

    PyTorch equivalent: ``torch.nn.functional.cosine_similarity``.
    """
    x1, x2 = jnp.broadcast_arrays(x1, x2)
    return jnp.sum((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps)),
                   axis=dim)


def pairwise_distance(x1: Array, x2: Array, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Array:
    """``|| x1 - x2 + eps ||_p`` over the last dimension.

    PyTorch equivalent: ``torch.nn.functional.pairwise_distance``.
    """
    diff = jnp.abs(x1 - x2 + eps)
    if p == float("inf"):
        return jnp.max(diff, axis=-1, keepdims=keepdim)
    if p == 0:
        return jnp.sum((diff != 0).astype(diff.dtype), axis=-1, keepdims=keepdim)
    return jnp.sum(diff ** p, axis=-1, keepdims=keepdim) ** (1.0 / p)


def cdist(x1: Array, x2: Array, p: float = 2.0) -> Array:
    """The p-norm distance between every row of ``x1 [*, P, M]`` and of ``x2 [*, R, M]``:
    ``[*, P, R]``. PyTorch equivalent: ``torch.cdist``."""
    return _norm_last(x1[..., :, None, :] - x2[..., None, :, :], p)


def pdist(x: Array, p: float = 2.0) -> Array:
    """The p-norm distance between every pair of rows ``i < j`` of ``x [N, M]``, in the
    order of the upper triangle read row by row: ``[N * (N - 1) / 2]``.

    PyTorch equivalent: ``torch.nn.functional.pdist``.
    """
    rows, cols = np.triu_indices(x.shape[0], 1)
    return _norm_last(x[rows] - x[cols], p)


def _norm_last(diff: Array, p: float) -> Array:
    """The p-norm of ``diff`` over its last axis, as ``cdist``/``pdist`` compute it."""
    if p == float("inf"):
        return jnp.max(jnp.abs(diff), axis=-1)
    if p == 0:  # the number of coordinates that differ (Hamming), with no gradient
        return jnp.sum((diff != 0).astype(diff.dtype), axis=-1)
    if p == 2:
        # the square root's gradient at 0 (a row against itself) is 0, as PyTorch's
        squared = jnp.sum(diff * diff, axis=-1)
        safe = jnp.where(squared > 0, squared, 1.0)
        return jnp.where(squared > 0, jnp.sqrt(safe), 0.0)
    return jnp.sum(jnp.abs(diff) ** p, axis=-1) ** (1.0 / p)
