"""``torch.nn.functional.multi_head_attention_forward``: the attention of
``nn.MultiheadAttention`` with its weights given, as one recorded call of
``fnnet.nn.functional.multi_head_attention``, with PyTorch's checks in its order and
words."""

from __future__ import annotations

import warnings
from typing import Any

import jax

from fnnet.nn import functional as fnf
from fnnet.torch import _dtypes, _functions, _graph, _random
from fnnet.torch.tensor import Tensor, _op_multi


def canonical_mask(mask: Tensor | None, mask_name: str, other_type: Any, other_name: str,
                   target_type: Any, check_other: bool = True, *,
                   stacklevel: int = 2) -> Tensor | None:
    """PyTorch's ``F._canonical_mask``: a boolean ``mask`` (True: left out) as the float
    one of ``target_type`` it stands for (``-inf`` there, else 0), a float mask as it is;
    PyTorch's warning where ``check_other`` and ``other_type`` (the dtype of the mask
    given beside it) differs. Code copied from PyTorch's Transformer layers calls it."""
    if mask is None:
        return None
    if mask.dtype != _dtypes.bool_ and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      f"Use same type for both instead.", UserWarning,
                      stacklevel=stacklevel)
    if mask.is_floating_point():
        return mask
    return _functions.zeros(*mask.shape, dtype=target_type).masked_fill(mask,
                                                                        float("-inf"))


def none_or_dtype(input: Any) -> Any:
    """PyTorch's ``F._none_or_dtype``: ``input``'s dtype, None for None."""
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask: Tensor | None, name: str, other: Tensor | None = None,
                    other_name: str = "") -> Tensor | None:
    """:func:`canonical_mask` of ``mask`` beside ``other`` (the mask given with it), as
    the shim's layers call it (their callers see the warning)."""
    return canonical_mask(mask, name, none_or_dtype(other), other_name, None, stacklevel=4)


def _attend(*args: Any) -> tuple[jax.Array, jax.Array | None]:
    """``multi_head_attention`` on the recorded arrays; the last argument is static."""
    *arrays, (heads, need_weights, average, p, draw, zero_attn) = args
    q, k, v, w_in, b_in, w_out, b_out, padding, mask, w_q, w_k, w_v, b_k, b_v = arrays[:14]
    key = _random.fold(arrays[14], draw) if draw else None
    return fnf.multi_head_attention(q, k, v, heads, w_in, b_in, w_out, b_out,
                                    key_padding_mask=padding, attn_mask=mask,
                                    need_weights=need_weights,
                                    average_attn_weights=average, dropout_p=p,
                                    dropout_key=key, q_proj_weight=w_q, k_proj_weight=w_k,
                                    v_proj_weight=w_v, bias_k=b_k, bias_v=b_v,
                                    add_zero_attn=zero_attn)


