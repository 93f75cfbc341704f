"""Affine map."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from fnnet.nn.functional._utils import accumulation, widened
from fnnet.typing import Array


def linear(x: Array, weight: Array, bias: Array | None = None) -> Array:
    """``y = x @ weight.T + bias``.

    Args:
        x: ``[..., in_features]``.
        weight: ``[out_features, in_features]`` (PyTorch's layout).
        bias: ``[out_features]`` or None.

    Returns:
        ``[..., out_features]``.

    Raises:
        ValueError: ``weight`` is not 2-D, ``x``'s last axis is not ``in_features``, or
            ``bias`` is not ``[out_features]``.

    PyTorch equivalent: ``torch.nn.functional.linear``.
    """
    w_shape, x_shape = tuple(jnp.shape(weight)), tuple(jnp.shape(x))
    if len(w_shape) not in (1, 2):  # PyTorch also takes a [in_features] weight
        raise ValueError(f"linear: weight must be [out_features, in_features] (or "
                         f"[in_features]), got shape {w_shape}")
    if not x_shape or x_shape[-1] != w_shape[-1]:
        raise ValueError(f"linear: input of shape {x_shape} does not match weight of shape "
                         f"{w_shape} (expected {w_shape[-1]} features on the last axis)")
    if bias is not None and tuple(jnp.shape(bias)) != w_shape[:-1]:
        raise ValueError(f"linear: bias must have shape {w_shape[:-1]} for weight of shape "
                         f"{w_shape}, got {tuple(jnp.shape(bias))}")
    dtype = jnp.result_type(x, weight, *(() if bias is None else (bias,)))
    y = jnp.matmul(x, weight.T, preferred_element_type=accumulation(dtype))
    return (y if bias is None else y + widened(bias)).astype(dtype)


def matmul(a: Array, b: Array) -> Array:
    """``a @ b`` with numpy's (and PyTorch's) broadcasting; float16/bfloat16 products are
    summed in float32 and rounded once, as PyTorch's kernels compute them.

    Args:
        a: ``[..., n, k]`` (or ``[k]``).
        b: ``[..., k, m]`` (or ``[k]``).

    Returns:
        ``[..., n, m]`` in the operands' common dtype.

    PyTorch equivalent: ``torch.matmul``.
    """
    dtype = jnp.result_type(a, b)
    wide = accumulation(dtype)
    if wide is None:
        return jnp.matmul(a, b)
    return jnp.matmul(a, b, preferred_element_type=wide).astype(dtype)


def add_product(x: Array, product: Array, beta: Any, alpha: Any) -> Array:
    """``beta * x + alpha * product`` of a fused product (``addmm``, ``baddbmm``...);
    PyTorch skips ``x`` when ``beta`` is 0, so its NaN and infinities do not reach the
    result."""
    out: Array = jnp.where(beta == 0, jnp.zeros_like(x), beta * x) + alpha * product
    return out


def add_matrix_product(x: Array, a: Array, b: Array, beta: Any = 1, alpha: Any = 1,
                       product: Callable[..., Array] = jnp.matmul) -> Array:
    """``beta * x + alpha * product(a, b)`` (``addmm``, ``baddbmm``...): for float16 and
    bfloat16 summed in float32 and rounded once, as PyTorch's kernels compute it.

    Args:
        x: the term added, broadcastable to the product.
        a: the product's first operand.
        b: its second operand.
        beta: the scale of ``x``.
        alpha: the scale of the product.
        product: ``(a, b, **kwargs) -> array`` taking ``preferred_element_type``
            (``jnp.matmul`` by default).

    Returns:
        The sum in the operands' common dtype.
    """
    dtype = jnp.result_type(x, a, b)
    wide = accumulation(dtype)
    if wide is None:
        return add_product(x, product(a, b), beta, alpha)
    out: Array = add_product(widened(x), product(a, b, preferred_element_type=wide), beta,
                             alpha).astype(dtype)
    return out


def bilinear(x1: Array, x2: Array, weight: Array, bias: Array | None = None) -> Array:
    """``y_o = x1^T A_o x2 + b_o`` for each output ``o``.

    Args:
        x1: ``[..., in1_features]``.
        x2: ``[..., in2_features]`` (the same leading shape).
        weight: ``[out_features, in1_features, in2_features]``.
        bias: ``[out_features]`` or None.

    Returns:
        ``[..., out_features]``.

    PyTorch equivalent: ``torch.nn.functional.bilinear``.
    """
    y = jnp.einsum("...i,oij,...j->...o", x1, weight, x2)
    return y if bias is None else y + bias
