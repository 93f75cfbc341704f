"""``torch._foreach_*``: one operation over a list of tensors, as the EMA and optimizer
code of larger projects writes it (``torch._foreach_lerp_(ema, params, 1 - decay)``).

PyTorch fuses each call into few kernels; here each is the tensor operation of its name
applied to every tensor in turn: recorded lazily, it compiles into the step as one
program all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fnnet.torch.tensor import Tensor


def _per_tensor(tensors: Sequence[Tensor], other: Any) -> list[Any]:
    """``other`` for each of ``tensors``: a list (or tuple) of as many, else one value."""
    if isinstance(other, (list, tuple)):
        if len(other) != len(tensors):
            raise RuntimeError(f"Tensor lists must have the same number of tensors, got "
                               f"{len(tensors)} and {len(other)}")
        return list(other)
    return [other] * len(tensors)


def _foreach_add_(self: Sequence[Tensor], other: Any, *, alpha: float = 1) -> None:
    """PyTorch equivalent: ``torch._foreach_add_``."""
    for t, o in zip(self, _per_tensor(self, other), strict=True):
        t.add_(o, alpha=alpha)


def _foreach_add(self: Sequence[Tensor], other: Any, *,
                 alpha: float = 1) -> tuple[Tensor, ...]:
    """PyTorch equivalent: ``torch._foreach_add``."""
    return tuple(t.add(o, alpha=alpha) for t, o in zip(self, _per_tensor(self, other),
                                                       strict=True))


def _foreach_sub_(self: Sequence[Tensor], other: Any, *, alpha: float = 1) -> None:
    """PyTorch equivalent: ``torch._foreach_sub_``."""
    for t, o in zip(self, _per_tensor(self, other), strict=True):
        t.sub_(o, alpha=alpha)


def _foreach_mul_(self: Sequence[Tensor], other: Any) -> None:
    """PyTorch equivalent: ``torch._foreach_mul_``."""
    for t, o in zip(self, _per_tensor(self, other), strict=True):
        t.mul_(o)


def _foreach_mul(self: Sequence[Tensor], other: Any) -> tuple[Tensor, ...]:
    """PyTorch equivalent: ``torch._foreach_mul``."""
    return tuple(t.mul(o) for t, o in zip(self, _per_tensor(self, other), strict=True))


def _foreach_div_(self: Sequence[Tensor], other: Any) -> None:
    """PyTorch equivalent: ``torch._foreach_div_``."""
    for t, o in zip(self, _per_tensor(self, other), strict=True):
        t.div_(o)


def _foreach_lerp_(self: Sequence[Tensor], tensors1: Sequence[Tensor], weight: Any) -> None:
    """PyTorch equivalent: ``torch._foreach_lerp_``."""
    for t, end, w in zip(self, _per_tensor(self, list(tensors1)),
                         _per_tensor(self, weight), strict=True):
        t.lerp_(end, w)


def _foreach_copy_(self: Sequence[Tensor], src: Sequence[Tensor],
                   non_blocking: bool = False) -> None:
    """PyTorch equivalent: ``torch._foreach_copy_``."""
    for t, s in zip(self, _per_tensor(self, list(src)), strict=True):
        t.copy_(s)


def _foreach_zero_(self: Sequence[Tensor]) -> None:
    """PyTorch equivalent: ``torch._foreach_zero_``."""
    for t in self:
        t.zero_()


def _foreach_norm(self: Sequence[Tensor], ord: float = 2) -> tuple[Tensor, ...]:  # noqa: A002
    """PyTorch equivalent: ``torch._foreach_norm``."""
    return tuple(t.norm(ord) for t in self)
