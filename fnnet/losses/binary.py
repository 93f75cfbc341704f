"""Binary cross-entropy, on probabilities and (stably) on logits."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from fnnet.losses._checks import (
    as_array,
    check_floating,
    check_reduction,
    check_same_shape,
    check_weight,
    is_concrete,
    reduce,
)
from fnnet.typing import Array

# PyTorch clamps each log term at -100 so that a probability of exactly 0 or 1 gives a
# finite loss, and clamps x * (1 - x) at 1e-12 in the gradient for the same reason.
_LOG_FLOOR = -100.0
_GRAD_EPS = 1e-12


@jax.custom_vjp
def _bce(x: Array, t: Array) -> Array:
    return -(t * jnp.maximum(jnp.log(x), _LOG_FLOOR)
             + (1 - t) * jnp.maximum(jnp.log1p(-x), _LOG_FLOOR))


def _bce_fwd(x: Array, t: Array) -> tuple[Array, tuple[Array, Array]]:
    return _bce(x, t), (x, t)


def _bce_bwd(residuals: tuple[Array, Array], g: Array) -> tuple[Array, Array]:
    # PyTorch's own derivatives (binary_cross_entropy_backward and ..._target_backward):
    # autodiff through the clamped logs would give NaN (0 * inf) at x = 0 or x = 1,
    # which a saturated sigmoid produces in float32.
    x, t = residuals
    grad_x = g * (x - t) / jnp.maximum((1 - x) * x, _GRAD_EPS)
    grad_t = -g * (jnp.log(x) - jnp.log1p(-x))
    return grad_x, grad_t


_bce.defvjp(_bce_fwd, _bce_bwd)


def _prepare(loss: str, input: Any, target: Any, weight: Any,
             reduction: Any) -> tuple[Array, Array, Array | None]:
    check_reduction(loss, reduction)
    input = as_array(loss, "input", input)
    target = as_array(loss, "target", target)
    check_floating(loss, "input", input)
    check_floating(loss, "target", target)
    check_same_shape(loss, input, target)
    if weight is not None:
        weight = check_weight(loss, weight, input.shape)
    return input, target, weight


def binary_cross_entropy(input: Array, target: Array, weight: Array | None = None,
                         reduction: str = "mean") -> Array:
    """``-w * (t * log(x) + (1 - t) * log(1 - x))`` with each log clamped at -100.

    Args:
        input: probabilities in ``[0, 1]``, any shape (checked when concrete, i.e.
            outside ``jit``; under ``jit`` values outside give NaN).
        target: targets in ``[0, 1]``, ``input``'s shape.
        weight: optional rescaling weights broadcastable to ``input``'s shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        A scalar, or ``input``'s shape for ``reduction='none'``. The gradient is
        PyTorch's: ``w * (x - t) / max(x * (1 - x), 1e-12)``, finite at 0 and 1.

    Raises:
        ValueError: shapes differ, a bad reduction, or (outside ``jit``) an input
            value outside ``[0, 1]`` (NaN included), as PyTorch refuses it.
        TypeError: non-float arrays.

    PyTorch equivalent: ``torch.nn.functional.binary_cross_entropy``.
    """
    input, target, weight = _prepare("binary_cross_entropy", input, target, weight,
                                     reduction)
    if is_concrete(input):
        outside = ~((input >= 0) & (input <= 1))
        if bool(jnp.any(outside)):
            index = tuple(int(i) for i in jnp.unravel_index(jnp.argmax(outside), input.shape))
            raise ValueError(
                "binary_cross_entropy: all elements of input should be between 0 and 1, got "
                f"{float(input[index])} at index {index if len(index) != 1 else index[0]}")
    loss = _bce(input, target)
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Array, target: Array,
                                     weight: Array | None = None, reduction: str = "mean",
                                     pos_weight: Array | None = None) -> Array:
    """Binary cross-entropy of ``sigmoid(input)``, computed stably from the logits.

    ``loss = (1 - t) * x - (1 + (pos_weight - 1) * t) * log_sigmoid(x)``, times
    ``weight``: PyTorch's formula, finite for any logit.

    Args:
        input: logits, any shape ``[..., C]``.
        target: targets in ``[0, 1]``, ``input``'s shape.
        weight: optional rescaling weights broadcastable to ``input``'s shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        pos_weight: optional weight of the positive class, broadcastable to ``input``'s
            shape (typically ``[C]``, one per class along the last axis).

    Returns:
        A scalar, or ``input``'s shape for ``reduction='none'``.

    Raises:
        ValueError: shapes differ or a bad reduction. TypeError: non-float arrays.

    PyTorch equivalent: ``torch.nn.functional.binary_cross_entropy_with_logits``.
    """
    name = "binary_cross_entropy_with_logits"
    input, target, weight = _prepare(name, input, target, weight, reduction)
    log_sigmoid = jax.nn.log_sigmoid(input)
    if pos_weight is not None:
        pos_weight = check_weight(name, pos_weight, input.shape, name="pos_weight")
        log_sigmoid = log_sigmoid * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sigmoid
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]
