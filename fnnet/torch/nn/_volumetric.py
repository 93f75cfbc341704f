"""``F.conv3d``, ``F.max_pool3d``, ``F.avg_pool3d``, ``F.adaptive_avg_pool3d`` and the
1-D/3-D transposed convolutions: one recorded call of fnnet's function each (see
:mod:`fnnet.nn.functional.volumetric`)."""

from __future__ import annotations

from typing import Any

from fnnet.nn.functional import volumetric as V
from fnnet.torch import _mixed_dtypes as mixed_dtypes
from fnnet.torch.tensor import Tensor, _op, _op_multi


def _hashable(value: Any) -> Any:
    """A static argument as a tuple where it is a list (compiled steps key on it)."""
    return tuple(value) if isinstance(value, list) else value


def _check_rank(input: Any, dims: int, op: str) -> None:
    if isinstance(input, Tensor) and input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input "
                           f"to {op}, but got input of size: {list(input.shape)}")


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.conv3d``."""
    _check_rank(input, 3, "conv3d")
    if isinstance(padding, str) and padding not in ("valid", "same"):
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    return _op(V.conv3d, (_hashable(stride), _hashable(padding), _hashable(dilation),
                          int(groups)), input, weight, bias, check=mixed_dtypes.check_conv,
               who="conv3d")


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.conv_transpose1d``."""
    _check_rank(input, 1, "conv_transpose1d")
    one = [v[0] if isinstance(v, (tuple, list)) and len(v) == 1 else v
           for v in (stride, padding, output_padding, dilation)]
    return _op(V.conv_transpose1d, (one[0], one[1], one[2], int(groups), one[3]), input,
               weight, bias, check=mixed_dtypes.check_conv_transpose, who="conv_transpose1d")


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.conv_transpose3d``."""
    _check_rank(input, 3, "conv_transpose3d")
    return _op(V.conv_transpose3d, (_hashable(stride), _hashable(padding),
                                    _hashable(output_padding), int(groups),
                                    _hashable(dilation)),
               input, weight, bias, check=mixed_dtypes.check_conv_transpose,
               who="conv_transpose3d")


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.max_pool3d`` (with ``return_indices``,
    ``(values, indices)`` by ``fnnet.nn.functional.max_pool3d_with_indices``)."""
    static = (_hashable(kernel_size), _hashable(stride), _hashable(padding),
              _hashable(dilation), bool(ceil_mode))
    if return_indices:
        values, indices = _op_multi(V.max_pool3d_with_indices, static, input,
                                    who="max_pool3d")
        return values, indices  # type: ignore[return-value]
    return _op(V.max_pool3d, static, input, who="max_pool3d")


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Any = None) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.avg_pool3d``."""
    return _op(V.avg_pool3d, (_hashable(kernel_size), _hashable(stride), _hashable(padding),
                              bool(ceil_mode), bool(count_include_pad), divisor_override),
               input, who="avg_pool3d")


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.adaptive_avg_pool3d``."""
    return _op(V.adaptive_avg_pool3d, (_hashable(output_size),), input,
               who="adaptive_avg_pool3d")
