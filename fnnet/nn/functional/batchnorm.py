"""Batch normalisation, with PyTorch's running-statistics update, optionally synced."""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable

import jax
import jax.numpy as jnp
from jax import lax

from fnnet.nn.functional import kernels
from fnnet.nn.functional._utils import check_rank
from fnnet.typing import Array


def _check_vector(name: str, value: Array | None, channels: int) -> None:
    if value is not None and tuple(jnp.shape(value)) != (channels,):
        raise ValueError(
            f"batch_norm: expected {name} of shape {(channels,)} (one entry per channel "
            f"of the input), got {tuple(jnp.shape(value))}"
        )


def batch_norm(
    x: Array,
    running_mean: Array | None,
    running_var: Array | None,
    weight: Array | None = None,
    bias: Array | None = None,
    training: bool = False,
    momentum: float | None = 0.1,
    eps: float = 1e-5,
    axis_name: Hashable | None = None,
    *,
    num_batches_tracked: Array | int | None = None,
) -> tuple[Array, Array | None, Array | None]:
    """Normalises each channel (axis 1) to zero mean and unit variance, then scales.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias``. In training the mean and the
    BIASED variance of the batch (over every axis but 1) are used and the running
    statistics are updated as PyTorch does::

        running_mean = (1 - momentum) * running_mean + momentum * batch_mean
        running_var  = (1 - momentum) * running_var  + momentum * batch_var_unbiased

    Outside training the running statistics are used and returned unchanged.

    Args:
        x: ``[N, C]``, ``[N, C, L]`` or ``[N, C, H, W]`` (any rank >= 2).
        running_mean: ``[C]``, or None to keep no running statistics (then
            ``training`` must be True).
        running_var: ``[C]``, or None.
        weight: ``[C]`` scale, or None for 1.
        bias: ``[C]`` shift, or None for 0.
        training: use (and track) batch statistics.
        momentum: weight of the new batch in the running statistics. None means a
            cumulative average, ``momentum = 1 / num_batches_tracked``.
        eps: added to the variance inside the square root.
        axis_name: the name of a mapped axis (``pmap``/``shard_map``) to average the batch
            statistics over, i.e. SyncBatchNorm. The devices' batches may differ in
            size: the mean and the mean of squared deviations are those of all the
            devices' elements together (each device's weighted by its element count),
            and the summed count makes the unbiased correction. Where no axis of that
            name is mapped (a single-device step), the batch's own statistics are used, as
            PyTorch's SyncBatchNorm does outside a distributed run.
        num_batches_tracked: with ``momentum=None``, the number of batches tracked so far
            INCLUDING this one (PyTorch increments the counter before updating).

    Returns:
        ``(y, new_running_mean, new_running_var)``; ``y`` has the shape of ``x``; the
        running statistics are None where ``running_mean``/``running_var`` were None.

    Raises:
        ValueError: wrong ranks or shapes, a single value per channel while training,
            running statistics missing outside training, or ``momentum=None`` without
            ``num_batches_tracked``.

    PyTorch equivalent: ``torch.nn.functional.batch_norm`` (returning the new running
    statistics instead of updating them in place); with ``axis_name``,
    ``torch.nn.SyncBatchNorm``.
    """
    check_rank(x, tuple(range(2, 9)), "batch_norm", "[N, C, *]")
    channels = x.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        _check_vector(name, value, channels)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: pass both running_mean and running_var, or neither")
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var are needed when not training"
            )
        y = _affine(x, running_mean, lax.rsqrt(running_var + eps), weight, bias)
        return y.astype(x.dtype), running_mean, running_var

    axes, _ = _layout(x)
    local = math.prod(x.shape[a] for a in axes)  # this device's elements per channel
    count: int | Array = local
    if axis_name is not None and not _is_bound(axis_name):
        axis_name = None  # as PyTorch's SyncBatchNorm outside a distributed run
    if axis_name is None:
        if count <= 1:
            raise ValueError(
                "batch_norm: expected more than 1 value per channel when training, got "
                f"input of shape {tuple(x.shape)}"
            )
        ones = jnp.ones((channels,), x.dtype)
        y, mean, var = _normalize(x, ones if weight is None else weight,
                                  jnp.zeros_like(ones) if bias is None else bias, eps)
    else:
        # each device's sums weighted by its own element count, as PyTorch's
        # SyncBatchNorm: the devices' batches may differ in size
        total = jnp.sum(_counts(local, axis_name))
        share = (local / total).astype(x.dtype)  # this device's part of the elements
        mean = lax.psum(jnp.mean(x, axis=axes) * share, axis_name)
        var = lax.psum(_deviation(x, mean) * share, axis_name)
        count = total  # the unbiased correction below is over every device's elements
        y = _affine(x, mean, lax.rsqrt(var + eps), weight, bias)
    new_mean, new_var = running_mean, running_var
    if running_mean is not None and running_var is not None:
        factor: Array | float
        if momentum is None:
            if num_batches_tracked is None:
                raise ValueError(
                    "batch_norm: momentum=None (cumulative average) needs "
                    "num_batches_tracked="
                )
            factor = 1.0 / jnp.asarray(num_batches_tracked, running_mean.dtype)
        else:
            factor = momentum
        # Running statistics are buffers: no gradient flows into them.
        batch_mean = lax.stop_gradient(mean).astype(running_mean.dtype)
        batch_var = lax.stop_gradient(var * (count / (count - 1))).astype(running_var.dtype)
        new_mean = (1 - factor) * running_mean + factor * batch_mean
        new_var = (1 - factor) * running_var + factor * batch_var
    return y.astype(x.dtype), new_mean, new_var


