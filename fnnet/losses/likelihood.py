"""Negative log-likelihoods of regression targets: Gaussian (with a predicted variance)
and Poisson (with a predicted rate)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from fnnet.losses._checks import (
    as_array,
    check_floating,
    check_reduction,
    is_concrete,
    reduce,
)
from fnnet.typing import Array


def shares_one_dimension(shape: tuple[int, ...], var_shape: tuple[int, ...]) -> bool:
    """Whether a variance of ``var_shape`` is shared along one dimension of ``shape``,
    by PyTorch's test: the same rank and sizes but for one, which is 1 (``[N, 1, H, W]``
    for ``[N, C, H, W]``)."""
    return len(shape) == len(var_shape) and sum(
        v for s, v in zip(shape, var_shape, strict=True) if s != v) == 1


def gaussian_nll_loss(input: Array, target: Array, var: Array, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Array:
    """``0.5 * (log(var) + (input - target)**2 / var)`` (plus ``0.5 * log(2 pi)`` when
    ``full``), with ``var`` clamped below at ``eps``.

    Args:
        input: predicted means, any shape.
        target: ``input``'s shape.
        var: ``input``'s shape, or one dimension fewer (one variance shared by the
            last dimension), or of size 1 in one dimension (shared along it).
        full: add the constant term.
        eps: the smallest variance used.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Raises:
        ValueError: ``var`` holds a negative entry, as PyTorch's does (when its values
            can be read, i.e. outside ``jit``), or does not fit ``input``'s shape.

    PyTorch equivalent: ``torch.nn.functional.gaussian_nll_loss``.
    """
    check_reduction("gaussian_nll_loss", reduction)
    x = as_array("gaussian_nll_loss", "input", input)
    t = as_array("gaussian_nll_loss", "target", target)
    v = as_array("gaussian_nll_loss", "var", var)
    for name, array in (("input", x), ("target", t), ("var", v)):
        check_floating("gaussian_nll_loss", name, array)
    if is_concrete(v) and bool(jnp.any(v < 0)):
        index = tuple(int(i) for i in jnp.unravel_index(jnp.argmax(v < 0), v.shape))
        raise ValueError(
            "gaussian_nll_loss: var has negative entry/entries (variances must be >= 0), "
            f"got {float(v[index])} at index {index if len(index) != 1 else index[0]}")
    if v.shape != x.shape:
        if x.shape[:-1] == v.shape:
            v = v[..., None]
        elif not shares_one_dimension(x.shape, v.shape):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size: {v.shape} for "
                             f"input {x.shape}")
    # PyTorch clamps without recording the clamp: the gradient passes as if unclamped
    v = v + jax.lax.stop_gradient(jnp.maximum(v, eps) - v)
    losses = 0.5 * (jnp.log(v) + (x - t) ** 2 / v)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return reduce(losses, reduction)


def poisson_nll_loss(input: Array, target: Array, log_input: bool = True,
                     full: bool = False, eps: float = 1e-8,
                     reduction: str = "mean") -> Array:
    """``exp(input) - target * input`` (``log_input``) or
    ``input - target * log(input + eps)``; ``full`` adds Stirling's approximation of
    ``log(target!)`` where ``target > 1``.

    PyTorch equivalent: ``torch.nn.functional.poisson_nll_loss``.
    """
    check_reduction("poisson_nll_loss", reduction)
    x = as_array("poisson_nll_loss", "input", input)
    t = as_array("poisson_nll_loss", "target", target)
    check_floating("poisson_nll_loss", "input", x)
    t = t.astype(x.dtype)
    if log_input:
        losses = jnp.exp(x) - t * x
    else:
        losses = x - t * jnp.log(x + eps)
    if full:
        safe = jnp.where(t > 1, t, 1)
        stirling = safe * jnp.log(safe) - safe + 0.5 * jnp.log(2 * math.pi * safe)
        losses = losses + jnp.where(t > 1, stirling, 0)
    return reduce(losses, reduction)
