"""Cross-entropy of logits against class indices or class probabilities."""

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
from fnnet.losses.nll import (
    check_class_indices,
    check_labels,
    class_axis,
    picked_log_probs,
    reduce_by_target_weight,
)
from fnnet.typing import Array


def cross_entropy(input: Array, target: Array, weight: Array | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float | Array = 0.0) -> Array:
    """Cross-entropy between logits and a target, computed as PyTorch computes it.

    The target is read as PyTorch reads it:

    - **class indices** (integers, ``input``'s shape without the class axis 1):
      ``loss[i] = -w[t_i] * log_softmax(input)[i, t_i]``, 0 where ``t_i ==
      ignore_index``. ``'mean'`` divides by the summed weights ``w[t_i]`` of the
      non-ignored targets. With ``label_smoothing = s``, each loss becomes
      ``(1 - s) * loss[i] + s / C * sum_c(-w[c] * log_softmax(input)[i, c])``, the
      second term divided by the same summed target weights under ``'mean'``.
    - **class probabilities** (floats, ``input``'s shape): ``loss[i] = -sum_c(w[c] *
      p[i, c] * log_softmax(input)[i, c])`` with ``p = (1 - s) * target + s / C``;
      ``'mean'`` divides by the number of elements ``N * d1 * ...`` (not by weights).

    Args:
        input: logits ``[N, C]``, ``[N, C, d1, ...]`` or unbatched ``[C]``.
        target: class indices ``[N]``, ``[N, d1, ...]`` or ``[]`` (integers in ``[0, C)``
            or ``ignore_index``), or class probabilities of ``input``'s shape.
        weight: ``[C]`` per-class weights.
        ignore_index: class-index target value that is skipped; class-probability targets
            accept only a negative value (the default), as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (per-element losses ``[N, d1...]``).
        label_smoothing: ``s`` in ``[0, 1]``, the mass spread uniformly over the classes:
            a float, or a scalar array (which may be traced: a smoothing scheduled step
            by step inside ``jit`` compiles once).

    Returns:
        The loss: a scalar, or ``[N, d1, ...]`` for ``reduction='none'``.

    Raises:
        ValueError: a bad shape, reduction, label_smoothing or ignore_index, or (when the
            target is concrete, i.e. outside ``jit``) a label outside ``[0, C)``; inside
            ``jit`` such a label gives NaN, so check labels with
            :func:`fnnet.losses.check_labels` first.
        TypeError: a non-float input or weight, float class indices, integer
            probabilities.

    Example:
        >>> logits = jnp.array([[2.0, 0.5, -1.0]])
        >>> float(cross_entropy(logits, jnp.array([0])))  # doctest: +ELLIPSIS
        0.24...

    PyTorch equivalent: ``torch.nn.functional.cross_entropy``.
    """
    name = "cross_entropy"
    check_reduction(name, reduction)
    input = as_array(name, "input", input)
    target = as_array(name, "target", target)
    check_floating(name, "input", input)
    if isinstance(label_smoothing, jax.Array) and label_smoothing.ndim == 0 and \
            is_concrete(label_smoothing):
        label_smoothing = float(label_smoothing)
    # a traced amount (a smoothing scheduled step by step under jit) is applied as it is
    traced = isinstance(label_smoothing, jax.Array) and label_smoothing.ndim == 0 and \
        jnp.issubdtype(label_smoothing.dtype, jnp.floating)
    if traced:  # in the logits' precision, as a number would be
        label_smoothing = jnp.asarray(label_smoothing, input.dtype)
    else:
        if isinstance(label_smoothing, bool) or not isinstance(
                label_smoothing, (int, float, np.floating, np.integer)):
            raise TypeError(f"{name}: label_smoothing must be a float, got "
                            f"{label_smoothing!r}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
            )
        label_smoothing = float(label_smoothing)
    smoothed = traced or label_smoothing > 0
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class axis ([C], [N, C] or "
                         f"[N, C, d1, ...]), got shape ()")
    num_classes = input.shape[class_axis(input)]
    if weight is not None:
        weight = check_weight(name, weight, (num_classes,), exact=True)

    if tuple(target.shape) == tuple(input.shape):
        _check_probability_target(name, target, ignore_index)
        loss: Array = _probability_loss(input, target, weight, label_smoothing,
                                        reduction=reduction, smoothed=smoothed)
        return loss

    check_class_indices(name, input, target, ignore_index, probabilities_ok=True)
    if is_concrete(target):
        check_labels(target, num_classes, ignore_index=ignore_index)
    loss = _index_loss(input, target, weight, label_smoothing, ignore_index=int(ignore_index),
                       reduction=reduction, smoothed=smoothed)
    return loss


