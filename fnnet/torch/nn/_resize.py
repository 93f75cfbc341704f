"""``torch.nn.functional.interpolate``: one recorded call of fnnet's ``interpolate``."""

from __future__ import annotations

import warnings
from typing import Any

from fnnet.nn import functional as fnf
from fnnet.nn.functional.resize import output_size
from fnnet.torch.tensor import Tensor, _op


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


#: the modes PyTorch resizes each rank of input with (``lanczos`` is not fnnet's)
_RANK_MODES = {3: ("nearest", "nearest-exact", "area", "linear"),
               4: ("nearest", "nearest-exact", "area", "bilinear", "bicubic", "lanczos"),
               5: ("nearest", "nearest-exact", "area", "trilinear")}
#: the input rank each mode of one rank needs, as PyTorch's errors name it
_NEEDS = {"linear": 3, "bilinear": 4, "trilinear": 5}
_AXES = ("D", "H", "W")


def _check_arguments(input: Tensor, size: Any, scale_factor: Any, mode: str,
                     align_corners: bool | None, recompute_scale_factor: bool | None,
                     antialias: bool) -> None:
    """PyTorch's errors for ``interpolate``'s arguments, in its order and words (fnnet's
    own ``interpolate`` words its errors for fnnet's users)."""
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    rank, spatial = input.dim(), list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    factors: list[Any] | None = None
    if size is not None and isinstance(size, (list, tuple)):
        if len(size) != rank - 2:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {spatial} "
                             f"and output size of {size}. Please provide input tensor in (N, "
                             f"C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                             f"format.")
        if not all(isinstance(n, int) for n in size):
            raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] "
                            f"or Tuple[int, int, int], but got size with types "
                            f"{[type(n) for n in size]}")
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)) and len(scale_factor) != rank - 2:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {spatial} "
                             f"and scale_factor of shape {scale_factor}. Please provide input "
                             f"tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                             f"(s1, s2, ...,sK) format.")
        factors = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else \
            [scale_factor] * (rank - 2)
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if antialias and not (mode in ("bilinear", "bicubic") and rank == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if mode not in _RANK_MODES.get(rank, ()):
        if rank in _RANK_MODES and mode in _NEEDS:
            raise NotImplementedError(f"Got {rank}D input, but {mode} mode needs "
                                      f"{_NEEDS[mode]}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {rank}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    try:
        out = [int(n * float(f) // 1) for n, f in zip(spatial, factors, strict=True)] \
            if factors is not None else list(size) if isinstance(size, (list, tuple)) \
            else [int(size)] * (rank - 2)
    except (TypeError, ValueError):
        return  # not numbers: fnnet's interpolate words it
    if min(out) <= 0:
        axes = _AXES[-(rank - 2):]
        given = ", ".join(f"{a}: {n}" for a, n in zip(axes, spatial, strict=True))
        made = ", ".join(f"{a}: {n}" for a, n in zip(axes, out, strict=True))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({given}) output ({made})")


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False
                ) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.interpolate`` (modes ``nearest``,
    ``nearest-exact``, ``linear``, ``bilinear``, ``bicubic``, ``trilinear``, ``area``)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    _check_arguments(input, size, scale_factor, mode, align_corners, recompute_scale_factor,
                     antialias)
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
