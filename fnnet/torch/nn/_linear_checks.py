"""PyTorch's errors for ``linear``'s operands, shared by ``nn.Linear`` and
``F.linear``: their element types, then their sizes (``mat1 and mat2 shapes cannot be
multiplied (64x784 and 785x64)``), checked before anything is recorded."""

from __future__ import annotations

import math
from typing import Any

from fnnet.torch._mixed_dtypes import check_linear


def check_linear_operands(input: Any, weight: Any, bias: Any = None, *static: Any) -> None:
    """Raises PyTorch's RuntimeError for ``linear(input, weight, bias)`` whose operands
    differ in dtype, or whose input's last dimension is not the weight's (the weight's
    own shape: a tied or replaced weight need not be ``in_features`` wide)."""
    del static
    check_linear(input, weight, bias)
    shape, rank = tuple(input.shape), weight.dim()
    if not shape:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"0D and {rank}D")
    rows = math.prod(shape[:-1])
    if rank == 1 and shape[-1] != weight.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{shape[-1]}), "
                           f"vec ({weight.shape[0]})")
    if rank == 2 and shape[-1] != weight.shape[1]:
        out_features, in_features = tuple(weight.shape)
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{shape[-1]} "
                           f"and {in_features}x{out_features})")
