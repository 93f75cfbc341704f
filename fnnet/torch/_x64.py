"""PyTorch's float results of integer operands under JAX's x64 mode.

With x64 on, jnp promotes integers to float64 where they meet a float (``int_tensor / 2``,
``int_tensor * 0.5``, ``sqrt(int_tensor)``), as numpy does; PyTorch gives its default
dtype, float32, and gives float64 only where an operand is float64 or the op is asked for
it (``x.double()``, ``sum(dtype=torch.float64)``). :func:`narrowed` wraps a recorded op so
that its float64 results come back float32 unless one of those holds. Without x64 every
float is float32 already and ops are recorded as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

_FLOAT64 = np.dtype(np.float64)
#: the dtypes whose operands keep a float64 result (a complex128 spectrum's real part)
_DOUBLE = (_FLOAT64, np.dtype(np.complex128))

#: op -> its narrowing wrapper (and each wrapper to itself): a stable object per op, as
#: the recorder's keys need
_WRAPPERS: dict[Any, Callable[..., Any]] = {}
#: wrapper -> the op it wraps
_BASES: dict[Any, Any] = {}


def _asks_float64(arg: Any) -> bool:
    """Whether ``arg`` (an operand or a static argument) makes a float64 result PyTorch's:
    a float64 or complex128 array that is not a weakly typed Python number, or such a
    dtype."""
    dtype = getattr(arg, "dtype", None)
    if dtype is not None and not isinstance(arg, type):
        return dtype in _DOUBLE and not getattr(arg, "weak_type", False)
    if isinstance(arg, (tuple, list)):
        return any(_asks_float64(a) for a in arg)
    try:
        return np.dtype(arg) in _DOUBLE if isinstance(arg, (np.dtype, type)) else False
    except TypeError:
        return False


def _narrow(value: Any) -> Any:
    return value.astype(np.float32) if getattr(value, "dtype", None) == _FLOAT64 else value


def narrowed(op: Callable[..., Any]) -> Callable[..., Any]:
    """``op`` returning float32 where PyTorch would (see the module docstring); the same
    object for the same ``op``, and ``op``'s wrapper for a wrapper."""
    known = _WRAPPERS.get(op)
    if known is not None:
        return known

    @functools.wraps(op)
    def wrapper(*args: Any) -> Any:
        out = op(*args)
        if any(_asks_float64(a) for a in args):
            return out
        return jax.tree_util.tree_map(_narrow, out, is_leaf=lambda v: v is None)

    _WRAPPERS[op] = _WRAPPERS[wrapper] = wrapper
    _BASES[wrapper] = op
    return wrapper


def base(op: Any) -> Any:
    """The op a :func:`narrowed` wrapper wraps (``op`` itself for any other), for the
    sets of ops that are treated apart."""
    return _BASES.get(op, op)
