"""``F.scaled_dot_product_attention`` and ``F.instance_norm``: recorded calls of fnnet's
``scaled_dot_product_attention`` and ``group_norm`` (instance normalisation is group
normalisation with one channel per group)."""

from __future__ import annotations

import math

import jax

from fnnet.nn import functional as fnf
from fnnet.torch import _graph, _random
from fnnet.torch.tensor import Tensor, _op, _op_multi


def _attention(q: jax.Array, k: jax.Array, v: jax.Array, mask: jax.Array | None,
               is_causal: bool, scale: float | None) -> jax.Array:
    return fnf.scaled_dot_product_attention(q, k, v, mask, is_causal, scale)


def _attention_dropout(q: jax.Array, k: jax.Array, v: jax.Array, mask: jax.Array | None,
                       rng: jax.Array, is_causal: bool, scale: float | None, p: float,
                       draw: int) -> jax.Array:
    return fnf.scaled_dot_product_attention(q, k, v, mask, is_causal, scale, p,
                                            dropout_key=_random.fold(rng, draw))


def _shared_heads(query: Tensor, t: Tensor) -> Tensor:
    """Grouped-query attention: ``t``'s heads (dim -3) each repeated for the group of
    query heads that shares it, as PyTorch's ``enable_gqa=True`` does."""
    for x in (query, t):
        if x.dim() < 3:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(x.dim(), 1)}, {max(x.dim(), 1) - 1}], but got -3)")
    heads, shared = query.shape[-3], t.shape[-3]
    if heads % shared:
        raise RuntimeError("Number of heads in key and value must divide the number of "
                           "heads in ")  # sic: PyTorch's message ends there
    return t if heads == shared else t.repeat_interleave(heads // shared, dim=-3)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query key^T * scale + mask) value`` over ``[..., L, E]`` queries and
    ``[..., S, E]`` keys; ``dropout_p`` drops attention weights with keys from the step's
    key, like ``F.dropout`` (the masks differ from PyTorch's: another PRNG).

    PyTorch equivalent: ``torch.nn.functional.scaled_dot_product_attention``.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be "
                            f"Tensor, not {type(t).__name__}")
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float)) or \
            not 0 <= dropout_p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got "
                           f"{dropout_p}")
    if enable_gqa:
        key, value = _shared_heads(query, key), _shared_heads(query, value)
    # the attention scores [..., L, S] that a mask is added to
    scores = (*query.shape[:-1], key.shape[-2]) if min(query.dim(), key.dim()) >= 2 else ()
    if is_causal and attn_mask is not None and not (
            query.dim() == key.dim() == value.dim() == 4 and not dropout_p and
            query.shape[:2] == key.shape[:2] == value.shape[:2] and
            value.shape[-1] == query.shape[-1] and not getattr(attn_mask, "requires_grad",
                                                                False) and
            _graph.broadcast_mismatch([scores, tuple(attn_mask.shape)]) is None):
        # PyTorch's CPU flash kernel (4-D inputs of one batch and head count, one head
        # width, no dropout, a mask without grad that fits the scores) applies both
        # masks; its other kernel refuses the pair
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must have "
                           "at least 2 dimensions")
    if query.shape[-1] != key.shape[-1] and query.shape[:-2] == key.shape[:-2]:
        # PyTorch's words: its math kernel multiplies the queries by the keys' transpose
        # (as a batch of matrices above two dimensions)
        if query.dim() == 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({query.shape[0]}x{query.shape[1]} and "
                               f"{key.shape[1]}x{key.shape[0]})")
        batch = math.prod(query.shape[:-2])
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch}, {query.shape[-1]}] but got: [{batch}, "
                           f"{key.shape[-1]}].")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: expected query [..., L, E], key "
                           f"[..., S, E] and value [..., S, Ev], got {list(query.shape)}, "
                           f"{list(key.shape)} and {list(value.shape)}")
    if attn_mask is not None and attn_mask.dim() < 2 and \
            query.dim() == key.dim() == value.dim() == 4:
        # PyTorch's CPU kernel for 4-D inputs reads the mask's size -2 (its other kernel
        # broadcasts a vector mask)
        raise IndexError("Dimension specified as -2 but tensor has no dimensions"
                         if attn_mask.dim() == 0 else "Dimension out of range (expected to "
                         "be in range of [-1, 0], but got -2)")
    if attn_mask is not None and scores and query.shape[:-2] == key.shape[:-2]:
        # PyTorch's math kernel adds the mask to the scores (tensor a)
        mismatch = _graph.broadcast_mismatch([scores, tuple(attn_mask.shape)])
        if mismatch is not None:
            raise RuntimeError(mismatch)
    static = (bool(is_causal), None if scale is None else float(scale))
    if dropout_p:
        return _op(_attention_dropout, (*static, float(dropout_p), _graph.next_draw()),
                   query, key, value, attn_mask, _graph.rng_input(),
                   who="scaled_dot_product_attention")
    return _op(_attention, static, query, key, value, attn_mask,
               who="scaled_dot_product_attention")


def _instance_norm(x: jax.Array, weight: jax.Array | None, bias: jax.Array | None,
                   eps: float) -> jax.Array:
    """fnnet's group norm with a group per channel: an op of its own, whose node is
    PyTorch's (the view back from its batch norm of the ``N * C`` instances)."""
    return fnf.group_norm(x, x.shape[1], weight, bias, eps)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalises each sample's channels over their positions (``[N, C, *]``).

    Without running statistics this is fnnet's group norm with one channel a group.
    With them it is PyTorch's construction: batch norm (``fnnet.nn.functional
    .batch_norm``) of the ``N * C`` instances as channels of one sample, the running
    statistics repeated per sample and their updates averaged over the samples (in
    place, as ``F.batch_norm`` does); ``use_input_stats=False`` normalises by them.

    PyTorch equivalent: ``torch.nn.functional.instance_norm``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"instance_norm(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher input to instance_norm (got {input.dim()}D "
                         f"input)")
    if use_input_stats and math.prod(input.shape[2:]) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size {input.shape}")
    if running_mean is None and running_var is None:
        if not use_input_stats:
            raise ValueError("Expected running_mean and running_var to be defined when "
                             "use_input_stats is false")
        return _op(_instance_norm, (float(eps),), input, weight, bias, who="instance_norm")
    n, c = input.shape[0], input.shape[1]

    def per_instance(t: Tensor | None) -> Tensor | None:
        return None if t is None else t.repeat(n)

    y, mean, var = _op_multi(fnf.batch_norm, (use_input_stats, momentum, eps),
                             input.reshape(1, n * c, *input.shape[2:]),
                             per_instance(running_mean), per_instance(running_var),
                             per_instance(weight), per_instance(bias), who="instance_norm")
    if use_input_stats:
        for buffer, new in ((running_mean, mean), (running_var, var)):
            if buffer is not None and new is not None:
                averaged = new.detach().view(n, c).mean(0)
                cell = buffer._cell
                _graph.bind(cell, averaged._cell.ref, averaged._cell.aval, False)
                cell.version = getattr(cell, "version", 0) + 1  # PyTorch copy_s it in
    assert y is not None
    return y.reshape(input.shape)

