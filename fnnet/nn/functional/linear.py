"""Affine map."""

from __future__ import annotations

import jax.numpy as jnp

from fnnet.typing import Array


def linear(x: Array, weight: Array, bias: Array | None = None) -> Array:
    """``y = x @ weight.T + bias``.

    Args:
        x: ``[..., in_features]``.
        weight: ``[out_features, in_features]`` (PyTorch's layout).
        bias: ``[out_features]`` or None.

    Returns:
        ``[..., out_features]``.

    PyTorch equivalent: ``torch.nn.functional.linear``.
    """
    y = jnp.matmul(x, weight.T)
    return y if bias is None else y + bias
