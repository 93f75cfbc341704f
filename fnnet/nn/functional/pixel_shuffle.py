"""Sub-pixel rearrangement: channels to space (``pixel_shuffle``) and back."""

from __future__ import annotations

import jax.numpy as jnp

from fnnet.typing import Array


def pixel_shuffle(x: Array, upscale_factor: int) -> Array:
    """``[..., C*r*r, H, W] -> [..., C, H*r, W*r]``.

    PyTorch equivalent: ``torch.nn.functional.pixel_shuffle``.
    """
    r = int(upscale_factor)
    if jnp.ndim(x) < 3:
        raise ValueError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                         f"got input with {jnp.ndim(x)} dimension(s)")
    if r <= 0 or x.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                         f"divisible by the square of upscale_factor, but input.size(-3)="
                         f"{x.shape[-3]} is not divisible by {r * r}")
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    y = jnp.transpose(y, (*range(n), n, n + 3, n + 1, n + 4, n + 2))
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(x: Array, downscale_factor: int) -> Array:
    """``[..., C, H*r, W*r] -> [..., C*r*r, H, W]``.

    PyTorch equivalent: ``torch.nn.functional.pixel_unshuffle``.
    """
    r = int(downscale_factor)
    if jnp.ndim(x) < 3:
        raise ValueError(f"pixel_unshuffle expects input to have at least 3 dimensions, "
                         f"but got input with {jnp.ndim(x)} dimension(s)")
    if r <= 0 or x.shape[-2] % r or x.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle expects height and width to be divisible by "
                         f"downscale_factor, but input.size(-2)={x.shape[-2]} and "
                         f"input.size(-1)={x.shape[-1]} with downscale_factor={r}")
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    y = jnp.transpose(y, (*range(n), n, n + 2, n + 4, n + 1, n + 3))
    return y.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(x: Array, groups: int) -> Array:
    """Interleaves the channels of ``groups`` groups (ShuffleNet): channel ``g * k + j``
    of the ``k = C / groups`` per group goes to position ``j * groups + g``.

    Args:
        x: ``[N, C, *]``, ``C`` divisible by ``groups``.
        groups: the number of groups.

    Returns:
        An array of ``x``'s shape.

    PyTorch equivalent: ``torch.nn.functional.channel_shuffle``.
    """
    n, c, *rest = x.shape
    grouped = x.reshape(n, groups, c // groups, *rest)
    return jnp.swapaxes(grouped, 1, 2).reshape(x.shape)
