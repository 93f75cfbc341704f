"""``torch.nn.functional.cosine_similarity``, ``pairwise_distance`` and ``pdist``,
``torch.cdist``: one recorded call each of fnnet's ``functional.distance``."""

from __future__ import annotations

from typing import Any

from fnnet.nn import functional as fnf
from fnnet.torch._dtypes import scalar_name
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
    if compute_mode not in (None, "use_mm_for_euclid_dist_if_necessary",
                            "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{x.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{scalar_name(x.dtype)}")
    if not p >= 0:  # NaN too
        raise RuntimeError("cdist only supports non-negative p values")
    return _op(fnf.cdist, (float(p),), x1, x2, who="cdist")


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The distances between the rows of ``input [N, M]``, ``[N * (N - 1) / 2]``.

    PyTorch equivalent: ``torch.nn.functional.pdist``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pdist(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    return _op(fnf.pdist, (float(p),), input, who="pdist")
