"""``F.gumbel_softmax``, ``F.local_response_norm`` and the deprecated
``F.upsample_nearest``/``F.upsample_bilinear``, over fnnet's functions and the shim's
``interpolate``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from fnnet.nn import functional as fnf
from fnnet.torch import _random
from fnnet.torch.nn._resize import interpolate
from fnnet.torch.tensor import Tensor, _op, _wrap_value


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """``interpolate(mode="nearest")``, with PyTorch's deprecation warning.

    PyTorch equivalent: ``torch.nn.functional.upsample_nearest``.
    """
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """``interpolate(mode="bilinear", align_corners=True)``, with PyTorch's deprecation
    warning. PyTorch equivalent: ``torch.nn.functional.upsample_bilinear``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax (concrete) distribution over ``dim``: the softmax of
    ``(logits + Gumbel noise) / tau``; with ``hard``, the one-hot of its largest entry in
    the forward pass and the soft sample's gradient (straight-through). The noise is
    PyTorch's, ``-log(q)`` for ``q ~ Exp(1)`` drawn from the global generator.

    PyTorch equivalent: ``torch.nn.functional.gumbel_softmax``.
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning,
                      stacklevel=2)
    kind = logits.dtype.np
    drawn = _random.state.host.exponential(tuple(logits.shape), 1.0).astype(kind)
    noise = _wrap_value(-np.log(drawn))
    y_soft = ((logits + noise) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = logits.new_zeros(tuple(logits.shape)).scatter_(dim, index, 1.0)
    out: Tensor = y_hard - y_soft.detach() + y_soft
    return out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.local_response_norm``."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          "
                         f"input (got {input.dim()} dimensions)")
    return _op(fnf.local_response_norm, (int(size), float(alpha), float(beta), float(k)),
               input, who="local_response_norm")
