"""``nn.MultiheadAttention`` (one recorded call of ``fnnet.nn.functional.multi_head_attention``)
and the Transformer layers built from it as PyTorch builds them."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from fnnet.torch import _autograd, _functions
from fnnet.torch.device import check_placement
from fnnet.torch.nn import functional as F
from fnnet.torch.nn import init
from fnnet.torch.nn._multi_head import _canonical_mask, multi_head_attention_forward
from fnnet.torch.nn.modules._layer import filled_in_place
from fnnet.torch.nn.modules.container import ModuleList
from fnnet.torch.nn.modules.linear import Linear, NonDynamicallyQuantizableLinear
from fnnet.torch.nn.modules.misc import Dropout
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.modules.normalization import LayerNorm
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of ``embed_dim // num_heads`` features each.

    Parameters as PyTorch names them: ``in_proj_weight`` ``[3E, E]`` (Xavier-uniform),
    or where the keys and values have widths of their own (``kdim``/``vdim``, attention
    over another model's features) ``q_proj_weight`` ``[E, E]``, ``k_proj_weight``
    ``[E, kdim]`` and ``v_proj_weight`` ``[E, vdim]``; ``in_proj_bias`` ``[3E]`` (zeros),
    ``out_proj`` a ``Linear(E, E)`` with a zero bias; with ``add_bias_kv``, ``bias_k``
    and ``bias_v`` ``[1, 1, E]`` (Xavier-normal), a key and a value appended to every
    sample's; with ``add_zero_attn``, a key and a value of zeros appended to every head's.

    PyTorch equivalent: ``torch.nn.MultiheadAttention``.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} and num_heads must be greater than 0, got "
                                 f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        projections = ("q_proj_weight", "k_proj_weight", "v_proj_weight")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(_functions.zeros(3 * embed_dim, embed_dim))
            for name in projections:
                self.register_parameter(name, None)
        else:
            for name, width in zip(projections, (embed_dim, self.kdim, self.vdim), strict=True):
                setattr(self, name, Parameter(_functions.zeros(embed_dim, width)))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(_functions.zeros(3 * embed_dim))
        else:
            self.register_parameter("in_proj_bias", None)
        # PyTorch's order of draws: out_proj's own initialisation, then in_proj's (or the
        # query's, key's and value's projections, in that order)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        for name in ("in_proj_weight", *projections):
            if getattr(self, name) is not None:
                init.xavier_uniform_(getattr(self, name))
        filled_in_place(self)
        if bias:
            init.constant_(self.out_proj.bias, 0.0)
        if add_bias_kv:
            self.bias_k: Parameter | None = Parameter(_functions.zeros(1, 1, embed_dim))
            self.bias_v: Parameter | None = Parameter(_functions.zeros(1, 1, embed_dim))
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = bool(add_zero_attn)
        self._factory_kwargs(device, dtype)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """``(output, weights)``: ``query [L, N, E]`` (``[N, L, E]`` with
        ``batch_first``, ``[L, E]`` unbatched) over ``key``/``value`` ``[S, N, E]``;
        the weights ``[N, L, S]`` (per head ``[N, H, L, S]`` unless
        ``average_attn_weights``) when ``need_weights``."""
        batched = isinstance(query, Tensor) and query.dim() == 3
        if batched and self.batch_first:
            query, key, value = (t.transpose(0, 1) if isinstance(t, Tensor) else t
                                 for t in (query, key, value))
        output, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal)
        if batched and self.batch_first:
            output = output.transpose(0, 1)
        return output, weights

    def extra_repr(self) -> str:
        return ""


def _activation(activation: str | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str) or not callable(activation):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


class _Layer(Module):
    """The parts a Transformer layer shares: its attentions, the feed-forward block and
    ``blocks`` LayerNorms and Dropouts, registered in PyTorch's order (so state dicts
    match)."""

    def _build(self, attentions: tuple[str, ...], blocks: int, d_model: int, nhead: int,
               dim_feedforward: int, dropout: float,
               activation: str | Callable[[Tensor], Tensor], layer_norm_eps: float,
               batch_first: bool, norm_first: bool, bias: bool) -> None:
        for name in attentions:
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                   batch_first=batch_first))
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        for i in range(1, blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        for i in range(1, blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)

    def _attend(self, attention: MultiheadAttention, drop: Dropout, x: Tensor, source: Tensor,
                mask: Tensor | None, padding: Tensor | None, is_causal: bool) -> Tensor:
        out: Tensor = drop(attention(x, source, source, attn_mask=mask,
                                     key_padding_mask=padding, is_causal=is_causal,
                                     need_weights=False)[0])
        return out

    def _feed_forward(self, x: Tensor, drop: Dropout) -> Tensor:
        out: Tensor = drop(self.linear2(self.dropout(self.activation(self.linear1(x)))))
        return out


def _copies(layer: Module, num_layers: int, who: str) -> ModuleList:
    """``num_layers`` deep copies of ``layer``, as PyTorch's encoder and decoder hold."""
    if not isinstance(layer, Module):
        raise TypeError(f"{who}: the layer must be a module, got {type(layer).__name__}")
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"{who}: num_layers must be a positive int, got {num_layers!r}")
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


