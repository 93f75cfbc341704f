"""``torch.nn.functional.cosine_similarity`` and ``pairwise_distance``, ``torch.cdist``
one recorded call each of fnnet's ``functional.distance``."""

from __future__ import annotations

from typing import Any

from fnnet.nn import functional as fnf
from fnnet.torch.tensor import Tensor, _op


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.cosine_similarity``."""
    return _op(fnf.cosine_similarity, (int(dim), float(eps)), x1, x2,
               who="cosine_similarity")


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.pairwise_distance``."""
    return _op(fnf.pairwise_distance, (float(p), float(eps), bool(keepdim)), x1, x2,
               who="pairwise_distance")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.cdist`` (``compute_mode`` accepted: one exact way)."""
    del compute_mode
    return _op(fnf.cdist, (float(p),), x1, x2, who="cdist")
