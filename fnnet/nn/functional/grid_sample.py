"""Spatial transformers: the sampling grid of an affine map and sampling an image at a
grid's points (Jaderberg et al., "Spatial Transformer Networks", 2015), with PyTorch's
coordinate conventions (``-1`` and ``1`` are the edges of the corner pixels, or their
centres with ``align_corners``)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.nn.functional.resize import _cubic_weights
from fnnet.typing import Array

GRID_MODES = ("bilinear", "nearest", "bicubic")
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
    """The points ``theta @ (x, y[, z], 1)`` of the output pixels' normalised coordinates.

    Args:
        theta: ``[N, 2, 3]`` (2-D) or ``[N, 3, 4]`` (3-D) affine maps from output to input
            coordinates.
        size: the output's ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        align_corners: whether ``-1``/``1`` are the corner pixels' centres.

    Returns:
        ``[N, H, W, 2]`` or ``[N, D, H, W, 3]``: for each output pixel its ``(x, y[, z])``
        in the input.

    PyTorch equivalent: ``torch.nn.functional.affine_grid``.
    """
    spatial = tuple(int(s) for s in size[2:])
    k = len(spatial)
    if k not in (2, 3) or theta.ndim != 3 or theta.shape[1:] != (k, k + 1):
        raise ValueError(f"affine_grid: expected theta of shape [N, 2, 3] for a 4-D size or "
                         f"[N, 3, 4] for a 5-D size, got {tuple(theta.shape)} and size "
                         f"{tuple(size)}")
    if size[0] != theta.shape[0]:
        raise ValueError(f"affine_grid: expected size (N, C, ...) with N = "
                         f"{theta.shape[0]}, got {tuple(size)}")
    # coordinate arrays of the axes (D,) H, W; the grid's last axis lists them x first
    axes = np.meshgrid(*(_base(n, align_corners) for n in spatial), indexing="ij")
    base = np.stack([*axes[::-1], np.ones(spatial, np.float32)], axis=-1)  # [..., k + 1]
    return jnp.einsum("...i,nji->n...j", jnp.asarray(base, theta.dtype), theta)


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


def _clip(coord: Array, n: int) -> Array:
    """``coord`` clipped to ``[0, n - 1]``, with no gradient at either end or beyond:
    PyTorch's ``clip_coordinates_set_grad`` counts the ends as outside (where jax's clip
    would split a tie's gradient in half)."""
    inside = (coord > 0) & (coord < n - 1)
    return jnp.where(inside, coord, jax.lax.stop_gradient(jnp.clip(coord, 0, n - 1)))


def _pad(coord: Array, n: int, padding_mode: str, align_corners: bool) -> Array:
    """A pixel coordinate moved inside ``[0, n - 1]`` by ``padding_mode`` (PyTorch's
    ``compute_coordinates``); ``zeros`` leaves it where it is."""
    if padding_mode == "border":
        coord = _clip(coord, n)
    elif padding_mode == "reflection":
        # about the corner pixels' centres, or about their outer edges
        coord = _reflect(coord, 0.0, n - 1.0) if align_corners else \
            _reflect(coord, -0.5, n - 0.5)
        coord = _clip(coord, n)
    return coord


def _source(coord: Array, n: int, padding_mode: str, align_corners: bool) -> Array:
    return _pad(_unnormalize(coord, n, align_corners), n, padding_mode, align_corners)


def _index(coord: Array, n: int) -> Array:
    """Integer pixel indices of integer-valued coordinates; far-outside points are kept
    outside (clipped to ``[-2, n + 1]``) rather than overflowing the integer type."""
    return jnp.clip(coord, -2, n + 1).astype(jnp.int32)


def grid_sample(x: Array, grid: Array, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool = False) -> Array:
    """Samples ``x`` at the points of ``grid``.

    Args:
        x: ``[N, C, H, W]`` or ``[N, C, D, H, W]``.
        grid: ``[N, H_out, W_out, 2]`` normalised ``(x, y)`` points, or ``[N, D_out, H_out,
            W_out, 3]`` normalised ``(x, y, z)`` points for a 5-D ``x``.
        mode: ``"bilinear"`` (trilinear for 5-D ``x``), ``"nearest"`` (round half to
            even, as PyTorch) or ``"bicubic"`` (4-D ``x``; Keys' cubic with ``a = -0.75``
            over 4 x 4 neighbours, each placed by ``padding_mode``).
        padding_mode: ``"zeros"`` (outside points read 0), ``"border"`` (the edge) or
            ``"reflection"``.
        align_corners: as in :func:`affine_grid`.

    Returns:
        ``[N, C, H_out, W_out]`` or ``[N, C, D_out, H_out, W_out]``.

    PyTorch equivalent: ``torch.nn.functional.grid_sample``.
    """
    if mode not in GRID_MODES:
        raise ValueError(f"grid_sample: mode must be one of {GRID_MODES}, got {mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"grid_sample: padding_mode must be one of {PADDING_MODES}, got "
                         f"{padding_mode!r}")
    k = x.ndim - 2
    if k not in (2, 3) or grid.ndim != x.ndim or grid.shape[-1] != k or \
            grid.shape[0] != x.shape[0]:
        raise ValueError(f"grid_sample: expected input [N, C, H, W] and grid [N, H_out, "
                         f"W_out, 2] (or input [N, C, D, H, W] and grid [N, D_out, H_out, "
                         f"W_out, 3]) with the same N, got {tuple(x.shape)} and "
                         f"{tuple(grid.shape)}")
    if mode == "bicubic":
        if k != 2:
            raise ValueError("grid_sample: bicubic interpolation only supports 4-D input")
        return _sample_bicubic(x, grid, padding_mode, align_corners)
    spatial = x.shape[2:]
    # the grid's last axis is (x, y[, z]): its first entry indexes x's last axis
    coords = [_source(grid[..., k - 1 - a], spatial[a], padding_mode, align_corners)
              for a in range(k)]
    if mode == "nearest":
        return _gather(x, [_index(jnp.round(c), n) for c, n in zip(coords, spatial,
                                                                    strict=True)])
    return _sample_linear(x, coords)