class TransformerEncoderLayer(_Layer):
    """Self-attention then a feed-forward block, each with dropout, a residual connection
    and layer normalisation (after each block, or before with ``norm_first``).

    PyTorch equivalent: ``torch.nn.TransformerEncoderLayer``.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self._build(("self_attn",), 2, d_model, nhead, dim_feedforward, dropout, activation,
                    layer_norm_eps, batch_first, norm_first, bias)
        self._factory_kwargs(device, dtype)
        self.activation_relu_or_gelu = activation in ("relu", "gelu") or \
            activation in (F.relu, F.gelu)

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        """``src [S, N, E]`` (``[N, S, E]`` with ``batch_first``) -> the same shape."""
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               src_mask, "src_mask")
        src_mask = _canonical_mask(src_mask, "src_mask")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        out: Tensor = self.norm2(x + self._ff_block(x))
        return out

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None,
                  key_padding_mask: Tensor | None, is_causal: bool) -> Tensor:
        return self._attend(self.self_attn, self.dropout1, x, x, attn_mask, key_padding_mask,
                            is_causal)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self._feed_forward(x, self.dropout2)


def _why_not_nested(layer: Module) -> str:
    """Why PyTorch's encoder of ``layer``s would not take its fast path (its words), or
    "" where it would."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    attention = layer.self_attn
    reasons = ((layer.norm_first, f"{name}.norm_first was True"),
               (not attention.batch_first, f"{name}.self_attn.batch_first was not True(use "
                                           f"batch_first for better inference performance)"),
               (attention.in_proj_bias is None, f"{name}.self_attn was passed bias=False"),
               (not layer.activation_relu_or_gelu,
                f"{name}.activation_relu_or_gelu was not True"),
               (layer.norm1.eps != layer.norm2.eps,
                f"{name}.norm1.eps was not equal to {name}.norm2.eps"),
               (attention.num_heads % 2 == 1, f"{name}.self_attn.num_heads is odd"))
    return next((why for failed, why in reasons if failed), "")