def _counts(count: int, axis_name: Hashable) -> Array:
    """Every device's ``count`` along ``axis_name``: ``[axis size]``. ``lax.psum`` of the
    number itself would multiply it by the axis size (a constant is taken to be the same
    on every device), where the processes of a distributed run may hold other counts."""
    devices = lax.axis_size(axis_name)
    mine = jnp.arange(devices) == lax.axis_index(axis_name)
    counts: Array = lax.psum(jnp.where(mine, count, 0), axis_name)
    return counts


def _is_bound(axis_name: Hashable) -> bool:
    """Whether ``axis_name`` is a mapped axis (``shard_map``, ``pmap``, ``vmap``) here."""
    try:
        lax.axis_size(axis_name)
    except NameError:
        return False
    return True


def _layout(x: Array) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes reduced per channel (all but 1) and the shape a ``[C]`` vector
    broadcasts from against ``x``."""
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _deviation(x: Array, mean: Array) -> Array:
    """Mean squared deviation from ``mean`` per channel. Two passes (mean, then this):
    stable where ``E[x^2] - E[x]^2`` loses digits."""
    axes, shape = _layout(x)
    return jnp.mean(jnp.square(x - jnp.reshape(mean, shape)), axis=axes)


def _affine(x: Array, mean: Array, rstd: Array, weight: Array | None,
            bias: Array | None) -> Array:
    """``(x - mean) * rstd * weight + bias`` per channel (axis 1)."""
    _, shape = _layout(x)
    y = (x - jnp.reshape(mean, shape)) * jnp.reshape(rstd, shape)
    if weight is not None:
        y = y * jnp.reshape(weight, shape)
    if bias is not None:
        y = y + jnp.reshape(bias, shape)
    return y


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _normalize(x: Array, weight: Array, bias: Array, eps: float
               ) -> tuple[Array, Array, Array]:
    """Training-mode normalisation by the batch's statistics: ``(y, mean, var)``.

    Its derivative is the closed form, ``dy = w * rstd * (dx - mean(dx) - xhat *
    mean(dx * xhat)) + dw * xhat + db``: two reductions and one pass over ``x``, which
    XLA's CPU backend runs faster than the derivative of the two-pass statistics. The
    projection is self-adjoint, so its transpose (reverse mode) has the same form.
    """
    mean = jnp.mean(x, axis=_layout(x)[0])
    var = _deviation(x, mean)
    return _affine(x, mean, lax.rsqrt(var + eps), weight, bias), mean, var


@_normalize.defjvp
def _normalize_jvp(eps: float, primals: tuple[Array, Array, Array],
                   tangents: tuple[Array, Array, Array]
                   ) -> tuple[tuple[Array, Array, Array], tuple[Array, Array, Array]]:
    x, weight, bias = primals
    dx, dweight, dbias = tangents
    axes, shape = _layout(x)
    mean = jnp.mean(x, axis=axes)
    var = _deviation(x, mean)
    rstd = lax.rsqrt(var + eps)
    y = _affine(x, mean, rstd, None, None) * jnp.reshape(weight, shape) + jnp.reshape(
        bias, shape)

    def tangent(rstd: Array, x: Array, mean: Array, weight: Array, dx: Array,
                dweight: Array, dbias: Array) -> tuple[Array, Array, Array]:
        xhat = _affine(x, mean, rstd, None, None)
        dmean = jnp.mean(dx, axis=axes)
        dxhat = dx - jnp.reshape(dmean, shape) - xhat * jnp.reshape(
            jnp.mean(dx * xhat, axis=axes), shape)
        dy = (jnp.reshape(weight * rstd, shape) * dxhat
              + xhat * jnp.reshape(dweight, shape) + jnp.reshape(dbias, shape))
        # d var = 2 mean((x - mean) dx); the running statistics take it under stop_gradient.
        dvar = 2 * jnp.mean((x - jnp.reshape(mean, shape)) * dx, axis=axes)
        return dy.astype(x.dtype), dmean, dvar

    # The backward pass recomputes xhat from x rather than holding both (a full-size
    # activation per layer).
    dout = kernels.held_for_backward(tangent, rstd, x, mean, weight, dx, dweight, dbias)
    return (y.astype(x.dtype), mean, var), dout
