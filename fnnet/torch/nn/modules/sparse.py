"""``nn.Embedding``, computed by ``fnnet.nn.Embedding``."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.torch.nn.functional import check_indices
from fnnet.torch.nn.modules._layer import Wrapped
from fnnet.torch.nn.modules._reset import Resettable
from fnnet.torch.tensor import Tensor


class Embedding(Resettable, Wrapped):
    """A table of vectors indexed by integer tensors.

    PyTorch equivalent: ``torch.nn.Embedding`` (``max_norm`` and ``sparse`` are not
    supported).
    """

    _params = ("weight",)

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: Any = None,
                 max_norm: Any = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Any = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        for name, value in (("max_norm", max_norm is not None),
                            ("scale_grad_by_freq", scale_grad_by_freq), ("sparse", sparse),
                            ("_weight", _weight is not None)):
            if value:
                raise NotImplementedError(f"fnnet.torch: nn.Embedding({name}=...) is not "
                                          f"supported")
        super().__init__()
        fn = fnn.Embedding(num_embeddings, embedding_dim, padding_idx)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = fn.padding_idx
        self._wrap(fn)
        if _freeze:
            self.weight.requires_grad_(False)

    def forward(self, input: Tensor) -> Tensor:
        check_indices(input, self.num_embeddings)
        out: Tensor = super().forward(input)
        return out

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: Any = None, **kwargs: Any) -> Embedding:
        """PyTorch equivalent: ``torch.nn.Embedding.from_pretrained``."""
        rows, cols = embeddings.shape
        module = cls(rows, cols, padding_idx, **kwargs)
        module.weight.data = embeddings
        module.weight.requires_grad_(not freeze)
        return module
