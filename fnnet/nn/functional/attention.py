"""Scaled dot-product attention, ``softmax(q k^T * scale + mask) v``, and multi-head
attention over it."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from fnnet.nn.functional._utils import widened
from fnnet.nn.functional.dropout import dropout
from fnnet.nn.functional.linear import linear
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
    # half precision: computed in float32 and rounded once, as PyTorch's CPU kernel
    dtype = jnp.result_type(query, key, value)
    weights = attention_weights(widened(query), widened(key), attn_mask, is_causal, scale,
                                dropout_p, dropout_key=dropout_key)
    return jnp.matmul(weights, widened(value)).astype(dtype)


def attention_weights(query: Array, key: Array, attn_mask: Array | None = None,
                      is_causal: bool = False, scale: float | None = None,
                      dropout_p: float = 0.0, *,
                      dropout_key: PRNGKey | None = None) -> Array:
    """``softmax(q k^T * scale + mask)``, the weights of :func:`scaled_dot_product_attention`
    (same arguments), ``[..., L, S]``."""
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
    return weights


def _additive(mask: Array | None, dtype: jnp.dtype) -> Array | None:
    """A mask as scores to add: boolean True (masked out, PyTorch's MultiheadAttention
    convention) is ``-inf``, a float mask is itself."""
    if mask is None:
        return None
    if mask.dtype == jnp.bool_:
        return jnp.where(mask, -jnp.inf, 0.0).astype(dtype)
    return mask.astype(dtype)


def _one_more_key(mask: Array | None) -> Array | None:
    """``mask`` with a column for a key appended, which every query may attend (False,
    or 0 added to its scores), as PyTorch pads its masks; None stays None."""
    if mask is None:
        return None
    return jnp.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, 1)])


def multi_head_attention(query: Array, key: Array, value: Array, num_heads: int,
                         in_proj_weight: Array | None, in_proj_bias: Array | None,
                         out_proj_weight: Array, out_proj_bias: Array | None, *,
                         key_padding_mask: Array | None = None,
                         attn_mask: Array | None = None, need_weights: bool = True,
                         average_attn_weights: bool = True, dropout_p: float = 0.0,
                         dropout_key: PRNGKey | None = None,
                         q_proj_weight: Array | None = None, k_proj_weight: Array | None = None,
                         v_proj_weight: Array | None = None, bias_k: Array | None = None,
                         bias_v: Array | None = None, add_zero_attn: bool = False
                         ) -> tuple[Array, Array | None]:
    """Multi-head attention with packed input projections, as PyTorch's
    ``nn.MultiheadAttention`` computes it (sequence first); with separate projections
    where the keys and values have widths of their own (its ``kdim``/``vdim``).

    Args:
        query: ``[L, N, E]``.
        key: ``[S, N, E]`` (``[S, N, kdim]`` with separate projections).
        value: ``[S, N, E]`` (``[S, N, vdim]``).
        num_heads: ``H``, dividing ``E``.
        in_proj_weight: ``[3E, E]``, the query, key and value projections stacked; None
            for the separate ones below.
        in_proj_bias: ``[3E]`` or None.
        out_proj_weight: ``[E_out, E]`` (``E_out`` is ``E`` in ``nn.MultiheadAttention``;
            an attention pooling head projects to another width).
        out_proj_bias: ``[E_out]`` or None.
        key_padding_mask: ``[N, S]``: boolean True ignores that key, a float mask is
            added to its scores.
        attn_mask: ``[L, S]`` or ``[N * H, L, S]``, boolean (True: may not attend) or
            added to the scores.
        need_weights: also return the attention weights.
        average_attn_weights: average the weights over the heads.
        dropout_p: the probability of dropping each attention weight.
        dropout_key: the dropout mask's PRNG key; required when ``dropout_p > 0``.
        q_proj_weight: ``[E, E]``, used where ``in_proj_weight`` is None.
        k_proj_weight: ``[E, kdim]``, likewise.
        v_proj_weight: ``[E, vdim]``, likewise.
        bias_k: ``[1, 1, E]``: a key appended to every sample's projected keys (with
            ``bias_v``, its value), or None.
        bias_v: ``[1, 1, E]``, given with ``bias_k``.
        add_zero_attn: append a key and a value of zeros to every head's (after
            ``bias_k``'s).

    Returns:
        ``(output [L, N, E_out], weights)``: the weights ``[N, L, S]`` (``[N, H, L, S]``
        unaveraged; ``S`` counts the keys appended) when ``need_weights``, else None.
    """
    length, batch, embed = query.shape
    source = key.shape[0]
    head = embed // num_heads
    if in_proj_weight is None:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError("multi_head_attention: in_proj_weight is None, so q_proj_weight, "
                             "k_proj_weight and v_proj_weight are all required")
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        w_q, w_k, w_v = jnp.split(in_proj_weight, 3)
    b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else \
        jnp.split(in_proj_bias, 3)
    q, k, v = (linear(x, w, b) for x, w, b in
               ((query, w_q, b_q), (key, w_k, b_k), (value, w_v, b_v)))
    if (bias_k is None) != (bias_v is None):
        raise ValueError("multi_head_attention: bias_k and bias_v are given together")
    if bias_k is not None and bias_v is not None:
        k = jnp.concatenate([k, jnp.broadcast_to(bias_k, (1, batch, embed))])
        v = jnp.concatenate([v, jnp.broadcast_to(bias_v, (1, batch, embed))])
        attn_mask, key_padding_mask = _one_more_key(attn_mask), _one_more_key(key_padding_mask)
        source += 1
    # [L, N, E] -> [N * H, L, head]: each (sample, head) pair one batch of the matmuls
    q = q.reshape(length, batch * num_heads, head).transpose(1, 0, 2)
    k = k.reshape(source, batch * num_heads, head).transpose(1, 0, 2)
    v = v.reshape(source, batch * num_heads, head).transpose(1, 0, 2)
    if add_zero_attn:
        zeros = jnp.zeros((batch * num_heads, 1, head), k.dtype)
        k, v = jnp.concatenate([k, zeros], axis=1), jnp.concatenate([v, zeros], axis=1)
        attn_mask, key_padding_mask = _one_more_key(attn_mask), _one_more_key(key_padding_mask)
        source += 1
    mask = _additive(attn_mask, q.dtype)
    if mask is not None and mask.ndim == 2:
        mask = mask[None]
    padding = _additive(key_padding_mask, q.dtype)
    if padding is not None:
        padding = jnp.broadcast_to(padding[:, None, None, :], (batch, num_heads, 1, source)
                                   ).reshape(batch * num_heads, 1, source)
        mask = padding if mask is None else mask + padding
    weights = attention_weights(q, k, mask, dropout_p=dropout_p, dropout_key=dropout_key)
    out = jnp.matmul(weights, v).transpose(1, 0, 2).reshape(length * batch, embed)
    # the output projection may change the width (an attention pooling head's)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(length, batch, -1)
    if not need_weights:
        return out, None
    weights = weights.reshape(batch, num_heads, length, source)
    return out, weights.mean(axis=1) if average_attn_weights else weights