def _check_ranks(query: Tensor, key: Tensor, value: Tensor, padding: Tensor | None,
                 mask: Tensor | None, heads: int) -> None:
    """PyTorch's ``_mha_shape_check``, with its exception types and words: the ranks of
    the inputs and masks (and an unbatched query's 3-D mask size)."""
    if query.dim() not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but "
                             f"received {query.dim()}-D query tensor")
    rank = query.dim()
    kind = "batched (3-D)" if rank == 3 else "unbatched (2-D)"
    if key.dim() != rank or value.dim() != rank:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {rank}-D "
                             f"but found {key.dim()}-D and {value.dim()}-D tensors "
                             f"respectively")
    if padding is not None and padding.dim() != rank - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` "
                             f"or {rank - 1}-D but found {padding.dim()}-D tensor instead")
    if mask is not None and mask.dim() not in (2, 3):
        raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                             f"3-D but found {mask.dim()}-D tensor instead")
    expected = (heads, query.shape[0], key.shape[0])
    if rank == 2 and mask is not None and mask.dim() == 3 and tuple(mask.shape) != expected:
        raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                             f"{mask.shape}")


def _check_sizes(query: Tensor, key: Tensor, padding: Tensor | None, mask: Tensor | None,
                 heads: int) -> None:
    """The sizes ``F.multi_head_attention_forward`` checks on sequence-first inputs
    (``query [L, N, E]``, ``key [S, N, E]``), in its order and words: the attention mask,
    the keys' batch (PyTorch's view of them as ``[S, N * heads, E // heads]`` fails), then
    the padding mask."""
    target, batch, width = query.shape
    source = key.shape[0]
    if mask is not None and mask.dim() == 2 and tuple(mask.shape) != (target, source):
        raise RuntimeError(f"The shape of the 2D attn_mask is {mask.shape}, but should be "
                           f"{(target, source)}.")
    expected = (batch * heads, target, source)
    if mask is not None and mask.dim() == 3 and tuple(mask.shape) != expected:
        raise RuntimeError(f"The shape of the 3D attn_mask is {mask.shape}, but should be "
                           f"{expected}.")
    if key.shape[1] != batch:
        raise RuntimeError(f"shape '[{source}, {batch * heads}, {width // heads}]' is invalid "
                           f"for input of size {key.numel()}")
    for dim, size in enumerate((batch, source)):
        if padding is not None and padding.shape[dim] != size:
            raise AssertionError(f"Expected key_padded_mask.shape[{dim}] to be {size}, but "
                                 f"got {padding.shape[dim]}")


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float,
        out_proj_weight: Tensor, out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention of ``query [L, N, E]`` (``[L, E]`` unbatched, sequence first)
    over ``key``/``value`` ``[S, N, E]`` with the given projections: ``in_proj_weight``
    ``[3E, E]``, or with ``use_separate_proj_weight`` the ``q/k/v_proj_weight``;
    ``bias_k``/``bias_v`` ``[1, 1, E]`` append a key and a value, ``add_zero_attn`` a
    key and a value of zeros; dropout on the weights only while ``training``.

    Returns:
        ``(output [L, N, E], weights)``: the weights ``[N, L, S]`` (``[N, H, L, S]``
        unless ``average_attn_weights``) when ``need_weights``, else None.

    PyTorch equivalent: ``torch.nn.functional.multi_head_attention_forward``
    (``static_k``/``static_v`` are not supported).
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"MultiheadAttention: {name} must be a Tensor, got "
                            f"{type(t).__name__}")
    if static_k is not None or static_v is not None:
        raise NotImplementedError("fnnet.torch: multi_head_attention_forward(static_k=..., "
                                  "static_v=...) is not supported")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                           "the Transformer module method `generate_square_subsequent_mask`"
                           " to create this mask.")
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                       "attn_mask")
    if attn_mask is not None and attn_mask.dtype != _dtypes.bool_ and \
            not attn_mask.is_floating_point():
        # PyTorch's _canonical_mask of the attention mask (an integer 0/1 mask)
        raise AssertionError("only bool and floating types of attn_mask are supported")
    _check_ranks(query, key, value, key_padding_mask, attn_mask, num_heads)
    batched = query.dim() == 3
    if not batched:
        query, key, value = (t.unsqueeze(1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if query.shape[-1] != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, "
                             f"but got {query.shape[-1]}")
    if not use_separate_proj_weight and key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape "
                             f"{value.shape}")
    if key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                             f"value's {value.shape[:2]}")
    _check_sizes(query, key, key_padding_mask, attn_mask, num_heads)
    if (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must be given together")
    p = float(dropout_p) if training else 0.0
    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight \
        else (None, None, None)
    inputs: list[Any] = [query, key, value, None if use_separate_proj_weight else
                         in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                         key_padding_mask, attn_mask, *separate, bias_k, bias_v]
    draw = 0
    if p > 0:
        draw = _graph.next_draw()
        inputs.append(_graph.rng_input())
    static = (num_heads, bool(need_weights), bool(average_attn_weights), p, draw,
              bool(add_zero_attn))
    output, weights = _op_multi(_attend, (static,), *inputs, who="MultiheadAttention")
    assert output is not None
    if not batched:
        output = output.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return output, weights
