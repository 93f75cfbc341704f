"""Copies of host arrays on the default device, never sharing the host's memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.core import Literal
from jax.extend.core.primitives import broadcast_in_dim_p

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


def placed(array: np.ndarray | jax.Array) -> jax.Array:
    """A fresh device copy of a host or device ``array``, for a value made now and then
    (a new layer's parameters, a deep copy): ``jax.device_put``, which compiles nothing,
    where ``jnp.array(array, copy=True)`` and the copy programs of :func:`to_device`
    compile once per shape and dtype."""
    copied: jax.Array = jax.device_put(array, may_alias=False)
    return copied


def constant_outputs(fn: Callable[..., Any], *specs: jax.ShapeDtypeStruct) -> Any | None:
    """``fn``'s outputs for arguments of the shapes ``specs``, made on the host and placed
    (:func:`placed`) without a compile, where each is a literal or a literal broadcast to
    a shape (a new optimizer state of zeros); None where one is computed otherwise.

    Run eagerly, each such broadcast compiles a program per shape and dtype.
    """
    closed, shapes = jax.make_jaxpr(fn, return_shape=True)(*specs)
    made: dict[Any, np.ndarray] = {}
    for eqn in closed.jaxpr.eqns:
        if eqn.primitive is not broadcast_in_dim_p or len(eqn.invars) != 1 or \
                not isinstance(eqn.invars[0], Literal) or eqn.outvars[0].aval.weak_type:
            return None
        out = eqn.outvars[0]
        made[out] = np.full(eqn.params["shape"], eqn.invars[0].val, out.aval.dtype)
    specs_out, treedef = jax.tree_util.tree_flatten(shapes)
    leaves = []
    for var, spec in zip(closed.jaxpr.outvars, specs_out, strict=True):
        if spec.weak_type:
            return None
        if isinstance(var, Literal):
            leaves.append(np.asarray(var.val, spec.dtype))
        elif var in made:
            leaves.append(made[var])
        else:
            return None
    return jax.tree_util.tree_unflatten(treedef, [placed(leaf) for leaf in leaves])


def check_device(device: object) -> None:
    """Raises a TypeError unless ``device`` is None, a ``jax.Device`` or a ``Sharding``
    (where a data set or its batches may be placed)."""
    if device is not None and not isinstance(device, jax.Device | jax.sharding.Sharding):
        raise TypeError(f"device must be a jax.Device or a Sharding (e.g. "
                        f"jax.devices()[0]), got {device!r}")
