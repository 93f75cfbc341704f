"""Spatial transformers: the sampling grid of an affine map and sampling an image at a
grid's points (Jaderberg et al., "Spatial Transformer Networks", 2015), with PyTorch's
coordinate conventions (``-1`` and ``1`` are the edges of the corner pixels, or their
centres with ``align_corners``)."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from fnnet.typing import Array

GRID_MODES = ("bilinear", "nearest")
PADDING_MODES = ("zeros", "border", "reflection")


def _base(n: int, align_corners: bool) -> np.ndarray:
    """The normalised coordinates of ``n`` pixel centres, in float32 by PyTorch's own
    steps (its ``linspace`` from both ends, then ``* (n - 1) / n``): a grid of the
    identity map then lands on the pixels exactly as PyTorch's does, on the same side
    of bilinear sampling's kinks, where the gradient jumps."""
    if n <= 1:
        return np.zeros((max(n, 1),), np.float32)
    step = np.float64(np.float32(2.0) / np.float32(n - 1))
    i = np.arange(n, dtype=np.float64)  # each value rounded once, as by a fused multiply-add
    values = np.where(i < n // 2, -1.0 + step * i, 1.0 - step * (n - 1 - i)).astype(np.float32)
    if not align_corners:
        values = (values * np.float32(n - 1) / np.float32(n)).astype(np.float32)
    return values


def affine_grid(theta: Array, size: Sequence[int], align_corners: bool = False) -> Array:
    """The points ``theta @ (x, y, 1)`` of the output pixels' normalised coordinates.

    Args:
        theta: ``[N, 2, 3]`` affine maps from output to input coordinates.
        size: the output's ``(N, C, H, W)``.
        align_corners: whether ``-1``/``1`` are the corner pixels' centres.

    Returns:
        ``[N, H, W, 2]``: for each output pixel its ``(x, y)`` in the input.

    PyTorch equivalent: ``torch.nn.functional.affine_grid`` (4-D sizes).
    """
    if theta.ndim != 3 or theta.shape[1:] != (2, 3):
        raise ValueError(f"affine_grid: expected theta of shape [N, 2, 3], got "
                         f"{tuple(theta.shape)}")
    if len(size) != 4 or size[0] != theta.shape[0]:
        raise ValueError(f"affine_grid: expected size (N, C, H, W) with N = "
                         f"{theta.shape[0]}, got {tuple(size)}")
    h, w = int(size[2]), int(size[3])
    xs = jnp.broadcast_to(_base(w, align_corners)[None, :], (h, w))
    ys = jnp.broadcast_to(_base(h, align_corners)[:, None], (h, w))
    base = jnp.stack([xs, ys, jnp.ones((h, w))], axis=-1).astype(theta.dtype)  # [H, W, 3]
    return jnp.einsum("hwk,njk->nhwj", base, theta)


def _unnormalize(coord: Array, n: int, align_corners: bool) -> Array:
    if align_corners:
        return (coord + 1) / 2 * (n - 1)
    return ((coord + 1) * n - 1) / 2


def _reflect(coord: Array, low: float, high: float) -> Array:
    """``coord`` reflected into ``[low, high]`` (PyTorch's ``reflect_coordinates``)."""
    span = high - low
    if span <= 0:
        return jnp.zeros_like(coord)
    coord = jnp.abs(coord - low)
    flips = jnp.floor(coord / span)
    extra = coord - flips * span
    return jnp.where(flips % 2 == 0, extra + low, span - extra + low)


def _source(coord: Array, n: int, padding_mode: str, align_corners: bool) -> Array:
    coord = _unnormalize(coord, n, align_corners)
    if padding_mode == "border":
        coord = jnp.clip(coord, 0, n - 1)
    elif padding_mode == "reflection":
        # about the corner pixels' centres, or about their outer edges
        coord = _reflect(coord, 0.0, n - 1.0) if align_corners else \
            _reflect(coord, -0.5, n - 0.5)
        coord = jnp.clip(coord, 0, n - 1)
    return coord


def grid_sample(x: Array, grid: Array, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool = False) -> Array:
    """Samples ``x`` at the points of ``grid``.

    Args:
        x: ``[N, C, H, W]``.
        grid: ``[N, H_out, W_out, 2]`` normalised ``(x, y)`` points.
        mode: ``"bilinear"`` or ``"nearest"`` (round half to even, as PyTorch).
        padding_mode: ``"zeros"`` (outside points read 0), ``"border"`` (the edge) or
            ``"reflection"``.
        align_corners: as in :func:`affine_grid`.

    Returns:
        ``[N, C, H_out, W_out]``.

    PyTorch equivalent: ``torch.nn.functional.grid_sample`` (4-D input).
    """
    if mode not in GRID_MODES:
        raise NotImplementedError(f"grid_sample: mode={mode!r} is not supported (supported: "
                                  f"{', '.join(GRID_MODES)})")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"grid_sample: padding_mode must be one of {PADDING_MODES}, got "
                         f"{padding_mode!r}")
    if x.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != x.shape[0]:
        raise ValueError(f"grid_sample: expected input [N, C, H, W] and grid [N, H_out, "
                         f"W_out, 2] with the same N, got {tuple(x.shape)} and "
                         f"{tuple(grid.shape)}")
    ix = _source(grid[..., 0], x.shape[3], padding_mode, align_corners)
    iy = _source(grid[..., 1], x.shape[2], padding_mode, align_corners)
    if mode == "nearest":
        return _gather(x, jnp.round(iy).astype(jnp.int32), jnp.round(ix).astype(jnp.int32))
    return sample_bilinear(x, ix, iy)


def _gather(x: Array, yi: Array, xi: Array) -> Array:
    """``x [N, C, H, W]`` at the integer points ``[N, Ho, Wo]``, 0 where they fall
    outside: one gather over the whole batch."""
    n, c, h, w = x.shape
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    index = (jnp.clip(yi, 0, h - 1) * w + jnp.clip(xi, 0, w - 1)).reshape(n, 1, -1)
    values = jnp.take_along_axis(x.reshape(n, c, h * w),
                                 jnp.broadcast_to(index, (n, c, index.shape[-1])), axis=2)
    # selected, not multiplied: a negative value times 0 would read -0.0, which PyTorch
    # (skipping outside points) never gives
    return jnp.where(inside[:, None], values.reshape(n, c, *yi.shape[1:]), 0)


def sample_bilinear(x: Array, ix: Array, iy: Array) -> Array:
    """``x [N, C, H, W]`` sampled bilinearly at the pixel coordinates ``ix, iy [N, Ho,
    Wo]`` (column and row; neighbours outside the image read 0).

    Returns:
        ``[N, C, Ho, Wo]``.
    """
    x0, y0 = jnp.floor(ix), jnp.floor(iy)
    tx, ty = (ix - x0)[:, None].astype(x.dtype), (iy - y0)[:, None].astype(x.dtype)
    x0, y0 = x0.astype(jnp.int32), y0.astype(jnp.int32)
    # products added elementwise, not a dot (which runs at reduced precision on TPUs)
    return (_gather(x, y0, x0) * (1 - tx) * (1 - ty) + _gather(x, y0, x0 + 1) * tx * (1 - ty)
            + _gather(x, y0 + 1, x0) * (1 - tx) * ty + _gather(x, y0 + 1, x0 + 1) * tx * ty)

__all__ = ["affine_grid", "grid_sample", "sample_bilinear"]
