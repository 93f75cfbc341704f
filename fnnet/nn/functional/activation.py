"""Element-wise activations and the (log-)softmax over one axis."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from fnnet.nn.functional._utils import accumulation, in_float32, normalize_dim
from fnnet.typing import Array

#: jax's functions, computed in float32 for half-precision inputs as PyTorch's kernels
_SIGMOID = in_float32(jax.nn.sigmoid)


def _from_output(fn: Callable[[Array], Array],
                 backward: Callable[[Array, Array, Any], Array]) -> Callable[[Array], Array]:
    """``fn`` of a half-precision ``x`` as PyTorch's CPU kernels compute it (in float32,
    rounded once), differentiated as PyTorch's backward kernel does: from the rounded
    output it saved (``backward(y, g, dtype)`` of float32 values), rounded once."""

    @jax.custom_vjp
    def rounded(x: Array) -> Array:
        y: Array = fn(x.astype(jnp.float32)).astype(x.dtype)
        return y

    def forward(x: Array) -> tuple[Array, Array]:
        y = rounded(x)
        return y, y

    def gradient(y: Array, g: Array) -> tuple[Array]:
        wide = backward(y.astype(jnp.float32), g.astype(jnp.float32), y.dtype)
        return (wide.astype(y.dtype),)

    rounded.defvjp(forward, gradient)
    return rounded


def _sigmoid_backward(y: Array, g: Array, dtype: Any) -> Array:
    """PyTorch's ``g * (1 - y) * y``: in float32 for bfloat16, but rounded to float16 at
    each step for float16 (its Half kernel computes in the narrow type)."""
    if dtype != jnp.float16:
        return g * (1 - y) * y

    def narrow(a: Array) -> Array:
        return a.astype(dtype).astype(jnp.float32)

    return narrow(g * narrow(1 - y)) * y


#: sigmoid and tanh of half-precision inputs, whose backward reads their output
_HALF_SIGMOID = _from_output(jax.nn.sigmoid, _sigmoid_backward)
_HALF_TANH = _from_output(jnp.tanh, lambda y, g, dtype: g * (1 - y * y))


def _softmax(x: Array, axis: int | None, log: bool) -> Array:
    """``softmax`` (or ``log_softmax``) of ``x`` along ``axis``: jax's own for float32
    and float64, so that every transform (forward mode included) goes through it; a
    half-precision ``x`` as PyTorch's CPU kernels compute and differentiate it (see
    :func:`_half_softmax`)."""
    if accumulation(x.dtype) is None:
        return (jax.nn.log_softmax if log else jax.nn.softmax)(x, axis=axis)
    return _half_softmax(x, axis, log)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2))
def _half_softmax(x: Array, axis: int | None, log: bool) -> Array:
    """A half-precision ``x``'s softmax (or log_softmax) in float32, rounded once; the
    gradient from the rounded output, which PyTorch's backward reads (``y * (g - sum(g *
    y))``, ``g - exp(y) * sum(g)``, in float32 and rounded once), where differentiating
    through the rounding would use the float32 output and differ by a unit in most of the
    gradient's values. Reverse mode only: its rounding order has no forward-mode form."""
    fn = jax.nn.log_softmax if log else jax.nn.softmax
    return fn(x.astype(jnp.float32), axis=axis).astype(x.dtype)


def _softmax_fwd(x: Array, axis: int | None, log: bool) -> tuple[Array, Array]:
    y = _half_softmax(x, axis, log)
    return y, y


def _softmax_bwd(axis: int | None, log: bool, y: Array, g: Array) -> tuple[Array]:
    wide = accumulation(y.dtype) or y.dtype
    yw, gw = y.astype(wide), g.astype(wide)
    if log:
        grad = gw - jnp.exp(yw) * jnp.sum(gw, axis=axis, keepdims=True)
    else:
        grad = yw * (gw - jnp.sum(gw * yw, axis=axis, keepdims=True))
    return (grad.astype(y.dtype),)


_half_softmax.defvjp(_softmax_fwd, _softmax_bwd)


def relu(x: Array) -> Array:
    """``max(x, 0)``; its gradient at 0 is 0, as in PyTorch.

    PyTorch equivalent: ``torch.nn.functional.relu``.
    """
    return jax.nn.relu(x)


def sigmoid(x: Array) -> Array:
    """``1 / (1 + exp(-x))``; integers and booleans give floats, as ``jnp.exp``'s.

    PyTorch equivalent: ``torch.sigmoid``.
    """
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jax.dtypes.canonicalize_dtype(jnp.float64))
    if accumulation(x.dtype) is not None:
        return _HALF_SIGMOID(x)
    return _SIGMOID(x)


def tanh(x: Array) -> Array:
    """Hyperbolic tangent. PyTorch equivalent: ``torch.tanh``."""
    x = jnp.asarray(x)
    if accumulation(x.dtype) is not None:
        return _HALF_TANH(x)
    return jnp.tanh(x)


def _axis(x: Array, dim: int, op: str) -> int | None:
    """The checked axis; None for a 0-d ``x`` (PyTorch accepts dim 0 or -1 there)."""
    axis = normalize_dim(dim, jnp.ndim(x), op)
    return axis if jnp.ndim(x) else None


