"""``F.adaptive_max_pool1d``/``3d`` and the ``*_with_indices`` forms: one recorded call of
fnnet's function each (the 2-D pool lives with the other pools)."""

from __future__ import annotations

from typing import Any

from fnnet.nn import functional as fnf
from fnnet.torch.tensor import Tensor, _op, _op_multi


def _size(output_size: Any) -> Any:
    return tuple(output_size) if isinstance(output_size, list) else output_size


def _pool(who: str, with_indices: Any, without: Any, input: Tensor, output_size: Any,
          return_indices: bool) -> Any:
    if return_indices:
        values, indices = _op_multi(with_indices, (_size(output_size),), input, who=who)
        return values, indices
    return _op(without, (_size(output_size),), input, who=who)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False
                        ) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool1d`` (with
    ``return_indices``, ``(values, indices)``)."""
    return _pool("adaptive_max_pool1d", fnf.adaptive_max_pool1d_with_indices,  # type: ignore[no-any-return]
                 fnf.adaptive_max_pool1d, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False
                        ) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool3d`` (with
    ``return_indices``, ``(values, indices)``)."""
    return _pool("adaptive_max_pool3d", fnf.adaptive_max_pool3d_with_indices,  # type: ignore[no-any-return]
                 fnf.adaptive_max_pool3d, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool1d_with_indices``."""
    return adaptive_max_pool1d(input, output_size, True)  # type: ignore[return-value]


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool2d_with_indices``."""
    from fnnet.torch.nn.functional import adaptive_max_pool2d

    return adaptive_max_pool2d(input, output_size, True)  # type: ignore[return-value]


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_max_pool3d_with_indices``."""
    return adaptive_max_pool3d(input, output_size, True)  # type: ignore[return-value]
