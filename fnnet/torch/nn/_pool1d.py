"""What 1-D pooling (``F.max_pool1d``, ``F.avg_pool1d``, ``F.adaptive_avg_pool1d`` and
their modules) shares: sizes of one int, and ``[N, C, L]`` seen as ``[N, C, 1, L]`` so that
a ``(1, k)`` window of fnnet's 2-D pooling does the arithmetic."""

from __future__ import annotations

from typing import Any

from fnnet.torch.tensor import Tensor


def single(value: Any, name: str) -> int:
    """``value`` (an int or a sequence of one int) as an int; ``name`` is the argument's."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a tuple of one int, got {value!r}")
        value = value[0]
    return int(value)


def as_2d(input: Tensor, who: str) -> Tensor:
    """``[C, L]`` or ``[N, C, L]`` as ``[C, 1, L]`` or ``[N, C, 1, L]``."""
    if not isinstance(input, Tensor) or input.dim() not in (2, 3):
        got = f"shape {tuple(input.shape)}" if isinstance(input, Tensor) else \
            type(input).__name__
        raise ValueError(f"{who}: expected a 2-D or 3-D tensor ([C, L] or [N, C, L]), got "
                         f"{got}")
    return input.unsqueeze(-2)
