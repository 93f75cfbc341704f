"""``torch.nn.functional.interpolate``: one recorded call of fnnet's ``interpolate``."""

from __future__ import annotations

import warnings
from typing import Any

from fnnet.nn import functional as fnf
from fnnet.nn.functional.resize import output_size
from fnnet.torch.tensor import Tensor, _op


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False
                ) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.interpolate`` (modes ``nearest``,
    ``nearest-exact``, ``linear``, ``bilinear``, ``bicubic``, ``trilinear``, ``area``)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if (size is None) == (scale_factor is None):  # PyTorch's error, unprefixed
        output_size(tuple(input.shape[2:]), size, scale_factor)
    if recompute_scale_factor and scale_factor is not None:
        # the output size from the factor, then positions from the sizes, as PyTorch
        size = output_size(tuple(input.shape[2:]), None, _hashable(scale_factor))
        scale_factor = None
    return _op(fnf.interpolate, (_hashable(size), _hashable(scale_factor), mode,
                                 align_corners, bool(antialias)), input, who="interpolate")


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None,
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """PyTorch's deprecated alias of :func:`interpolate`, with its warning."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)
