"""Similarities and distances between vectors: cosine similarity, pairwise p-norm
distance, the all-pairs ``cdist`` and ``pdist``."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from fnnet.typing import Array


def norm_from_squares(squares: Array) -> Array:
    """``sqrt(squares)`` with the gradient 0 where ``squares`` is 0, as PyTorch's norms
    and distances have it (a plain square root's is infinite there).

    The root reads ``max(squares, tiny)`` rather than a stand-in chosen by ``squares > 0``:
    XLA may compute ``squares`` once for the test and again for the root, in fusions that
    contract ``a * b - c`` differently (``x * 6 - x * 6`` is then not 0 in one of them),
    and a stand-in of 1 came out as a row's distance to itself.
    """
    tiny = jnp.finfo(squares.dtype).tiny if jnp.issubdtype(squares.dtype, jnp.floating) else 1
    return jnp.where(squares > 0, jnp.sqrt(jnp.maximum(squares, tiny)), 0)


def _clamped_norm(x: Array, dim: int, eps: float) -> Array:
    """``max(|x|, eps)`` along ``dim`` (kept), differentiated as ``|x|`` (PyTorch clamps
    the norm outside autograd); the norm's gradient at a zero vector is 0."""
    norm = norm_from_squares(jnp.sum(x * x, axis=dim, keepdims=True))
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
        return norm_from_squares(jnp.sum(diff * diff, axis=-1))
    return jnp.sum(jnp.abs(diff) ** p, axis=-1) ** (1.0 / p)
