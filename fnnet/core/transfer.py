"""Copies of host arrays on the default device, never sharing the host's memory."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

#: arrays of at least this many bytes are copied by :data:`copy_to_device`; smaller
#: ones by ``jnp.asarray``, whose small copy program (one per shape) costs a call less
LARGE_BYTES = 1 << 16

#: ``copy_to_device(tree) -> tree``: a pytree of host arrays as fresh device buffers.
#: A jitted identity, dispatched asynchronously, where ``jax.device_put`` of a numpy
#: array costs several times more on the CPU and may alias the array's memory. It
#: compiles once per shape and dtype. The host arrays must not be written until the
#: copy is done: hand it arrays of one's own (as :func:`to_device` does).
copy_to_device = jax.jit(lambda tree: tree)


def to_device(array: np.ndarray) -> jax.Array:
    """A device copy of ``array`` (of a dtype jax keeps; see ``canonicalize_dtype``)
    that a later write to ``array`` does not reach.

    ``array`` is copied on the host first: jax may read a numpy argument after the call
    has returned (the transfer is asynchronous) or keep pointing at its memory. The
    private copy then goes through :data:`copy_to_device` when large, through
    ``jnp.asarray`` (a smaller program per shape, quicker to call) when small.
    """
    private = np.array(array)
    copied: jax.Array = copy_to_device(private) if private.nbytes >= LARGE_BYTES else \
        jnp.asarray(private)
    return copied


def placed(array: np.ndarray) -> jax.Array:
    """A device copy of ``array`` for a value made once (a new layer's parameters):
    ``jax.device_put`` of a private host copy, which compiles nothing, where the copy
    programs of :func:`to_device` compile once per shape and dtype."""
    copied: jax.Array = jax.device_put(np.array(array))
    return copied


def check_device(device: object) -> None:
    """Raises a TypeError unless ``device`` is None, a ``jax.Device`` or a ``Sharding``
    (where a data set or its batches may be placed)."""
    if device is not None and not isinstance(device, jax.Device | jax.sharding.Sharding):
        raise TypeError(f"device must be a jax.Device or a Sharding (e.g. "
                        f"jax.devices()[0]), got {device!r}")
