"""``F.adaptive_max_pool1d``/``3d``: one recorded call of fnnet's function each (the 2-D
form lives with the other pools); the 1-D form also gives the indices."""

from __future__ import annotations

from typing import Any

from fnnet.nn import functional as fnf
from fnnet.torch.tensor import Tensor, _op, _op_multi


def _size(output_size: Any) -> Any:
    return tuple(output_size) if isinstance(output_size, list) else output_size


def no_indices(who: str, return_indices: bool) -> None:
    if return_indices:
        raise NotImplementedError(f"fnnet.torch: {who}(return_indices=True) is not supported")


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False
                        ) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool1d`` (with
    ``return_indices``, ``(values, indices)``)."""
    if return_indices:
        values, indices = _op_multi(fnf.adaptive_max_pool1d_with_indices,
                                    (_size(output_size),), input, who="adaptive_max_pool1d")
        return values, indices  # type: ignore[return-value]
    return _op(fnf.adaptive_max_pool1d, (_size(output_size),), input,
               who="adaptive_max_pool1d")


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False
                        ) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool3d`` (without indices)."""
    no_indices("adaptive_max_pool3d", return_indices)
    return _op(fnf.adaptive_max_pool3d, (_size(output_size),), input,
               who="adaptive_max_pool3d")

