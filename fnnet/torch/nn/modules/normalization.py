"""``nn.LayerNorm``, computed by ``fnnet.nn.LayerNorm``, and ``nn.GroupNorm`` over
``F.group_norm``."""

from __future__ import annotations

from typing import Any

import fnnet.nn as fnn
from fnnet.nn.init import constant
from fnnet.torch.nn import functional as F
from fnnet.torch.nn import init
from fnnet.torch.nn._group_norm import group_norm
from fnnet.torch.nn.modules._layer import Wrapped, filled_in_place
from fnnet.torch.nn.modules._reset import Resettable
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor


class LayerNorm(Resettable, Wrapped):
    """PyTorch equivalent: ``torch.nn.LayerNorm``."""

    _params = ("weight", "bias")

    def __init__(self, normalized_shape: Any, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        fn = fnn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)
        self.normalized_shape, self.eps = fn.normalized_shape, eps
        self.elementwise_affine = elementwise_affine
        self._wrap(fn)
        self._factory_kwargs(device, dtype)

    def _check_input(self, input: Tensor, *rest: Any) -> None:
        F._check_normalized_shape(input, self.normalized_shape)


class GroupNorm(Module):
    """PyTorch equivalent: ``torch.nn.GroupNorm`` (weight ones, bias zeros)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, \
            num_channels, eps, affine
        self.has_bias = bool(affine and bias)  # PyTorch's repr shows bias=False unless both
        self.register_parameter("weight", Parameter._from_array(
            constant((num_channels,), 1.0)) if affine else None)
        self.register_parameter("bias", Parameter._from_array(
            constant((num_channels,), 0.0)) if self.has_bias else None)
        filled_in_place(self)
        self._factory_kwargs(device, dtype)

    def reset_parameters(self) -> None:
        """Weight ones and bias zeros again. PyTorch equivalent:
        ``torch.nn.GroupNorm.reset_parameters``."""
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
                f", bias={self.has_bias}")
