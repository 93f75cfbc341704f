"""``F.group_norm``: one recorded call of fnnet's ``group_norm``."""

from __future__ import annotations

import math

import jax

from fnnet.nn import functional as fnf
from fnnet.torch.tensor import Tensor, _op


def _group_norm(x: jax.Array, weight: jax.Array | None, bias: jax.Array | None,
                num_groups: int, eps: float) -> jax.Array:
    return fnf.group_norm(x, num_groups, weight, bias, eps)


def _check(input: Tensor, num_groups: int, weight: Tensor | None,
           bias: Tensor | None) -> None:
    """PyTorch's checks of ``group_norm``'s arguments, in its order and words."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    n, c = input.shape[0], input.shape[1]
    size = [n * c // num_groups, num_groups, *input.shape[2:]]  # 0 groups: ZeroDivisionError
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {size}")
    if num_groups < 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    shape = list(input.shape)
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {shape} and "
                           f"num_groups={num_groups}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and (value.dim() != 1 or value.numel() != c):
            # PyTorch names the weight's shape in both messages ([0] when there is none)
            named = [0] if weight is None else list(weight.shape)
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number "
                               f"of channels in input, but got {name} of shape {named} and "
                               f"input of shape {shape}")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.group_norm``."""
    if isinstance(input, Tensor):
        _check(input, int(num_groups), weight, bias)
    return _op(_group_norm, (int(num_groups), float(eps)), input, weight, bias,
               who="group_norm")
