"""Argument checks and compute dtypes shared by the functional ops (no math lives here)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from fnnet.typing import Array


def pair(value: Any, name: str, op: str, *, minimum: int = 1) -> tuple[int, int]:
    """``value`` as a pair of ints, as PyTorch's ``_pair`` reads ``int | (int, int)``.

    Raises:
        TypeError: ``value`` is neither an int nor a pair of ints.
        ValueError: an entry is below ``minimum``.
    """
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        result = (value, value)
    elif (isinstance(value, (tuple, list)) and len(value) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        result = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(result) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return result


def normalize_dim(dim: int, ndim: int, op: str, name: str = "dim") -> int:
    """``dim`` as a non-negative axis of a rank-``ndim`` array (PyTorch's wrap rule).

    Raises:
        TypeError: ``dim`` is not an int.
        ValueError: ``dim`` is outside ``[-max(ndim, 1), max(ndim, 1) - 1]``.
    """
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}: {name} must be an int, got {dim!r}")
    # PyTorch treats a 0-d tensor as having one axis for dim wrapping.
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise ValueError(
            f"{op}: {name} out of range (expected to be in range of [{-rank}, {rank - 1}], "
            f"but got {dim})"
        )
    return dim % rank


def check_rank(x: Any, ranks: tuple[int, ...], op: str, layout: str) -> None:
    """Raises a ValueError when ``x`` does not have one of ``ranks`` dimensions."""
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) not in ranks:
        expected = " or ".join(f"{r}-D" for r in ranks)
        raise ValueError(f"{op}: expected {expected} input {layout}, got shape {shape}")


def widened(x: Array) -> Array:
    """``x`` in float32 when it is a narrower float (float16, bfloat16), else as it is.

    PyTorch normalises half-precision inputs in float32 (its "opmath" type) and rounds
    the result once to the input's dtype; computing in half precision would round every
    intermediate.
    """
    if jnp.issubdtype(x.dtype, jnp.floating) and jnp.finfo(x.dtype).bits < 32:
        return x.astype(jnp.float32)
    return x


def accumulation(dtype: Any) -> Any:
    """The ``preferred_element_type`` of a product (a matrix product, a convolution) of
    ``dtype`` operands: float32 for float16/bfloat16, whose products PyTorch's kernels sum
    in float32 with the bias and round once; None (the operands' own) for the rest. The
    operands stay narrow, so an accelerator multiplies them at their own speed."""
    narrow = jnp.issubdtype(dtype, jnp.floating) and jnp.finfo(dtype).bits < 32
    return jnp.float32 if narrow else None


def in_float32(fn: Callable[..., Array]) -> Callable[..., Array]:
    """``fn`` computed in float32 where its array arguments (positional) promote to
    float16 or bfloat16, and rounded once to that dtype, as PyTorch's kernels compute
    such elementwise math (softmax, sigmoid, exp2, hypot... rounded at every step of
    their formula in the narrow dtype differ from PyTorch's by a unit or more); ``fn``
    itself for other dtypes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Array:
        arrays = [a for a in args if hasattr(a, "dtype")]
        dtype = jnp.result_type(*arrays) if arrays else None
        if dtype is None or accumulation(dtype) is None:
            return fn(*args, **kwargs)
        wide = [a.astype(jnp.float32) if hasattr(a, "dtype") and a.dtype == dtype else a
                for a in args]
        return fn(*wide, **kwargs).astype(dtype)

    return wrapper


def in_dtype_of(y: Array, x: Array) -> Array:
    """``y`` rounded to ``x``'s float dtype, as PyTorch returns a normalisation in its
    input's dtype whatever the weight's; ``y`` as it is for a non-float ``x``."""
    return y.astype(x.dtype) if jnp.issubdtype(x.dtype, jnp.floating) else y


def promoted(x: Array, weight: Array) -> tuple[Array, Array]:
    """``x`` and ``weight`` in their common dtype (``jnp.result_type``), as ``linear``'s
    ``matmul`` computes: a bfloat16 batch through float32 weights computes in float32
    (XLA's convolution refuses operands of two dtypes)."""
    dtype = jnp.result_type(x, weight)
    return jnp.asarray(x, dtype), jnp.asarray(weight, dtype)
