"""``nn.CosineSimilarity`` and ``nn.PairwiseDistance`` over their functional forms."""

from __future__ import annotations

from fnnet.torch.nn._distance import cosine_similarity, pairwise_distance
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.tensor import Tensor


class CosineSimilarity(Module):
    """PyTorch equivalent: ``torch.nn.CosineSimilarity``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """PyTorch equivalent: ``torch.nn.PairwiseDistance``."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
