"""Local response normalisation across channels (Krizhevsky et al., 2012: AlexNet)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from fnnet.typing import Array


def local_response_norm(x: Array, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Array:
    """Divides each value by ``(k + alpha * mean(x**2 over size neighbouring channels))
    ** beta``.

    The window of channel ``c`` is ``[c - size // 2, c + (size - 1) // 2]``, zero-padded
    at the ends and always divided by ``size``, as PyTorch computes it.

    Args:
        x: ``[N, C, *]`` with at least one axis after ``C``.
        size: the number of channels in a window.
        alpha: the scale of the mean square.
        beta: the exponent.
        k: the additive constant.

    Raises:
        ValueError: ``x`` has fewer than 3 axes.

    PyTorch equivalent: ``torch.nn.functional.local_response_norm``.
    """
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected input [N, C, *] with at least 3 "
                         f"axes, got shape {tuple(x.shape)}")
    pads = [(0, 0)] * x.ndim
    pads[1] = (size // 2, (size - 1) // 2)
    window = [1] * x.ndim
    window[1] = size
    total = lax.reduce_window(jnp.square(x), np.array(0, x.dtype), lax.add, tuple(window),
                              (1,) * x.ndim, pads)
    out: Array = x / (total / size * alpha + k) ** beta
    return out
