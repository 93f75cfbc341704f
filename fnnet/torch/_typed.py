"""PyTorch's legacy typed constructors and the ``*_like`` family.

``torch.LongTensor([0])`` is an integer tensor (int64, or int32 without jax's x64 mode,
as every fnnet.torch int64), ``torch.FloatTensor(2, 3)`` a float32 tensor of that shape,
and ``isinstance(t, torch.FloatTensor)`` checks the dtype as PyTorch does.
``torch.DoubleTensor`` is float64 only with x64 (``jax.config.update(
"jax_enable_x64", True)`` before importing fnnet.torch); without it float64 is float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fnnet.torch import _dtypes, _functions
from fnnet.torch.tensor import Size, Tensor, _shape_args


class _TypedMeta(type):
    """Calls build a tensor of the class's dtype; isinstance checks the dtype."""

    dtype: _dtypes.dtype

    def __call__(cls, *data: Any) -> Tensor:
        if not data or all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                           for d in data) or (len(data) == 1 and isinstance(data[0], Size)):
            # sizes (a torch.Size too: a plain tuple is data, ``LongTensor(batch.action)``);
            # none (``torch.FloatTensor()``) is an empty tensor, as PyTorch's
            return _functions.zeros(*(_shape_args(data) if data else (0,)), dtype=cls.dtype)
        if len(data) != 1:
            raise TypeError(f"{cls.__name__}(): expected sizes (ints) or one sequence, got "
                            f"{len(data)} arguments")
        return _functions.tensor(data[0], dtype=cls.dtype)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype  # float64 held as float32

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


def _typed(name: str, dtype: _dtypes.dtype) -> type:
    return _TypedMeta(name, (), {"dtype": dtype, "__doc__":
                                 f"PyTorch equivalent: ``torch.{name}`` ({dtype})."})


FloatTensor = _typed("FloatTensor", _dtypes.float32)
DoubleTensor = _typed("DoubleTensor", _dtypes.float64)
HalfTensor = _typed("HalfTensor", _dtypes.float16)
BFloat16Tensor = _typed("BFloat16Tensor", _dtypes.bfloat16)
LongTensor = _typed("LongTensor", _dtypes.int64)
IntTensor = _typed("IntTensor", _dtypes.int32)
ShortTensor = _typed("ShortTensor", _dtypes.int16)
CharTensor = _typed("CharTensor", _dtypes.int8)
ByteTensor = _typed("ByteTensor", _dtypes.uint8)
BoolTensor = _typed("BoolTensor", _dtypes.bool_)

TYPED = {cls.__name__: cls for cls in (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor,
                                       LongTensor, IntTensor, ShortTensor, CharTensor,
                                       ByteTensor, BoolTensor)}


def dtype_of(value: Any) -> Any:
    """A torch dtype from a typed class or its name ('torch.LongTensor'); else ``value``."""
    if isinstance(value, _TypedMeta):
        return value.dtype
    if isinstance(value, str) and value.split(".")[-1] in TYPED:
        return TYPED[value.split(".")[-1]].dtype  # type: ignore[attr-defined]
    return value


# ----------------------------------------------------------------------------------
# The *_like family (memory_format is dropped: XLA lays arrays out itself).


def empty_like(input: Tensor, *, dtype: Any = None, memory_format: Any = None,
               **kwargs: Any) -> Tensor:
    """PyTorch equivalent: ``torch.empty_like`` (zero-filled here)."""
    del memory_format
    return _functions.empty(tuple(input.shape), dtype=dtype or input.dtype, **kwargs)


def rand_like(input: Tensor, *, dtype: Any = None, memory_format: Any = None,
              **kwargs: Any) -> Tensor:
    """PyTorch equivalent: ``torch.rand_like``."""
    del memory_format
    return _functions.rand(tuple(input.shape), dtype=dtype or input.dtype, **kwargs)


def randn_like(input: Tensor, *, dtype: Any = None, memory_format: Any = None,
               **kwargs: Any) -> Tensor:
    """PyTorch equivalent: ``torch.randn_like``."""
    del memory_format
    return _functions.randn(tuple(input.shape), dtype=dtype or input.dtype, **kwargs)


def randint_like(input: Tensor, low: int | None = None, high: int | None = None, *,
                 dtype: Any = None, memory_format: Any = None, **kwargs: Any) -> Tensor:
    """PyTorch equivalent: ``torch.randint_like`` (``randint_like(x, high)``,
    ``randint_like(x, high=high)`` or ``randint_like(x, low, high)``)."""
    del memory_format
    if high is None:
        low, high = 0, low
    if high is None:
        raise TypeError("randint_like() received an invalid combination of arguments - got "
                        "(Tensor), but expected high: randint_like(input, high) or "
                        "randint_like(input, low, high)")
    if low is None:
        low = 0
    out = _functions.randint(low, high, tuple(input.shape), **kwargs)
    return out.to(dtype or input.dtype)  # integers in the input's (even float) dtype
