"""Dropout: zeroing random elements during training."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Hashable, Iterator

import jax.numpy as jnp
from jax import lax

from fnnet.nn.errors import check_key
from fnnet.nn.init import bernoulli
from fnnet.typing import Array, PRNGKey

# The mapped axis over which the batch is split while a data-parallel step is traced.
_SHARDED_BATCH: contextvars.ContextVar[Hashable | None] = contextvars.ContextVar(
    "fnnet_sharded_batch", default=None)


@contextlib.contextmanager
def sharded_batch(axis_name: Hashable | None) -> Iterator[None]:
    """Declares that the batch (axis 0) is split over the mapped axis ``axis_name``.

    While the context is open, :func:`dropout` (and so every ``Dropout`` layer) behaves
    as if given ``axis_name``: it draws the mask of the whole, global batch from its key
    and keeps this device's rows, so a data-parallel step drops exactly the elements
    that the single-device step over the full batch drops. The data-parallel steps of
    :mod:`fnnet.train` and :mod:`fnnet.parallel` open it around the forward pass;
    ``None`` opens nothing.

    Example::

        def step(params, x, key):            # inside jax.pmap(..., axis_name="batch")
            with sharded_batch("batch"):
                y, _ = model.apply(params, {}, x, train=True, key=key)  # same key on all
    """
    token = _SHARDED_BATCH.set(axis_name)
    try:
        yield
    finally:
        _SHARDED_BATCH.reset(token)


def check_dropout_p(p: float, op: str = "dropout") -> float:
    """Returns ``p`` as a float; raises ValueError unless ``0 <= p <= 1`` (PyTorch's text)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"{op}: p must be a float, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(x: Array, p: float = 0.5, training: bool = True, *,
            key: PRNGKey | None = None, axis_name: Hashable | None = None) -> Array:
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)``.

    Args:
        x: any shape.
        p: the probability of DROPPING an element (PyTorch's meaning, not the keep
            rate). ``p = 1`` gives zeros.
        training: when False (or ``p = 0``) ``x`` is returned unchanged.
        key: the PRNG key the mask is drawn from; required when ``training`` and
            ``p > 0``. The same key gives the same mask.
        axis_name: inside ``pmap``/``shard_map`` where ``x`` is this device's shard
            (along axis 0) of a batch split over the mapped axis ``axis_name``: the
            mask of the whole batch is drawn and this device's rows are kept, so the
            result is the matching slice of ``dropout`` over the full batch with the
            same key (which must be the same on every device). Costs one draw of the
            global mask per device. Default: the axis declared by
            :func:`sharded_batch`, else none (a mask of ``x``'s own shape).

    Returns:
        An array of the shape and dtype of ``x``.

    Raises:
        ValueError: ``p`` is outside ``[0, 1]``, a key is needed and missing, or
            ``axis_name`` is given for a 0-d ``x``.

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
    check_key(key, "dropout")
    if p == 1.0:
        return jnp.zeros_like(x)
    if axis_name is None:
        axis_name = _SHARDED_BATCH.get()
    if axis_name is None:
        keep = bernoulli(key, 1.0 - p, jnp.shape(x))
    else:
        keep = _mask_shard(key, 1.0 - p, jnp.shape(x), axis_name)
    scale = 1.0 / (1.0 - p)  # PyTorch multiplies by the scale rather than dividing
    return jnp.where(keep, x * scale, jnp.zeros((), x.dtype)).astype(x.dtype)


#: SELU's negative saturation ``lambda * alpha``: alpha dropout's dropped units take
#: ``-_SELU_SATURATION`` before the affine correction
_SELU_SATURATION = 1.7580993408473766


def alpha_dropout(x: Array, p: float = 0.5, training: bool = True, *,
                  key: PRNGKey | None = None, feature: bool = False) -> Array:
    """Dropout that keeps SELU's zero mean and unit variance: dropped units are set to
    SELU's negative saturation, then ``a * x + b`` restores the moments (Klambauer et
    al., 2017), as PyTorch computes it.

    Args:
        x: any shape (``[N, C, *]``, at least 2-D, with ``feature``).
        p: the probability of dropping a unit; ``p = 1`` gives zeros.
        training: when False (or ``p = 0``) ``x`` is returned unchanged.
        key: the PRNG key the mask is drawn from; required when training with ``p > 0``.
        feature: drop whole channels (one draw per ``[n, c]``), as
            ``feature_alpha_dropout``.

    Returns:
        An array of the shape and dtype of ``x``.

    PyTorch equivalent: ``torch.nn.functional.alpha_dropout`` /
    ``feature_alpha_dropout``.
    """
    p = check_dropout_p(p, "alpha_dropout")
    if feature and jnp.ndim(x) < 2:
        raise ValueError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0 or jnp.size(x) == 0:
        return x
    if key is None:
        raise ValueError(f"alpha_dropout: training with p={p} needs a PRNG key; pass "
                         f"key=jax.random.key(...)")
    if p == 1.0:
        return x * jnp.zeros((), x.dtype)
    shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else x.shape
    keep = bernoulli(key, 1.0 - p, shape).astype(x.dtype)
    a = 1.0 / ((_SELU_SATURATION ** 2 * p + 1) * (1 - p)) ** 0.5
    b = (keep - 1) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p
    out: Array = (x * (keep * a) + b).astype(x.dtype)
    return out


def _mask_shard(key: PRNGKey, keep_prob: float, shape: tuple[int, ...],
                axis_name: Hashable) -> Array:
    """This device's rows of the keep-mask of the global batch ``[n * devices, ...]``."""
    if not shape:
        raise ValueError(
            f"dropout: axis_name={axis_name!r} needs a batch axis 0 to split, got a 0-d input"
        )
    n, devices = shape[0], lax.axis_size(axis_name)
    if devices == 1:
        return bernoulli(key, keep_prob, shape)
    full = bernoulli(key, keep_prob, (n * devices, *shape[1:]))
    return lax.dynamic_slice_in_dim(full, lax.axis_index(axis_name) * n, n, axis=0)

