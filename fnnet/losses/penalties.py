"""L1 and L2 penalties over a parameter tree, for regularised losses."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from fnnet.losses.regression import absolute
from fnnet.nn.tree_check import dotted, is_numeric
from fnnet.typing import Array, Params


def _penalty(params: Params, term: Callable[[Array], Array], only_weights: bool,
             name: str) -> Array:
    if not isinstance(only_weights, bool):
        raise TypeError(f"{name}: only_weights must be a bool, got {only_weights!r}")
    leaves = jax.tree_util.tree_leaves_with_path(params)
    total = jnp.zeros((), jnp.float32)
    for path, leaf in leaves:
        if only_weights and not dotted(path).endswith("weight"):
            continue
        if not is_numeric(leaf):  # a str would fail in result_type with numpy's words
            raise TypeError(f"{name}: params must hold floating-point arrays, got "
                            f"{type(leaf).__name__} at {dotted(path)!r}")
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            raise TypeError(
                f"{name}: params must hold floating-point arrays, got dtype "
                f"{jnp.result_type(leaf)} at {dotted(path)!r}"
            )
        total = total + jnp.sum(term(leaf))
    return total


def l1_penalty(params: Params, *, only_weights: bool = False) -> Array:
    """``sum |w|`` over every leaf of ``params`` (or only those named ``...weight``).

    Args:
        params: a parameter tree, e.g. ``{"fc1": {"weight": ..., "bias": ...}}``.
        only_weights: sum only the leaves whose dotted name (``fc1.weight``) ends in
            ``weight``, leaving biases out (BatchNorm's ``weight`` is kept, as a
            ``name.endswith("weight")`` filter over ``named_parameters()`` keeps it).

    Returns:
        A float32 scalar; add ``l1 * l1_penalty(params)`` to the loss.

    Raises:
        TypeError: a leaf of ``params`` (one summed) is not a floating-point array, or
            ``only_weights`` is not a bool.

    PyTorch equivalent: ``sum(p.abs().sum() for p in model.parameters())``.
    """
    return _penalty(params, absolute, only_weights, "l1_penalty")


def l2_penalty(params: Params, *, only_weights: bool = False) -> Array:
    """``sum w**2`` over every leaf of ``params`` (or only those named ``...weight``).

    Note that PyTorch's ``weight_decay=wd`` is the gradient of ``wd / 2 * l2_penalty``.

    Args:
        params: a parameter tree.
        only_weights: sum only the leaves whose dotted name ends in ``weight``.

    Returns:
        A float32 scalar.

    Raises:
        TypeError: a leaf of ``params`` (one summed) is not a floating-point array, or
            ``only_weights`` is not a bool.

    PyTorch equivalent: ``sum(p.pow(2).sum() for p in model.parameters())``.
    """
    return _penalty(params, jnp.square, only_weights, "l2_penalty")


__all__ = ["l1_penalty", "l2_penalty"]
