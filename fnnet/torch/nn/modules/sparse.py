"""``nn.Embedding``, computed by ``fnnet.nn.Embedding``, and ``nn.EmbeddingBag``."""

from __future__ import annotations

from typing import Any

import numpy as np

import fnnet.nn as fnn
from fnnet.torch import _functions, _random
from fnnet.torch._autograd import no_grad
from fnnet.torch._sparse_gradients import mark as mark_sparse_gradient
from fnnet.torch.nn import init
from fnnet.torch.nn._embedding import check_indices, renorm_rows_
from fnnet.torch.nn._embedding_bag import check_options, embedding_bag
from fnnet.torch.nn.modules._layer import Wrapped, filled_in_place
from fnnet.torch.nn.modules._reset import Resettable
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor


class Embedding(Resettable, Wrapped):
    """A table of vectors indexed by integer tensors.

    With ``sparse=True`` the gradient of ``weight`` is held dense (zeros in the rows not
    looked up); SparseAdam updates the looked-up rows only, as PyTorch's, and the
    optimizers PyTorch refuses a sparse gradient to refuse it too.

    PyTorch equivalent: ``torch.nn.Embedding`` (``scale_grad_by_freq`` is not supported).
    """

    _params = ("weight",)
    _draws_all = True

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: Any = None,
                 max_norm: Any = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Any = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        if scale_grad_by_freq:
            raise NotImplementedError("fnnet.torch: nn.Embedding(scale_grad_by_freq=...) is "
                                      "not supported")
        super().__init__()
        fn = fnn.Embedding(num_embeddings, embedding_dim, padding_idx)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = fn.padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is not None:
            # a given table (from_pretrained's) is taken as it is: PyTorch draws nothing,
            # so the global generator stays where it was, and leaves the padding row
            _weight = _functions.as_tensor(_weight)
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            object.__setattr__(self, "_given_weight", _weight)
        self._wrap(fn)
        given = self.__dict__.pop("_given_weight", None)
        if given is not None:
            self.weight._cell.version = 0
        elif self.padding_idx is not None:  # PyTorch zeroes its row after drawing the table
            filled_in_place(self, 2)
        self._factory_kwargs(device, dtype)
        if _freeze:
            self.weight.requires_grad_(False)

    def _drawn_parameters(self, params: dict[str, Any]) -> dict[str, Any]:
        """PyTorch's ``reset_parameters``: ``normal_(weight)``, then the padding row
        zeroed."""
        given = self.__dict__.get("_given_weight")
        if given is not None:
            return {"weight": np.array(given.detach().numpy())}
        weight = params["weight"]
        drawn = _random.state.host.normal(weight.shape, weight.dtype)
        if self._fn.padding_idx is not None:
            drawn[self._fn.padding_idx] = 0
        return {"weight": drawn}

    def forward(self, input: Tensor) -> Tensor:
        check_indices(input, self.num_embeddings)
        if self.sparse:
            mark_sparse_gradient(self.weight)
        if self.max_norm is not None:
            renorm_rows_(self.weight, input, self.max_norm, self.norm_type)
        out: Tensor = super().forward(input)
        return out

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        return text + (", sparse=True" if self.sparse else "")

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: Any = None, **kwargs: Any) -> Embedding:
        """PyTorch equivalent: ``torch.nn.Embedding.from_pretrained``."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, _weight=embeddings, _freeze=freeze, **kwargs)


class EmbeddingBag(Module):
    """Sums, averages or takes the maximum of bags of embeddings, without the
    ``[B, N, D]`` intermediate of ``Embedding`` followed by a reduction in PyTorch.

    Args:
        num_embeddings, embedding_dim: the table's size; initialised ``N(0, 1)``.
        mode: ``"mean"`` (default), ``"sum"`` or ``"max"``.
        include_last_offset: ``offsets`` has one more entry, the end of the last bag.
        padding_idx: an index left out of every bag (its row starts at zeros).

    PyTorch equivalent: ``torch.nn.EmbeddingBag`` (see :func:`embedding_bag` for what
    is not supported).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: Any = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 mode: str = "mean", sparse: bool = False, _weight: Any = None,
                 include_last_offset: bool = False, padding_idx: int | None = None,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_options("nn.EmbeddingBag", max_norm, scale_grad_by_freq, sparse, None)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.mode, self.include_last_offset = mode, include_last_offset
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, None, norm_type
        self.scale_grad_by_freq, self.sparse = False, sparse
        if _weight is None:
            weight = _functions.randn(num_embeddings, embedding_dim)
            if padding_idx is not None:
                weight[padding_idx] = 0.0
        else:
            weight = _functions.as_tensor(_weight)
        self.weight = Parameter(weight)
        if _weight is None:
            filled_in_place(self, 1 if padding_idx is None else 2)
        self._factory_kwargs(device, dtype)

    def reset_parameters(self) -> None:
        """The table drawn ``N(0, 1)`` again from the global generator, the padding row
        zeros. PyTorch equivalent: ``torch.nn.EmbeddingBag.reset_parameters``."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input: Tensor, offsets: Any = None,
                per_sample_weights: Any = None) -> Tensor:
        return embedding_bag(input, self.weight, offsets, mode=self.mode, sparse=self.sparse,
                             per_sample_weights=per_sample_weights,
                             include_last_offset=self.include_last_offset,
                             padding_idx=self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}, mode='{self.mode}'"
        return text + ("" if self.padding_idx is None else f", padding_idx={self.padding_idx}")

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, max_norm: Any = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx: int | None = None
                        ) -> EmbeddingBag:
        """PyTorch equivalent: ``torch.nn.EmbeddingBag.from_pretrained``."""
        rows, cols = embeddings.shape
        module = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                     np.asarray(embeddings.detach().numpy() if isinstance(embeddings, Tensor)
                                else embeddings), include_last_offset, padding_idx)
        module.weight.requires_grad_(not freeze)
        return module