def _gather(x: Array, index: Sequence[Array]) -> Array:
    """``x [N, C, *S]`` at the integer points ``index`` (one ``[N, *P]`` array per
    spatial axis of ``x``), 0 where they fall outside: ``[N, C, *P]`` by one gather over
    the whole batch (callers stack all their neighbours into ``P``: one gather and, in
    the gradient, one scatter, compile far faster than one per neighbour)."""
    n, c, *spatial = x.shape
    inside = jnp.ones(index[0].shape, bool)
    flat = jnp.zeros(index[0].shape, jnp.int32)
    for i, size in zip(index, spatial, strict=True):
        inside = inside & (i >= 0) & (i < size)
        flat = flat * size + jnp.clip(i, 0, size - 1)
    values = jax.vmap(lambda image, points: image[:, points])(
        x.reshape(n, c, -1), flat.reshape(n, -1))
    # selected, not multiplied: a negative value times 0 would read -0.0, which PyTorch
    # (skipping outside points) never gives
    return jnp.where(inside[:, None], values.reshape(n, c, *index[0].shape[1:]), 0)


def _sample_linear(x: Array, coords: Sequence[Array]) -> Array:
    """``x [N, C, *S]`` sampled (bi/tri)linearly at the pixel coordinates ``coords`` (one
    ``[N, *S_out]`` array per spatial axis; neighbours outside the image read 0)."""
    low = [jnp.floor(c) for c in coords]
    frac = [(c - f)[:, None].astype(x.dtype) for c, f in zip(coords, low, strict=True)]
    low = [_index(f, n) for f, n in zip(low, x.shape[2:], strict=True)]
    corners = list(itertools.product((0, 1), repeat=len(coords)))
    # the 2^k neighbours of every point, stacked on axis 1 of the indices
    values = _gather(x, [jnp.stack([f + corner[a] for corner in corners], axis=1)
                         for a, f in enumerate(low)])
    out = None
    # products added elementwise, not a dot (which runs at reduced precision on TPUs)
    for k, corner in enumerate(corners):
        term = values[:, :, k]
        for t, b in zip(frac[::-1], corner[::-1], strict=True):
            term = term * (t if b else 1 - t)
        out = term if out is None else out + term
    assert out is not None
    return out


def sample_bilinear(x: Array, ix: Array, iy: Array) -> Array:
    """``x [N, C, H, W]`` sampled bilinearly at the pixel coordinates ``ix, iy [N, Ho,
    Wo]`` (column and row; neighbours outside the image read 0).

    Returns:
        ``[N, C, Ho, Wo]``.
    """
    return _sample_linear(x, [iy, ix])


def _sample_bicubic(x: Array, grid: Array, padding_mode: str, align_corners: bool) -> Array:
    """``x [N, C, H, W]`` at ``grid [N, Ho, Wo, 2]`` by cubic convolution over the 4 x 4
    pixels around each point, as PyTorch: the point is not moved by ``padding_mode``,
    each of its 16 neighbours is (so the weights stay those of the point's fraction)."""
    h, w = x.shape[2:]
    ix = _unnormalize(grid[..., 0], w, align_corners)
    iy = _unnormalize(grid[..., 1], h, align_corners)
    x0, y0 = jnp.floor(ix), jnp.floor(iy)
    wx = [c[:, None].astype(x.dtype) for c in _cubic_weights(ix - x0)]
    wy = [c[:, None].astype(x.dtype) for c in _cubic_weights(iy - y0)]
    rows = jnp.stack([_index(_pad(y0 + (j - 1), h, padding_mode, align_corners), h)
                      for j in range(4)], axis=1)[:, :, None]  # [N, 4, 1, Ho, Wo]
    cols = jnp.stack([_index(_pad(x0 + (i - 1), w, padding_mode, align_corners), w)
                      for i in range(4)], axis=1)[:, None]  # [N, 1, 4, Ho, Wo]
    shape = (x.shape[0], 4, 4, *ix.shape[1:])
    values = _gather(x, [jnp.broadcast_to(rows, shape), jnp.broadcast_to(cols, shape)])
    out = None
    for j in range(4):  # along each row first, then down the column, as PyTorch
        along = wx[0] * values[:, :, j, 0]
        for i in range(1, 4):
            along = along + wx[i] * values[:, :, j, i]
        out = wy[j] * along if out is None else out + wy[j] * along
    assert out is not None
    return out

__all__ = ["affine_grid", "grid_sample", "sample_bilinear"]
