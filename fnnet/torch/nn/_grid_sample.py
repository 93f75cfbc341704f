"""``torch.nn.functional.affine_grid`` and ``grid_sample`` (spatial transformers): one
recorded call each of fnnet's functions of those names, after PyTorch's checks in its
words."""

from __future__ import annotations

import warnings
from typing import Any

from fnnet.nn import functional as fnf
from fnnet.torch._dtypes import scalar_name
from fnnet.torch.tensor import Tensor, _op

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if "
                  "the old behavior is desired. See the documentation of grid_sample for "
                  "details.")


def _check_tensor(who: str, name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{who}(): argument '{name}' must be Tensor, not "
                        f"{type(value).__name__}")


def _align_corners(value: bool | None) -> bool:
    if value is None:  # PyTorch's warning, stacklevel pointing at the user's call
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=3)
        return False
    return bool(value)


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """``[N, H, W, 2]`` (or ``[N, D, H, W, 3]``) sampling points of the affine maps
    ``theta [N, 2, 3]`` (or ``[N, 3, 4]``) for an output of ``size (N, C, H, W)`` (or
    ``(N, C, D, H, W)``). PyTorch equivalent: ``torch.nn.functional.affine_grid``."""
    _check_tensor("affine_grid", "theta", theta)
    corners = _align_corners(align_corners)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got "
                         f"{theta.dtype}")
    # the messages show ``size`` as given (a tuple, a list or a torch.Size)
    if len(size) in (4, 5):
        k = len(size) - 2
        if theta.dim() != 3 or tuple(theta.shape[1:]) != (k, k + 1):
            raise ValueError(f"Expected a batch of {k}D affine matrices of shape "
                             f"Nx{k}x{k + 1} for size {size}. Got {theta.shape}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and "
                                  f"3D affine transforms, respectively. Got size {size}.")
    dims = tuple(int(s) for s in size)
    if corners and min(dims[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      UserWarning, stacklevel=2)
    elif min(dims) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if dims[0] != theta.shape[0]:  # PyTorch's batched matrix product of the base grid
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{dims[0]}, {k + 1}] but got: [{theta.shape[0]}, {k + 1}].")
    return _op(fnf.affine_grid, (dims, corners), theta, who="affine_grid")


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",  # noqa: A002
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """``input [N, C, H, W]`` sampled at ``grid [N, H_out, W_out, 2]``, or ``input [N, C,
    D, H, W]`` at ``grid [N, D_out, H_out, W_out, 3]``. PyTorch equivalent:
    ``torch.nn.functional.grid_sample``."""
    _check_tensor("grid_sample", "input", input)
    _check_tensor("grid_sample", "grid", grid)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    corners = _align_corners(align_corners)
    sizes = f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
    if input.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {scalar_name(input.dtype)} but found "
                           f"{scalar_name(grid.dtype)}")
    if input.dim() > 0 and grid.dim() > 0 and input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch "
                           f"size, but got {sizes}")
    if grid.dim() > 0 and grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in "
                           f"last dimension, but got grid with sizes {list(grid.shape)}")
    for axis in range(2, input.dim()):
        if input.shape[axis] == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {axis} being empty")
    rank = 4 if input.dim() == 4 else 5
    if input.dim() != rank or grid.dim() != rank:
        raise RuntimeError(f"grid_sampler(): expected {rank}D input and grid with same "
                           f"number of dimensions, but got {sizes}")
    if rank == 5 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    op = fnf.grid_sample if rank == 4 else _grid_sample_3d
    return _op(op, (mode, padding_mode, corners), input, grid, who="grid_sample")


def _grid_sample_3d(x: Any, grid: Any, mode: str, padding_mode: str,
                    align_corners: bool) -> Any:
    """fnnet's grid_sample of a volume: an op of its own, whose node is PyTorch's
    ``GridSampler3DBackward0``."""
    return fnf.grid_sample(x, grid, mode, padding_mode, align_corners)
