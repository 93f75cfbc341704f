"""Resizing feature maps: nearest-neighbour, (bi/tri)linear and bicubic interpolation
with PyTorch's sampling positions, and ``area`` (adaptive average pooling)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from fnnet.nn.functional.pooling import _adaptive_axis
from fnnet.typing import Array

MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution coefficient


def _cubic_weights(t: Array) -> list[Array]:
    """The four taps' weights of Keys' cubic convolution at fraction ``t`` (taps at
    ``floor - 1 ... floor + 2``), as PyTorch's ``upsample_bicubic2d``."""
    a = _CUBIC_A

    def near(x: Array) -> Array:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Array) -> Array:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def output_size(spatial: Sequence[int], size: int | Sequence[int] | None,
                scale_factor: float | Sequence[float] | None) -> tuple[int, ...]:
    """The output's spatial shape from ``size`` or ``scale_factor`` (exactly one given):
    ``floor(in * scale_factor)`` as PyTorch computes it."""
    rank = len(spatial)
    if size is None and scale_factor is None:  # PyTorch's words for both mistakes
        raise ValueError("either size or scale_factor should be defined")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = (size,) * rank if isinstance(size, int) else tuple(size)
        if len(sizes) != rank or any(not isinstance(s, int) or s <= 0 for s in sizes):
            raise ValueError(f"interpolate: size must be a positive int or {rank} of them "
                             f"for input with {rank} spatial dimensions, got {size!r}")
        return sizes
    assert scale_factor is not None
    factors = (scale_factor,) * rank if isinstance(scale_factor, (int, float)) else \
        tuple(scale_factor)
    if len(factors) != rank or any(f <= 0 for f in factors):
        raise ValueError(f"interpolate: scale_factor must be a positive number or {rank} of "
                         f"them, got {scale_factor!r}")
    return tuple(int(math.floor(n * float(f))) for n, f in zip(spatial, factors, strict=True))


def _scale(n_in: int, n_out: int, factor: float | None, align_corners: bool) -> float:
    """PyTorch's source-per-destination step along one axis."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / factor if factor is not None else n_in / n_out


def _antialiased(x: Array, out: tuple[int, ...], factors: tuple[float | None, ...],
                 mode: str) -> Array:
    """Bilinear or bicubic resizing of ``[N, C, H, W]`` whose kernel widens by the
    downscaling factor, as PyTorch's ``antialias=True`` (its cubic kernel then has
    ``a = -0.5``, as jax's): jax's ``scale_and_translate`` by ``scale_factor`` where
    given (PyTorch samples at ``1 / scale_factor``), else by the sizes' ratio."""
    scales = [f if f is not None else o / i
              for f, o, i in zip(factors, out, x.shape[2:], strict=True)]
    resized: Array = jax.image.scale_and_translate(
        x, (*x.shape[:2], *out), (2, 3), jnp.asarray(scales, jnp.float32),
        jnp.zeros(2, jnp.float32), method="linear" if mode == "bilinear" else "cubic",
        antialias=True)
    return resized


def interpolate(x: Array, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, antialias: bool = False) -> Array:
    """Resizes the spatial axes of ``x`` (everything after ``[N, C]``).

    Args:
        x: ``[N, C, L]``, ``[N, C, H, W]`` or ``[N, C, D, H, W]``.
        size: the output's spatial size (an int for every axis, or one per axis).
        scale_factor: or the factor(s) to multiply the input's size by; the sampling
            positions then use ``1 / scale_factor`` as PyTorch does.
        mode: ``'nearest'`` (PyTorch's legacy ``floor(dst * scale)``), ``'nearest-exact'``
            (pixel centres), ``'linear'``/``'bilinear'``/``'trilinear'`` for 1-3
            spatial axes, or ``'bicubic'`` (2 axes; Keys' cubic with ``a = -0.75``, the
            taps clamped at the edges, as PyTorch's), or ``'area'`` (each output cell the
            mean of its input window: adaptive average pooling).
        align_corners: for the linear modes, sample so that the corner pixels of input
            and output coincide (default False).
        antialias: for ``'bilinear'`` and ``'bicubic'``, widen the kernel when
            downscaling so that every input pixel contributes (PyTorch's ``antialias``;
            not with ``align_corners=True``).

    Returns:
        ``[N, C, *out_size]``.

    PyTorch equivalent: ``torch.nn.functional.interpolate``.
    """
    if mode not in MODES:
        raise NotImplementedError(f"interpolate: mode={mode!r} is not supported (supported: "
                                  f"{', '.join(MODES)}); resize with jax.image.resize")
    rank = x.ndim - 2
    if not 1 <= rank <= 3:
        raise ValueError(f"interpolate: expected 3-D, 4-D or 5-D input ([N, C, *spatial]), "
                         f"got shape {tuple(x.shape)}")
    linear = mode in _LINEAR_RANK
    if linear and _LINEAR_RANK[mode] != rank:
        raise ValueError(f"interpolate: mode={mode!r} needs {_LINEAR_RANK[mode] + 2}-D input, "
                         f"got {x.ndim}-D")
    if align_corners is not None and not linear:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    spatial = tuple(x.shape[2:])
    out = output_size(spatial, size, scale_factor)
    factors: tuple[float | None, ...] = (None,) * rank
    if scale_factor is not None:
        factors = tuple(float(f) for f in ((scale_factor,) * rank if isinstance(
            scale_factor, (int, float)) else scale_factor))
    if antialias:
        if mode not in ("bilinear", "bicubic") or rank != 2:
            raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                             "modes and requires a 4-D tensor as input")
        if align_corners:
            raise NotImplementedError("interpolate: antialias=True with align_corners=True is "
                                      "not supported; resize with align_corners=False")
        return _antialiased(x, out, factors, mode)
    if mode == "area":  # PyTorch resizes by adaptive average pooling to the output size
        for axis in range(rank):
            x = _adaptive_axis(x, axis + 2, out[axis])
        return x
    for axis in range(rank):
        n_in, n_out = spatial[axis], out[axis]
        scale = _scale(n_in, n_out, factors[axis], bool(align_corners))
        dst = jnp.arange(n_out, dtype=jnp.float32)
        dim = axis + 2
        if not linear:
            src = dst * scale if mode == "nearest" else (dst + 0.5) * scale
            index = jnp.minimum(jnp.floor(src).astype(jnp.int32), n_in - 1)
            x = jnp.take(x, index, axis=dim)
            continue
        if mode == "bicubic":
            src = dst * scale if align_corners else scale * (dst + 0.5) - 0.5
            floor = jnp.floor(src)
            shape = [1] * x.ndim
            shape[dim] = n_out
            taps = _cubic_weights((src - floor).astype(x.dtype))
            base = floor.astype(jnp.int32)
            parts = [jnp.take(x, jnp.clip(base + k - 1, 0, n_in - 1), axis=dim)
                     * w.reshape(shape) for k, w in enumerate(taps)]
            x = parts[0] + parts[1] + parts[2] + parts[3]
            continue
        src = dst * scale if align_corners else jnp.maximum(scale * (dst + 0.5) - 0.5, 0.0)
        low = jnp.minimum(jnp.floor(src).astype(jnp.int32), n_in - 1)
        high = jnp.minimum(low + 1, n_in - 1)
        weight = (src - low).astype(x.dtype)
        shape = [1] * x.ndim
        shape[dim] = n_out
        weight = weight.reshape(shape)
        x = jnp.take(x, low, axis=dim) * (1 - weight) + jnp.take(x, high, axis=dim) * weight
    return x


__all__ = ["interpolate", "output_size"]
