"""Gradient clipping by total norm, computed exactly as ``torch.nn.utils.clip_grad_norm_``.

optax's ``clip_by_global_norm`` differs from PyTorch in two ways that change the
numbers: it leaves the gradients alone below the threshold and divides by the norm
above it (``g / norm * max_norm``), while PyTorch always multiplies by
``min(max_norm / (norm + 1e-6), 1)``; the ``1e-6`` alone moves every clipped
gradient by ``1e-6 / norm`` relative (5e-5 at a norm of 0.02). And PyTorch's total
norm is the norm of the per-tensor norms, not one sum of squares over all entries.
:func:`clip_grad_norm` follows PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import optax

from fnnet.nn.tree_check import first_leaf, is_numeric
from fnnet.typing import Array


def check_max_norm(max_norm: Any, name: str = "max_norm") -> float:
    """``max_norm`` as a float; a TypeError or ValueError naming it as ``name`` (the
    argument the caller took it as) unless it is a positive finite number."""
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)):
        raise TypeError(f"{name} must be a number, got {max_norm!r}")
    if not (max_norm > 0 and math.isfinite(max_norm)):
        raise ValueError(f"{name} must be a positive finite number, got {max_norm!r}")
    return float(max_norm)


def _check_norm_type(norm_type: Any) -> float:
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)):
        raise TypeError(f"norm_type must be a number, got {norm_type!r}")
    if math.isnan(norm_type):
        raise ValueError(f"norm_type must be a number of the p-norm, got {norm_type!r}")
    return float(norm_type)


def total_norm(grads: Any, norm_type: float = 2.0) -> Array:
    """The norm of the per-tensor norms of ``grads``, as PyTorch computes it.

    Args:
        grads: a pytree of arrays.
        norm_type: the p of the p-norm, as ``torch.linalg.vector_norm``'s ``ord``:
            ``math.inf`` for the largest absolute value, ``-math.inf`` the smallest, 0
            the count of nonzero elements.

    Returns:
        A float32 scalar (0 for an empty tree).

    Raises:
        TypeError: a leaf of ``grads`` is not an array of numbers, or ``norm_type`` is
            not a number.
        ValueError: ``norm_type`` is NaN.

    PyTorch equivalent: ``torch.nn.utils.get_total_norm`` (the ``total_norm`` that
    ``clip_grad_norm_`` returns).
    """
    norm_type = _check_norm_type(norm_type)
    leaves = jax.tree.leaves(grads)
    # Inside a jitted step this runs once, when the step is traced.
    if not all(map(is_numeric, leaves)):
        name, leaf = first_leaf(grads, lambda x: not is_numeric(x)) or ("", None)
        raise TypeError(f"total_norm: grads must hold arrays of numbers, got "
                        f"{type(leaf).__name__} at {name!r}")
    if not leaves:
        return jnp.zeros((), jnp.float32)
    norms = jnp.stack([jnp.linalg.norm(jnp.ravel(g), ord=norm_type) for g in leaves])
    total: Array = jnp.linalg.norm(norms, ord=norm_type)
    return total


def clip_grad_norm(grads: Any, max_norm: float, norm_type: float = 2.0) -> tuple[Any, Array]:
    """Scales ``grads`` so that their total norm is at most ``max_norm``.

    ``grads * min(max_norm / (total_norm + 1e-6), 1)``: below the threshold the factor
    is exactly 1; a non-finite norm makes every gradient non-finite, as in PyTorch.

    Args:
        grads: a pytree of gradient arrays.
        max_norm: the largest total norm allowed (> 0).
        norm_type: the p of the p-norm (see :func:`total_norm`).

    Returns:
        ``(clipped grads, total norm before clipping)``.

    Raises:
        TypeError: ``max_norm`` or ``norm_type`` is not a number.
        ValueError: ``max_norm`` is not positive and finite, or ``norm_type`` is NaN.

    PyTorch equivalent: ``torch.nn.utils.clip_grad_norm_(parameters, max_norm,
    norm_type)``, returning the clipped gradients instead of changing them in place.
    """
    max_norm = check_max_norm(max_norm)
    norm = total_norm(grads, norm_type)
    return clip_grads_with_norm(grads, max_norm, norm), norm


def clip_grads_with_norm(grads: Any, max_norm: float, norm: Array) -> Any:
    """``grads * min(max_norm / (norm + 1e-6), 1)``: the scaling of
    :func:`clip_grad_norm` by a total norm computed beforehand.

    PyTorch equivalent: ``torch.nn.utils.clip_grads_with_norm_(parameters, max_norm,
    total_norm)``, returning the clipped gradients instead of changing them in place.
    """
    return scale_to_norm(grads, check_max_norm(max_norm), norm)


def scale_to_norm(grads: Any, max_norm: float | Array, norm: Array) -> Any:
    """:func:`clip_grads_with_norm` without its check of ``max_norm``, which may then be
    a scalar array (a value a compiled step takes as an input, so that a ``max_norm``
    changing from step to step does not compile the step again)."""
    scale = jnp.minimum(max_norm / (norm + 1e-6), 1.0)
    return jax.tree.map(lambda g: g * scale.astype(g.dtype), grads)


def clip_by_total_norm(max_norm: float, norm_type: float = 2.0) -> optax.GradientTransformation:
    """:func:`clip_grad_norm` as an optax transformation, to chain before an optimizer.

    Example::

        opt = optax.chain(fnnet.optim.clip_by_total_norm(1.0), fnnet.optim.SGD(lr=0.1))

    PyTorch equivalent: ``clip_grad_norm_(model.parameters(), max_norm)`` between
    ``loss.backward()`` and ``optimizer.step()``.
    """
    max_norm = check_max_norm(max_norm)
    norm_type = _check_norm_type(norm_type)

    def update_fn(updates: Any, state: Any, params: Any = None) -> tuple[Any, Any]:
        del params
        return clip_grad_norm(updates, max_norm, norm_type)[0], state

    return optax.GradientTransformation(optax.init_empty_state, update_fn)
