"""Element-wise activations and the (log-)softmax over one axis."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fnnet.nn.functional._utils import normalize_dim
from fnnet.typing import Array


def relu(x: Array) -> Array:
    """``max(x, 0)``; its gradient at 0 is 0, as in PyTorch.

    PyTorch equivalent: ``torch.nn.functional.relu``.
    """
    return jax.nn.relu(x)


def sigmoid(x: Array) -> Array:
    """``1 / (1 + exp(-x))``. PyTorch equivalent: ``torch.sigmoid``."""
    return jax.nn.sigmoid(x)


def tanh(x: Array) -> Array:
    """Hyperbolic tangent. PyTorch equivalent: ``torch.tanh``."""
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
    return jax.nn.softmax(x, axis=_axis(x, dim, "softmax"))


def log_softmax(x: Array, dim: int) -> Array:
    """``x - logsumexp(x)`` along ``dim``, without forming the softmax.

    Args:
        x: any shape.
        dim: the normalised axis.

    Returns:
        An array of the shape of ``x``.

    PyTorch equivalent: ``torch.nn.functional.log_softmax(x, dim)``.
    """
    return jax.nn.log_softmax(x, axis=_axis(x, dim, "log_softmax"))
