"""``torch.testing.make_tensor``: a tensor of a given shape and dtype filled with random
values in ``[low, high)``, drawn from the global generator as PyTorch's draws them
(``randint`` for booleans and integers, ``uniform_`` for floating and complex types), so
a test seeded with ``torch.manual_seed`` gets PyTorch's values.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from fnnet.torch import _dtypes

#: the bounds PyTorch draws between where ``low`` or ``high`` is None
_DEFAULT_LOW, _DEFAULT_HIGH, _DEFAULT_HIGH_INTEGRAL = -9, 9, 10


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """``make_tensor(2, 3)`` or ``make_tensor((2, 3))``'s sizes."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(size) for size in shape)


def _bounds(low: float | None, high: float | None, dtype: Any, lowest: float,
            highest: float, default_high: float) -> tuple[float, float]:
    """``[low, high)`` with PyTorch's defaults, checked and clamped to what ``dtype`` holds
    (``[lowest, highest)``); rounded up to integers for an integral dtype."""
    low = _DEFAULT_LOW if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and "
                         f"high={high}")
    if low == high and (dtype.is_floating_point or dtype.is_complex):
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                      "complex types is deprecated since 2.1 and will be removed in 2.3. "
                      "Use `torch.full(...)` instead.", FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, "
                         f"{high}), but {dtype} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if dtype.is_floating_point or dtype.is_complex:
        return low, high
    return math.ceil(low), math.ceil(high)


def make_tensor(*shape: Any, dtype: Any, device: Any, low: float | None = None,
                high: float | None = None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format: Any = None) -> Any:
    """A tensor of ``shape`` and ``dtype`` with random values in ``[low, high)``
    (``[-9, 9)`` for floating and complex types, ``[-9, 10)`` for integers, clamped to
    the dtype's range; booleans are drawn as 0 or 1).

    Args:
        shape: the sizes, as integers or one sequence.
        dtype, device: the tensor's.
        low, high: the interval drawn from.
        requires_grad: a leaf that requires grad (floating and complex types only).
        noncontiguous: a view taking every other element of a tensor twice as long in
            its last dimension (for more than one element).
        exclude_zero: zeros replaced by 1 (integers) or the dtype's smallest normal
            number.
        memory_format: a ``torch.memory_format`` the result is cloned into.

    Raises:
        TypeError: ``dtype`` is not a torch dtype (PyTorch's words).
        ValueError: ``low``/``high`` NaN, in the wrong order or outside the dtype's range,
            or ``requires_grad`` for an integral or boolean dtype (PyTorch's words).

    PyTorch equivalent: ``torch.testing.make_tensor``.
    """
    import fnnet.torch as torch
    from fnnet.torch._complex import view_as_real

    if not isinstance(dtype, _dtypes.dtype):
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        f"torch.testing.make_tensor(). To request support, file an issue "
                        f"at: https://github.com/pytorch/pytorch/issues")
    integral = not (dtype.is_floating_point or dtype.is_complex)
    if requires_grad and integral:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={dtype}")
    sizes = _shape(shape)
    numel = math.prod(sizes)
    # a noncontiguous tensor is every other element of one twice as long
    drawn = (*sizes[:-1], 2 * sizes[-1]) if noncontiguous and numel > 1 else sizes
    if dtype is torch.bool:
        result = torch.randint(0, 2, drawn, device=device, dtype=dtype)
    elif integral:
        info = torch.iinfo(dtype)
        top = info.max + (1 if dtype is not torch.int64 else 0)
        low, high = _bounds(low, high, dtype, info.min, top, _DEFAULT_HIGH_INTEGRAL)
        result = torch.randint(int(low), int(high), drawn, device=device, dtype=dtype)
    else:
        limits = torch.finfo(dtype)
        low, high = _bounds(low, high, dtype, limits.min, limits.max, _DEFAULT_HIGH)
        result = torch.empty(drawn, device=device, dtype=dtype)
        real = view_as_real(result) if dtype.is_complex else result
        if high - low >= limits.max:  # the width overflows: draw half of it, doubled
            real.uniform_(low / 2, high / 2).mul_(2)
        else:
            real.uniform_(low, high)
    if drawn != sizes:
        result = result[..., 1::2]
    if exclude_zero:
        result[result == 0] = 1 if integral else torch.finfo(dtype).tiny
    if memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if requires_grad:
        result.requires_grad_(True)
    return result
