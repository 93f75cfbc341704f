"""``F.group_norm`` and ``nn.GroupNorm``: one recorded call of fnnet's ``group_norm``."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fnnet.nn import functional as fnf
from fnnet.torch.nn.modules.module import Module
from fnnet.torch.nn.parameter import Parameter
from fnnet.torch.tensor import Tensor, _op


def _group_norm(x: jax.Array, weight: jax.Array | None, bias: jax.Array | None,
                num_groups: int, eps: float) -> jax.Array:
    return fnf.group_norm(x, num_groups, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.group_norm``."""
    return _op(_group_norm, (int(num_groups), float(eps)), input, weight, bias,
               who="group_norm")


class GroupNorm(Module):
    """PyTorch equivalent: ``torch.nn.GroupNorm`` (weight ones, bias zeros)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: object = None, dtype: object = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, \
            num_channels, eps, affine
        self.has_bias = bool(affine and bias)  # PyTorch's repr shows bias=False unless both
        self.register_parameter("weight", Parameter._from_array(
            jnp.ones(num_channels, jnp.float32)) if affine else None)
        self.register_parameter("bias", Parameter._from_array(
            jnp.zeros(num_channels, jnp.float32)) if self.has_bias else None)

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
                f", bias={self.has_bias}")