def softmax(x: Array, dim: int) -> Array:
    """``exp(x) / sum(exp(x))`` along ``dim`` (computed stably, shifted by the max).

    Args:
        x: any shape.
        dim: the axis that sums to one. Unlike old PyTorch there is no implicit choice.

    Returns:
        An array of the shape of ``x``.

    PyTorch equivalent: ``torch.nn.functional.softmax(x, dim)``.
    """
    return _softmax(jnp.asarray(x), _axis(x, dim, "softmax"), False)


def log_softmax(x: Array, dim: int) -> Array:
    """``x - logsumexp(x)`` along ``dim``, without forming the softmax.

    Args:
        x: any shape.
        dim: the normalised axis.

    Returns:
        An array of the shape of ``x``.

    PyTorch equivalent: ``torch.nn.functional.log_softmax(x, dim)``.
    """
    return _softmax(jnp.asarray(x), _axis(x, dim, "log_softmax"), True)


def _clip_strict(x: Array, low: float, high: float) -> Array:
    """``x`` clipped to ``[low, high]`` with gradient 1 strictly inside and 0 elsewhere,
    PyTorch's hardtanh gradient (``jnp.clip`` gives 0.5 at the bounds). Integers keep
    their type, the bounds cast to it, as PyTorch's relu6 and hardtanh do."""
    x = jnp.asarray(x)
    bounds: tuple[Any, Any] = (low, high)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        bounds = (jnp.asarray(low).astype(x.dtype), jnp.asarray(high).astype(x.dtype))
    inside = (x > bounds[0]) & (x < bounds[1])
    return jnp.where(inside, x, jax.lax.stop_gradient(jnp.clip(x, *bounds)))


@in_float32
def silu(x: Array) -> Array:
    """``x * sigmoid(x)`` (swish). PyTorch equivalent: ``torch.nn.functional.silu``."""
    return jax.nn.silu(x)


@in_float32
def elu(x: Array, alpha: float = 1.0) -> Array:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    PyTorch equivalent: ``torch.nn.functional.elu``.
    """
    # the inner where keeps x = 0 on the exponential branch's gradient (alpha), as torch
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.where(x > 0, 0.0, x)))


@in_float32
def celu(x: Array, alpha: float = 1.0) -> Array:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    PyTorch equivalent: ``torch.nn.functional.celu``.
    """
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.where(x > 0, 0.0, x) / alpha))


def rrelu(x: Array, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, *, key: Array | None = None) -> Array:
    """Randomized leaky ReLU: a negative ``x`` times a slope drawn from ``U(lower,
    upper)`` per element when ``training``, else times the mean slope ``(lower + upper) /
    2``.

    Args:
        x: any shape.
        lower: the smallest slope.
        upper: the largest slope.
        training: draw the slopes (needs ``key``) or use their mean.
        key: the PRNG key of the slopes.

    PyTorch equivalent: ``torch.nn.functional.rrelu``.
    """
    if not training:
        return jnp.where(x > 0, x, x * ((lower + upper) / 2))
    if key is None:
        raise ValueError("rrelu: training needs a PRNG key; pass key=jax.random.key(...)")
    slope = jax.random.uniform(key, jnp.shape(x), jnp.result_type(x), lower, upper)
    return jnp.where(x > 0, x, x * slope)


@in_float32
def selu(x: Array) -> Array:
    """``scale * elu(x, alpha)`` with the self-normalising constants.

    PyTorch equivalent: ``torch.nn.functional.selu``.
    """
    return jax.nn.selu(x)


@in_float32
def softplus(x: Array, beta: float = 1.0, threshold: float = 20.0) -> Array:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    PyTorch equivalent: ``torch.nn.functional.softplus``.
    """
    scaled = beta * x
    return jnp.where(scaled > threshold, x,
                     jnp.logaddexp(jnp.minimum(scaled, threshold), 0.0) / beta)


@in_float32
def mish(x: Array) -> Array:
    """``x * tanh(softplus(x))``. PyTorch equivalent: ``torch.nn.functional.mish``."""
    return x * jnp.tanh(softplus(x))


@in_float32
def softsign(x: Array) -> Array:
    """``x / (1 + |x|)``. PyTorch equivalent: ``torch.nn.functional.softsign``."""
    return x / (1 + jnp.abs(x))


@in_float32
def logsigmoid(x: Array) -> Array:
    """``log(sigmoid(x))``, computed stably.

    PyTorch equivalent: ``torch.nn.functional.logsigmoid``.
    """
    return jax.nn.log_sigmoid(x)


def hardtanh(x: Array, min_val: float = -1.0, max_val: float = 1.0) -> Array:
    """``x`` clipped to ``[min_val, max_val]``.

    PyTorch equivalent: ``torch.nn.functional.hardtanh``.
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return _clip_strict(x, min_val, max_val)


def relu6(x: Array) -> Array:
    """``min(max(x, 0), 6)``. PyTorch equivalent: ``torch.nn.functional.relu6``."""
    return _clip_strict(x, 0.0, 6.0)


@in_float32
def hardsigmoid(x: Array) -> Array:
    """``relu6(x + 3) / 6``. PyTorch equivalent: ``torch.nn.functional.hardsigmoid``."""
    return _clip_strict(x + 3.0, 0.0, 6.0) / 6.0


@in_float32
def hardswish(x: Array) -> Array:
    """``x * relu6(x + 3) / 6``. PyTorch equivalent: ``torch.nn.functional.hardswish``."""
    return x * hardsigmoid(x)
