"""Elementwise regression losses: squared, absolute, smooth-L1 and Huber error."""

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


def _prepare(loss: str, input: Any, target: Any, reduction: Any) -> tuple[Array, Array]:
    check_reduction(loss, reduction)
    input = as_array(loss, "input", input)
    target = as_array(loss, "target", target)
    check_floating(loss, "input", input)
    check_floating(loss, "target", target)
    check_same_shape(loss, input, target)
    return input, target


def absolute(x: Array) -> Array:
    """``|x|`` whose gradient is ``sign(x)``: 0 at 0 as in PyTorch (``jnp.abs`` gives 1)."""
    return x * jnp.sign(x)


def _weighted(loss: str, elementwise: Array, weight: Any, reduction: str) -> Array:
    """PyTorch's weighted reduction: ``'mean'`` is ``sum(w * e) / sum(w)``."""
    if weight is None:
        return reduce(elementwise, reduction)
    weight = check_weight(loss, weight, elementwise.shape, exact=True)
    elementwise = elementwise * weight
    if reduction == "mean":
        return jnp.sum(elementwise) / jnp.sum(weight)
    return reduce(elementwise, reduction)


def mse_loss(input: Array, target: Array, reduction: str = "mean",
             weight: Array | None = None) -> Array:
    """Squared error ``(input - target)**2``, reduced.

    Args:
        input: predictions, any shape.
        target: targets, ``input``'s shape (PyTorch would broadcast with a warning;
            fnnet raises, since ``[N, 1]`` against ``[N]`` is almost always a mistake).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        weight: optional per-element weights of ``input``'s shape; ``'mean'`` is then
            ``sum(weight * error) / sum(weight)``.

    Returns:
        A scalar, or ``input``'s shape for ``reduction='none'``.

    Raises:
        ValueError: shapes differ or a bad reduction. TypeError: non-float arrays.

    PyTorch equivalent: ``torch.nn.functional.mse_loss``.
    """
    input, target = _prepare("mse_loss", input, target, reduction)
    diff = input - target
    return _weighted("mse_loss", diff * diff, weight, reduction)


def l1_loss(input: Array, target: Array, reduction: str = "mean",
            weight: Array | None = None) -> Array:
    """Absolute error ``|input - target|``, reduced.

    Args:
        input: predictions, any shape.
        target: targets, ``input``'s shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        weight: optional per-element weights of ``input``'s shape; ``'mean'`` is then
            ``sum(weight * error) / sum(weight)``.

    Returns:
        A scalar, or ``input``'s shape for ``reduction='none'``.

    Raises:
        ValueError: shapes differ or a bad reduction. TypeError: non-float arrays.

    PyTorch equivalent: ``torch.nn.functional.l1_loss``.
    """
    input, target = _prepare("l1_loss", input, target, reduction)
    return _weighted("l1_loss", absolute(input - target), weight, reduction)


def _threshold(value: Any, dtype: Any) -> tuple[Any, bool]:
    """A loss's threshold as a Python number where it is known on the host, else the
    traced scalar array (a threshold scheduled step by step inside ``jit``) in the
    inputs' ``dtype`` (as a number would be), and which."""
    if isinstance(value, jax.Array) and value.ndim == 0 and \
            jnp.issubdtype(value.dtype, jnp.floating):
        if is_concrete(value):
            return float(value), False
        return value.astype(dtype), True
    return value, False


def smooth_l1_loss(input: Array, target: Array, reduction: str = "mean",
                   beta: float | Array = 1.0) -> Array:
    """Huber-like loss: ``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - beta / 2``.

    Args:
        input: predictions, any shape.
        target: targets, ``input``'s shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        beta: the threshold, ``>= 0``; ``beta = 0`` is the L1 loss. A float, or a
            scalar array (which may be traced, then taken as positive).

    Returns:
        A scalar, or ``input``'s shape for ``reduction='none'``.

    Raises:
        ValueError: shapes differ, a bad reduction or a negative beta. TypeError:
            non-float arrays or a non-number beta.

    PyTorch equivalent: ``torch.nn.functional.smooth_l1_loss``.
    """
    input, target = _prepare("smooth_l1_loss", input, target, reduction)
    beta, traced = _threshold(beta, input.dtype)
    if not traced:
        if isinstance(beta, bool) or not isinstance(beta, (int, float)):
            raise TypeError(f"smooth_l1_loss: beta must be a float, got {beta!r}")
        if beta < 0:
            raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    distance = absolute(input - target)
    if not traced and beta == 0:
        # PyTorch falls back to l1_loss; the quadratic branch would divide by zero.
        return reduce(distance, reduction)
    # The quadratic branch is evaluated on the clipped distance so that its unused value
    # far from zero cannot overflow and poison the gradient through jnp.where.
    small = jnp.minimum(distance, beta)
    elementwise = jnp.where(distance < beta, 0.5 * small * small / beta, distance - 0.5 * beta)
    return reduce(elementwise, reduction)


def huber_loss(input: Array, target: Array, reduction: str = "mean", delta: float | Array = 1.0,
               weight: Array | None = None) -> Array:
    """Huber's loss: ``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - delta / 2)``
    (``delta`` times :func:`smooth_l1_loss` with ``beta = delta``).

    Args:
        input: predictions, any shape.
        target: targets, ``input``'s shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        delta: the threshold, ``> 0``: a float, or a scalar array (which may be traced).
        weight: optional per-element weights of ``input``'s shape; ``'mean'`` is then
            ``mean(weight * error)``, as PyTorch's (unlike its ``mse_loss``).

    Returns:
        A scalar, or ``input``'s shape for ``reduction='none'``.

    Raises:
        ValueError: shapes differ, a bad reduction or a delta that is not positive.
            TypeError: non-float arrays or a non-number delta.

    PyTorch equivalent: ``torch.nn.functional.huber_loss``.
    """
    input, target = _prepare("huber_loss", input, target, reduction)
    delta, traced = _threshold(delta, input.dtype)
    if not traced:
        if isinstance(delta, bool) or not isinstance(delta, (int, float)):
            raise TypeError(f"huber_loss: delta must be a float, got {delta!r}")
        if not delta > 0:
            raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    distance = absolute(input - target)
    # the quadratic branch on the clipped distance, as in smooth_l1_loss
    small = jnp.minimum(distance, delta)
    elementwise = jnp.where(distance < delta, 0.5 * small * small,
                            delta * (distance - 0.5 * delta))
    if weight is not None:
        elementwise = elementwise * check_weight("huber_loss", weight, elementwise.shape,
                                                 exact=True)
    return reduce(elementwise, reduction)


__all__ = ["huber_loss", "l1_loss", "mse_loss", "smooth_l1_loss"]
