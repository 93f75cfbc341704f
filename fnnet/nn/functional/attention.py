"""Scaled dot-product attention: ``softmax(q k^T * scale + mask) v``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from fnnet.nn.functional.dropout import dropout
from fnnet.typing import Array, PRNGKey


def scaled_dot_product_attention(query: Array, key: Array, value: Array,
                                 attn_mask: Array | None = None, is_causal: bool = False,
                                 scale: float | None = None, dropout_p: float = 0.0, *,
                                 dropout_key: PRNGKey | None = None) -> Array:
    """Attention of each query over the keys, weighting the values.

    Args:
        query: ``[..., L, E]``.
        key: ``[..., S, E]``.
        value: ``[..., S, Ev]``.
        attn_mask: broadcastable to ``[..., L, S]``: boolean (True takes part) or added
            to the scores.
        is_causal: query ``i`` attends to keys ``j <= i`` only (top-left aligned).
        scale: the factor on the scores; ``1 / sqrt(E)`` by default.
        dropout_p: the probability of dropping each attention weight (the rest scaled
            by ``1 / (1 - dropout_p)``), as PyTorch applies it whenever it is given.
        dropout_key: the PRNG key of the dropout mask; required when ``dropout_p > 0``.

    Returns:
        ``[..., L, Ev]``.

    PyTorch equivalent: ``torch.nn.functional.scaled_dot_product_attention``.
    """
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = jnp.matmul(query, jnp.swapaxes(key, -1, -2)) * factor
    if is_causal:
        length, source = query.shape[-2], key.shape[-2]
        causal = jnp.tril(jnp.ones((length, source), bool))
        scores = jnp.where(causal, scores, -jnp.inf)
    if attn_mask is not None:
        if attn_mask.dtype == jnp.bool_:
            scores = jnp.where(attn_mask, scores, -jnp.inf)
        else:
            scores = scores + attn_mask
    weights = jax.nn.softmax(scores, axis=-1)
    if dropout_p:
        weights = dropout(weights, dropout_p, True, key=dropout_key)
    return jnp.matmul(weights, value)
