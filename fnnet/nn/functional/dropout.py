"""Dropout: zeroing random elements during training."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fnnet.typing import Array, PRNGKey


def check_dropout_p(p: float, op: str = "dropout") -> float:
    """Returns ``p`` as a float; raises ValueError unless ``0 <= p <= 1`` (PyTorch's text)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"{op}: p must be a float, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(x: Array, p: float = 0.5, training: bool = True, *,
            key: PRNGKey | None = None) -> Array:
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)``.

    Args:
        x: any shape.
        p: the probability of DROPPING an element (PyTorch's meaning, not the keep
            rate). ``p = 1`` gives zeros.
        training: when False (or ``p = 0``) ``x`` is returned unchanged.
        key: the PRNG key the mask is drawn from; required when ``training`` and
            ``p > 0``. The same key gives the same mask.

    Returns:
        An array of the shape and dtype of ``x``.

    Raises:
        ValueError: ``p`` is outside ``[0, 1]``, or a key is needed and missing.

    Example:
        >>> y = dropout(jnp.ones(4), 0.5, key=jax.random.key(0))  # entries 0 or 2

    PyTorch equivalent: ``torch.nn.functional.dropout(x, p, training)``.
    """
    p = check_dropout_p(p)
    if not training or p == 0.0:
        return x
    if key is None:
        raise ValueError(
            f"dropout: training with p={p} needs a PRNG key; pass key=jax.random.key(...)"
        )
    if p == 1.0:
        return jnp.zeros_like(x)
    keep = jax.random.bernoulli(key, 1.0 - p, jnp.shape(x))
    scale = 1.0 / (1.0 - p)  # PyTorch multiplies by the scale rather than dividing
    return jnp.where(keep, x * scale, jnp.zeros((), x.dtype)).astype(x.dtype)
