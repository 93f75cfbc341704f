"""``torch.nn.functional.affine_grid`` and ``grid_sample`` (spatial transformers): one
recorded call each of fnnet's functions of those names."""

from __future__ import annotations

from typing import Any

from fnnet.nn import functional as fnf
from fnnet.torch.tensor import Tensor, _op


def _check_tensor(who: str, name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{who}(): argument '{name}' must be Tensor, not "
                        f"{type(value).__name__}")


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """``[N, H, W, 2]`` sampling points of the affine maps ``theta [N, 2, 3]`` for an
    output of ``size (N, C, H, W)``. PyTorch equivalent:
    ``torch.nn.functional.affine_grid`` (4-D sizes)."""
    _check_tensor("affine_grid", "theta", theta)
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError(f"fnnet.torch: affine_grid supports 4-D sizes (N, C, H, W),"
                                  f" got {size}")
    if tuple(theta.shape[1:]) != (2, 3) or theta.dim() != 3:
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                         f"{list(size)}. Got {list(theta.shape)}.")
    return _op(fnf.affine_grid, (size, bool(align_corners)), theta, who="affine_grid")


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",  # noqa: A002
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """``input [N, C, H, W]`` sampled at ``grid [N, H_out, W_out, 2]``. PyTorch
    equivalent: ``torch.nn.functional.grid_sample`` (4-D input; modes bilinear and
    nearest)."""
    _check_tensor("grid_sample", "input", input)
    _check_tensor("grid_sample", "grid", grid)
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(f"fnnet.torch: grid_sample(mode={mode!r}) is not supported "
                                  f"(bilinear and nearest are)")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if input.dim() != 4:
        raise NotImplementedError(f"fnnet.torch: grid_sample supports 4-D input, got "
                                  f"{input.dim()}-D")
    return _op(fnf.grid_sample, (mode, padding_mode, bool(align_corners)), input, grid,
               who="grid_sample")
