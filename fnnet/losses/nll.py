"""Negative log-likelihood over class indices, and the eager label check."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.losses._checks import (
    as_array,
    check_floating,
    check_reduction,
    check_weight,
    is_concrete,
)
from fnnet.typing import Array


def check_labels(target: Any, num_classes: int, *, ignore_index: int | None = None,
                 name: str = "target") -> None:
    """Raises a ValueError if a class label lies outside ``[0, num_classes)``.

    Under ``jax.jit`` a value cannot raise, so the losses cannot reject a bad label
    themselves: a jitted loss gives NaN for it. Call this eagerly (``fit`` does) on the
    labels before training; the losses also call it when their target is concrete.

    Args:
        target: integer class labels of any shape.
        num_classes: ``C``, the number of classes.
        ignore_index: a label value that is allowed anyway (``cross_entropy``'s
            ``ignore_index``).
        name: what ``target`` is called in the message.

    Raises:
        TypeError: ``target`` is not an integer array.
        ValueError: a label is out of range; the message names ``name``, the range, the
            first offending value and its index.

    PyTorch equivalent: the ``Target 12 is out of bounds`` check inside
    ``torch.nn.functional.nll_loss``.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"check_labels: num_classes must be an int, got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"check_labels: num_classes must be >= 1, got {num_classes}")
    labels = np.asarray(target)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name}: class labels must be integers, got dtype {labels.dtype}")
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if bad.any():
        flat = int(np.argmax(bad))
        index = np.unravel_index(flat, labels.shape) if labels.ndim else ()
        where = f" at index {index[0] if len(index) == 1 else tuple(map(int, index))}"
        raise ValueError(
            f"{name}: class labels must lie in [0, {num_classes}), got "
            f"{int(labels.reshape(-1)[flat])}{where if labels.ndim else ''}"
        )


def check_class_indices(loss: str, input: Array, target: Array, ignore_index: Any, *,
                        probabilities_ok: bool = False) -> None:
    """Checks a class-index target against ``input: [C]``, ``[N, C]`` or ``[N, C, d1...]``.

    Raises:
        ValueError: ``input`` is 0-D, or ``target``'s shape is not ``input``'s without
            the class axis.
        TypeError: ``target`` is not an integer array, or ``ignore_index`` not an int.
    """
    if input.ndim == 0:
        raise ValueError(f"{loss}: input must have a class axis ([C], [N, C] or "
                         f"[N, C, d1, ...]), got shape ()")
    expected = () if input.ndim == 1 else (input.shape[0], *input.shape[2:])
    if tuple(target.shape) != expected:
        alternative = " or input's shape (class probabilities)" if probabilities_ok else ""
        raise ValueError(
            f"{loss}: target must have shape {expected} for input of shape "
            f"{tuple(input.shape)} (class indices: input's shape without the class axis)"
            f"{alternative}, got {tuple(target.shape)}"
        )
    if not jnp.issubdtype(target.dtype, jnp.integer):
        raise TypeError(
            f"{loss}: target of class indices must be an integer array, got dtype "
            f"{target.dtype}"
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{loss}: ignore_index must be an int, got {ignore_index!r}")


def class_axis(input: Array) -> int:
    """The class axis: 0 for an unbatched ``[C]`` input, else 1 (PyTorch's convention)."""
    return 0 if input.ndim == 1 else 1


def picked_log_probs(log_probs: Array, target: Array, weight: Array | None,
                     ignore_index: int) -> tuple[Array, Array]:
    """``log_probs`` at each target class and that class's weight (0 where ignored).

    Args:
        log_probs: ``[C]``, ``[N, C]`` or ``[N, C, d1...]``.
        target: ``[]``, ``[N]`` or ``[N, d1...]`` class indices.
        weight: ``[C]`` class weights, or None for ones.
        ignore_index: targets equal to it get weight 0.

    Returns:
        ``(picked, target_weight)``, both of ``target``'s shape. An out-of-range label
        picks NaN (it cannot raise under jit; see :func:`check_labels`).
    """
    axis = class_axis(log_probs)
    valid = target != ignore_index
    safe = jnp.where(valid, target, 0)
    picked = jnp.take_along_axis(log_probs, jnp.expand_dims(safe, axis), axis=axis,
                                 mode="fill", fill_value=jnp.nan)
    picked = jnp.squeeze(picked, axis)
    if weight is None:
        target_weight = jnp.ones(target.shape, log_probs.dtype)
        # An out-of-range label must poison the weight sum too, as it does the loss.
        num_classes = log_probs.shape[axis]
        target_weight = jnp.where((safe < 0) | (safe >= num_classes), jnp.nan, target_weight)
    else:
        target_weight = jnp.take(weight, safe, mode="fill", fill_value=jnp.nan)
    return picked, jnp.where(valid, target_weight, 0.0)


def nll_loss(input: Array, target: Array, weight: Array | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Array:
    """Negative log-likelihood of class indices given log-probabilities.

    ``loss[i] = -weight[target[i]] * input[i, target[i]]``, 0 where ``target[i] ==
    ignore_index``; ``'mean'`` divides the sum by the summed weights of the non-ignored
    targets (NaN when every target is ignored), as PyTorch does.

    Args:
        input: log-probabilities ``[N, C]``, ``[N, C, d1, ...]`` or unbatched ``[C]``.
        target: class indices ``[N]``, ``[N, d1, ...]`` or ``[]``, integers in
            ``[0, C)`` or ``ignore_index``.
        weight: ``[C]`` per-class weights.
        ignore_index: target value that contributes neither loss nor weight.
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (the per-element losses, of
            ``target``'s shape).

    Returns:
        The loss: a scalar, or ``target``'s shape for ``reduction='none'``.

    Raises:
        ValueError, TypeError: bad shapes, dtypes, reduction or (eagerly) labels.

    PyTorch equivalent: ``torch.nn.functional.nll_loss``.
    """
    name = "nll_loss"
    check_reduction(name, reduction)
    input = as_array(name, "input", input)
    target = as_array(name, "target", target)
    check_floating(name, "input", input)
    check_class_indices(name, input, target, ignore_index)
    num_classes = input.shape[class_axis(input)]
    if weight is not None:
        weight = check_weight(name, weight, (num_classes,), exact=True)
    if is_concrete(target):
        check_labels(target, num_classes, ignore_index=ignore_index)
    loss: Array = _nll(input, target, weight, ignore_index=int(ignore_index),
                       reduction=reduction)
    return loss


# Jitted: called eagerly, one program per shape compiles instead of each operation alone.
@functools.partial(jax.jit, static_argnames=("ignore_index", "reduction"))
def _nll(input: Array, target: Array, weight: Array | None, *, ignore_index: int,
         reduction: str) -> Array:
    """The negative log-likelihood of checked arguments."""
    picked, target_weight = picked_log_probs(input, target, weight, ignore_index)
    # where, not a product: an ignored target picks a class at random, maybe at -inf.
    loss = jnp.where(target != ignore_index, -target_weight * picked, 0.0)
    return reduce_by_target_weight(loss, jnp.sum(target_weight), reduction)


def reduce_by_target_weight(loss: Array, denominator: Array, reduction: str) -> Array:
    """``'mean'`` as PyTorch's nll_loss: the sum over the summed target weights."""
    if reduction == "mean":
        return jnp.sum(loss) / denominator
    if reduction == "sum":
        return jnp.sum(loss)
    return loss
