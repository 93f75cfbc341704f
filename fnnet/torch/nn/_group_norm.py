"""``F.group_norm``: one recorded call of fnnet's ``group_norm``."""

from __future__ import annotations

import jax

from fnnet.nn import functional as fnf
from fnnet.torch.tensor import Tensor, _op


def _group_norm(x: jax.Array, weight: jax.Array | None, bias: jax.Array | None,
                num_groups: int, eps: float) -> jax.Array:
    return fnf.group_norm(x, num_groups, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """PyTorch equivalent: ``torch.nn.functional.group_norm``."""
    return _op(_group_norm, (int(num_groups), float(eps)), input, weight, bias,
               who="group_norm")