def _left_aligned(padding: Tensor) -> bool:
    """Whether each row's padding (True) comes after all its tokens."""
    rows = np.asarray(padding.detach().numpy(), bool)
    return bool(np.all(rows[:, 1:] >= rows[:, :-1]))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` in turn, then ``norm`` if given.

    As PyTorch's (whose fast path runs the layers on the unpadded tokens), in evaluation
    mode without gradients, with ``batch_first`` layers and a left-aligned
    ``src_key_padding_mask`` alone, the padded positions of the output are zeros.

    PyTorch equivalent: ``torch.nn.TransformerEncoder``.
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        layers = _copies(encoder_layer, num_layers, "TransformerEncoder")
        super().__init__()
        self.layers = layers
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_not_nested(encoder_layer)
        self.use_nested_tensor = bool(enable_nested_tensor and not why_not)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why_not}", UserWarning, stacklevel=2)

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        """``src [S, N, E]`` (``[N, S, E]`` with ``batch_first``) -> the same shape."""
        padding = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", mask, "mask")
        mask = _canonical_mask(mask, "mask")
        output = src
        padded = (self.use_nested_tensor and not self.layers[0].training and src.dim() == 3
                  and src_key_padding_mask is not None and mask is None
                  and not (_autograd.is_grad_enabled()
                           and any(p.requires_grad for p in self.parameters()))
                  and (not self.mask_check or _left_aligned(src_key_padding_mask)))
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=padding,
                           is_causal=bool(is_causal))
        if padded:
            assert src_key_padding_mask is not None
            output = output.masked_fill(src_key_padding_mask.unsqueeze(-1), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoderLayer(_Layer):
    """Self-attention, attention over the encoder's output (``memory``), then a
    feed-forward block, each with dropout, a residual connection and layer normalisation.

    PyTorch equivalent: ``torch.nn.TransformerDecoderLayer``.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self._build(("self_attn", "multihead_attn"), 3, d_model, nhead, dim_feedforward,
                    dropout, activation, layer_norm_eps, batch_first, norm_first, bias)
        self._factory_kwargs(device, dtype)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """``tgt [T, N, E]`` over ``memory [S, N, E]`` (batch first with
        ``batch_first``) -> ``tgt``'s shape."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        out: Tensor = self.norm3(x + self._ff_block(x))
        return out

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None,
                  key_padding_mask: Tensor | None, is_causal: bool) -> Tensor:
        return self._attend(self.self_attn, self.dropout1, x, x, attn_mask, key_padding_mask,
                            is_causal)

    def _mha_block(self, x: Tensor, memory: Tensor, attn_mask: Tensor | None,
                   key_padding_mask: Tensor | None, is_causal: bool) -> Tensor:
        return self._attend(self.multihead_attn, self.dropout2, x, memory, attn_mask,
                            key_padding_mask, is_causal)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self._feed_forward(x, self.dropout3)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` in turn, then ``norm`` if given.

    PyTorch equivalent: ``torch.nn.TransformerDecoder``.
    """

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        layers = _copies(decoder_layer, num_layers, "TransformerDecoder")
        super().__init__()
        self.layers = layers
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=bool(tgt_is_causal),
                           memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """An encoder of ``num_encoder_layers`` layers and a decoder of
    ``num_decoder_layers``, each ending in a LayerNorm; every weight matrix
    Xavier-uniform, as PyTorch initialises them.

    PyTorch equivalent: ``torch.nn.Transformer``.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = "relu",
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        check_placement(device)
        super().__init__()
        # device and dtype reach the layers built here, never custom ones (as PyTorch)
        factory: dict[str, Any] = dict(device=device, dtype=dtype)
        options: dict[str, Any] = dict(
            dropout=dropout, activation=activation, layer_norm_eps=layer_norm_eps,
            batch_first=batch_first, norm_first=norm_first, bias=bias, **factory)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, dim_feedforward, **options),
            num_encoder_layers, LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, dim_feedforward, **options),
            num_decoder_layers, LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        """``src [S, N, E]`` and ``tgt [T, N, E]`` (batch first with ``batch_first``)
        -> ``[T, N, E]``."""
        batch_axis = 0 if self.batch_first else 1
        if src.dim() == 3 and tgt.dim() == 3 and \
                src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        out: Tensor = self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                                   tgt_key_padding_mask=tgt_key_padding_mask,
                                   memory_key_padding_mask=memory_key_padding_mask,
                                   tgt_is_causal=tgt_is_causal,
                                   memory_is_causal=memory_is_causal)
        return out

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None,
                                        dtype: Any = None) -> Tensor:
        """See :func:`generate_square_subsequent_mask`."""
        return generate_square_subsequent_mask(sz, device, dtype)


def _get_clones(module: Module, N: int) -> ModuleList:  # noqa: N803 - PyTorch's name
    """``N`` deep copies of ``module``: PyTorch's helper, which code copying its
    Transformer layers imports."""
    return ModuleList([copy.deepcopy(module) for _ in range(N)])


def _get_activation_fn(activation: str) -> Callable[[Tensor], Tensor]:
    """``F.relu`` or ``F.gelu`` by name: PyTorch's helper, which code copying its
    Transformer layers imports."""
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
    """``[sz, sz]``: 0 on and below the diagonal, ``-inf`` above (each position attends
    to itself and the ones before). PyTorch equivalent:
    ``torch.nn.Transformer.generate_square_subsequent_mask``."""
    if isinstance(sz, bool) or not isinstance(sz, int) or sz < 0:
        raise ValueError(f"generate_square_subsequent_mask: sz must be an int >= 0, got "
                         f"{sz!r}")
    mask: Tensor = _functions.tensor(np.triu(np.full((sz, sz), -np.inf, np.float32), k=1),
                                     dtype=dtype, device=device)
    return mask


#: PyTorch's module-level name for the mask (``torch.nn.modules.transformer``)
_generate_square_subsequent_mask = generate_square_subsequent_mask


def _get_seq_len(src: Tensor, batch_first: bool) -> int:
    """The sequence length of ``src`` (``[S, E]``, ``[S, N, E]`` or ``[N, S, E]``):
    PyTorch's helper, which code copying its TransformerEncoder imports (fnnet.torch has
    no nested tensors)."""
    if src.dim() == 2:
        return int(src.shape[0])
    return int(src.shape[1 if batch_first else 0])


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None = None,
                           size: int | None = None) -> bool:
    """Whether ``mask`` is the square subsequent mask of ``size`` (its own size -2 when
    None) where ``is_causal`` is None, else ``is_causal is True``: PyTorch's helper, which
    code copying its TransformerEncoder imports."""
    if is_causal is not None or mask is None:
        return is_causal is True
    causal = generate_square_subsequent_mask(
        size if size is not None else int(mask.shape[-2]), dtype=mask.dtype)
    return tuple(mask.shape) == tuple(causal.shape) and bool((mask == causal).all())
