"""``renorm`` (each slice's p-norm capped, as weight renormalisation does) and ``frexp``
(mantissa and exponent), functions and methods, as PyTorch's."""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import jax.numpy as jnp
from jax import lax

from fnnet.torch._math_ops import in_place
from fnnet.torch.tensor import Tensor, _dim, _op, _op_multi


def _renorm(x: Any, p: float, dim: int, maxnorm: float) -> Any:
    axes = tuple(a for a in range(x.ndim) if a != dim)
    if p == float("inf"):
        norm = jnp.max(jnp.abs(x), axis=axes, keepdims=True)
    else:
        norm = jnp.sum(jnp.abs(x) ** p, axis=axes, keepdims=True) ** (1 / p)
    # PyTorch scales by maxnorm / (norm + 1e-7) where the norm exceeds maxnorm
    factor = jnp.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return (x * factor).astype(x.dtype)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` scaled so that its ``p``-norm is at most ``maxnorm``.

    PyTorch equivalent: ``torch.renorm``.
    """
    if not input.is_floating_point():
        raise RuntimeError(f"renorm: expected a floating point tensor, got {input.dtype}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} "
                           f"dimensions")
    return _op(_renorm, (float(p), _dim(dim, input.dim(), "renorm"), float(maxnorm)), input,
               who="renorm")


class frexp(NamedTuple):  # noqa: N801 - PyTorch's name
    """``torch.return_types.frexp``: ``(mantissa, exponent)``."""

    mantissa: Tensor
    exponent: Tensor

    def __repr__(self) -> str:
        return (f"torch.return_types.frexp(\nmantissa={self.mantissa!r},\n"
                f"exponent={self.exponent!r})")


frexp.__module__ = "torch.return_types"


def _frexp(x: Any) -> tuple[Any, Any]:
    _, exponent = jnp.frexp(x)
    # the mantissa as x / 2**exponent, so its gradient is 2**-exponent, as PyTorch's
    scale = lax.stop_gradient(jnp.exp2(exponent.astype(x.dtype)))
    return x / scale, exponent.astype(jnp.int32)


def frexp_function(input: Tensor) -> frexp:  # (out= is fnnet.torch._out's)
    """``input = mantissa * 2 ** exponent`` with ``0.5 <= |mantissa| < 1`` (both 0 at 0).

    PyTorch equivalent: ``torch.frexp``.
    """
    if not input.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    mantissa, exponent = _op_multi(_frexp, (), input, who="frexp")
    return frexp(cast(Tensor, mantissa), cast(Tensor, exponent))


def install(namespace: dict[str, Any]) -> None:
    """Adds the functions to ``namespace`` (``fnnet.torch``'s globals) and the methods to
    :class:`Tensor`."""
    namespace.update(renorm=renorm, frexp=frexp_function)
    Tensor.renorm = renorm  # type: ignore[attr-defined]
    Tensor.renorm_ = in_place("renorm")  # type: ignore[attr-defined]
    Tensor.frexp = frexp_function  # type: ignore[attr-defined]
