"""``F.embedding_bag`` (``nn.EmbeddingBag``'s computation): the sum, mean or max of each bag of
embedding rows, as text classifiers use them (a batch of token ids flattened, with the
offset at which each sample's bag starts).

Composed of recorded ops that exist already (``F.embedding``, ``searchsorted``,
``index_add``, ``max``), so it adds no arithmetic of its own and differentiates like them.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch import _functions, _sparse_gradients
from fnnet.torch._mixed_dtypes import check_index_dtype
from fnnet.torch._search_ops import searchsorted
from fnnet.torch.nn._embedding import embedding
from fnnet.torch.tensor import Tensor, host_value

MODES = ("sum", "mean", "max")


def _bags(input: Tensor, offsets: Any, include_last_offset: bool,
          who: str) -> tuple[Tensor, Tensor, int]:
    """The flat indices, each one's bag and the number of bags."""
    check_index_dtype(input, "embedding_bag")
    if input.dim() == 2:
        if offsets is not None:
            # PyTorch names the offsets' type; the shim's Tensor stands for torch.Tensor
            kind = "<class 'torch.Tensor'>" if isinstance(offsets, Tensor) else type(offsets)
            raise ValueError("if input is 2D, then offsets has to be None, as input is "
                             "treated is a mini-batch of fixed length sequences. However, "
                             f"found offsets of type {kind}")
        bags, length = input.shape
        ids = _functions.arange(bags).unsqueeze(1).expand(bags, length).reshape(-1)
        return input.reshape(-1), ids, bags
    if input.dim() != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    offsets = _functions.as_tensor(offsets)
    if offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    _check_offsets(offsets, input)
    bags = offsets.shape[0] - (1 if include_last_offset else 0)
    positions = _functions.arange(input.shape[0])
    # the bag of position j: the last offset at or before it
    ids = searchsorted(offsets, positions, right=True) - 1
    return input, ids.clamp(0, max(bags - 1, 0)), bags


def _check_offsets(offsets: Tensor, input: Tensor) -> None:
    """PyTorch's errors for offsets whose values the host holds (see ``host_value``): a
    first bag that does not start at 0, or a last offset past the end of the input."""
    values = host_value(offsets)
    if values is None or not values.size:
        return
    first, last, length = int(values[0]), int(values[-1]), input.shape[0]
    if first != 0:
        # PyTorch's words, with the offset printed as its C++ code prints a tensor (of
        # int64, the type of token ids)
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                           f"mini-batch has to start from position 0. However, got "
                           f"{first}\n[ torch.LongTensor{{}} ]")
    if last > length:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {length} "
                           f"but got offsets[-1] of {last}")


def check_options(who: str, max_norm: Any, scale_grad_by_freq: bool, sparse: bool,
                  mode: str | None) -> None:
    """Raises for the options ``who`` does not support, and for a mode it has not (a
    module's mode is checked when it is called, as PyTorch's: pass None)."""
    del sparse  # the gradient is held dense (see fnnet.torch._sparse_gradients)
    for name, value in (("max_norm", max_norm is not None),
                        ("scale_grad_by_freq", scale_grad_by_freq)):
        if value:
            raise NotImplementedError(f"fnnet.torch: {who}({name}=...) is not supported")
    if mode is not None and mode not in MODES:
        raise ValueError("mode has to be one of sum, mean or max")


def embedding_bag(input: Tensor, weight: Tensor, offsets: Any = None,
                  max_norm: Any = None, norm_type: float = 2, scale_grad_by_freq: bool = False,
                  mode: str = "mean", sparse: bool = False, per_sample_weights: Any = None,
                  include_last_offset: bool = False, padding_idx: int | None = None
                  ) -> Tensor:
    """The ``mode`` reduction (``"sum"``, ``"mean"``, ``"max"``) of each bag's rows of
    ``weight``: bags are the rows of a 2-D ``input`` ``[B, N]``, or the pieces of a 1-D
    ``input`` starting at ``offsets`` ``[B]``. Entries equal to ``padding_idx`` are left
    out; an empty bag gives zeros. ``per_sample_weights`` (``"sum"`` only) scale each row.

    Returns:
        ``[B, embedding_dim]``.

    With ``sparse=True`` the gradient of ``weight`` is held dense, and the optimizers
    treat it as PyTorch's sparse one (see :mod:`fnnet.torch._sparse_gradients`).

    PyTorch equivalent: ``torch.nn.functional.embedding_bag`` (no ``max_norm`` or
    ``scale_grad_by_freq``).
    """
    check_options("embedding_bag", max_norm, scale_grad_by_freq, sparse, mode)
    if sparse:
        _sparse_gradients.mark(weight)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}'). Please open a feature request on "
                                  f"GitHub.")
    flat, ids, bags = _bags(input, offsets, include_last_offset, "embedding_bag")
    if padding_idx is not None:  # PyTorch's kernel counts a negative index from the end
        count = int(weight.shape[0])
        if not -count <= padding_idx < count:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, "
                               f"{-count} through {count - 1}, but got {padding_idx}")
        padding_idx = padding_idx + count if padding_idx < 0 else padding_idx
    rows = embedding(flat, weight)  # [L, D]
    keep = None if padding_idx is None else (flat != padding_idx)
    if mode == "max":
        if keep is not None:
            rows = rows.masked_fill(~keep.unsqueeze(1), float("-inf"))
        if input.dim() == 2:
            out: Tensor = rows.reshape(bags, input.shape[1], -1).max(dim=1).values
        else:  # bags of any length: each column's largest row, an empty bag left at 0
            where = ids.unsqueeze(1).expand(-1, weight.shape[1])
            out = _functions.zeros(bags, weight.shape[1]).scatter_reduce(
                0, where, rows, "amax", include_self=False)
        return out.masked_fill(out == float("-inf"), 0.0)  # a bag of padding only
    scale = None if per_sample_weights is None else _functions.as_tensor(per_sample_weights)
    if keep is not None:
        scale = keep.to(rows.dtype) if scale is None else scale * keep
    if scale is not None:
        rows = rows * scale.unsqueeze(1)
    total: Tensor = _functions.zeros(bags, weight.shape[1]).index_add(0, ids, rows)
    if mode == "sum":
        return total
    counted = _functions.ones(flat.shape[0]) if keep is None else keep.to(rows.dtype)
    count = _functions.zeros(bags).index_add(0, ids, counted)
    out = total / count.clamp(min=1).unsqueeze(1)
    return out