def _class_weight(weight: Array | None, input: Array) -> Array | None:
    """``weight: [C]`` as ``[1, C, 1, ...]``, to broadcast along ``input``'s class axis."""
    if weight is None:
        return None
    return jnp.reshape(weight, (-1,) + (1,) * (input.ndim - class_axis(input) - 1))


# The math of both target forms is jitted: called eagerly, as users evaluate a loss,
# one program per shape compiles instead of each of the loss's ~18 operations alone.
@functools.partial(jax.jit, static_argnames=("ignore_index", "reduction", "smoothed"))
def _index_loss(input: Array, target: Array, weight: Array | None,
                label_smoothing: float | Array, *, ignore_index: int, reduction: str,
                smoothed: bool) -> Array:
    """Cross-entropy against class indices ``target`` (checked by the caller), smoothed
    by ``label_smoothing`` where ``smoothed``."""
    axis = class_axis(input)
    num_classes = input.shape[axis]
    valid = target != ignore_index
    # an ignored target's row masked before any arithmetic, so that its gradient is +0.0
    # as PyTorch's (the smoothing term's negation would carry -0.0 back to it)
    log_probs = jnp.where(jnp.expand_dims(valid, axis), jax.nn.log_softmax(input, axis=axis),
                          0.0)
    picked, target_weight = picked_log_probs(log_probs, target, weight, ignore_index)
    # where, not a product: an ignored target picks a class at random, maybe at -inf.
    loss = jnp.where(valid, -target_weight * picked, 0.0)
    if smoothed:
        class_weight = _class_weight(weight, input)
        weighted = log_probs if class_weight is None else log_probs * class_weight
        smooth = jnp.where(valid, -jnp.sum(weighted, axis=axis), 0.0)
        loss = (1 - label_smoothing) * loss + (label_smoothing / num_classes) * smooth
    return reduce_by_target_weight(loss, jnp.sum(target_weight), reduction)


def _check_probability_target(name: str, target: Array, ignore_index: Any) -> None:
    """Raises unless ``target`` can hold class probabilities with this ``ignore_index``."""
    if not jnp.issubdtype(target.dtype, jnp.floating):
        raise TypeError(
            f"{name}: target of input's shape {tuple(target.shape)} holds class "
            f"probabilities and must be floating-point, got dtype {target.dtype} (class "
            f"indices have input's shape without the class axis 1)"
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")
    if ignore_index >= 0:
        raise ValueError(
            f"{name}: ignore_index is not supported for class-probability targets, "
            f"got ignore_index={ignore_index}"
        )


@functools.partial(jax.jit, static_argnames=("reduction", "smoothed"))
def _probability_loss(input: Array, target: Array, weight: Array | None,
                      label_smoothing: float | Array, *, reduction: str,
                      smoothed: bool) -> Array:
    """Cross-entropy against class probabilities ``target`` of ``input``'s shape."""
    axis = class_axis(input)
    num_classes = input.shape[axis]
    log_probs = jax.nn.log_softmax(input, axis=axis)
    class_weight = _class_weight(weight, input)
    if smoothed:
        target = target * (1 - label_smoothing) + label_smoothing / num_classes
    terms = log_probs * target
    if class_weight is not None:
        terms = terms * class_weight
    loss = -jnp.sum(terms, axis=axis)
    if reduction == "mean":
        # PyTorch divides by the number of samples N * d1 * ..., whatever the weights.
        return jnp.sum(loss) / (log_probs.size // num_classes)
    if reduction == "sum":
        return jnp.sum(loss)
    return loss


__all__ = ["cross_entropy"]
