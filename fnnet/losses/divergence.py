"""Kullback-Leibler divergence between a predicted and a target distribution."""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import xlogy

from fnnet.losses._checks import as_array, check_floating, check_same_shape
from fnnet.typing import Array

KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(input: Array, target: Array, reduction: str = "mean",
           log_target: bool = False) -> Array:
    """``KL(target || exp(input))`` pointwise: ``target * (log(target) - input)``, reduced.

    ``input`` holds log-probabilities (``log_softmax`` of a student's logits); ``target``
    holds probabilities, or log-probabilities when ``log_target``. A target of exactly 0
    contributes 0 (``0 * log 0 = 0``, as PyTorch's ``xlogy``).

    Args:
        input: log-probabilities, any shape (``[N, C]`` for a batch of distributions).
        target: ``input``'s shape: probabilities, or log-probabilities if ``log_target``.
        reduction: ``'batchmean'`` (sum divided by ``N = input.shape[0]``: the
            mathematical KL divergence per sample), ``'sum'``, ``'mean'`` (over every
            element, PyTorch's default although not the divergence) or ``'none'``.
        log_target: ``target`` holds log-probabilities.

    Returns:
        A scalar, or ``input``'s shape for ``reduction='none'``.

    Raises:
        ValueError: shapes differ or a bad reduction. TypeError: non-float arrays or a
            non-bool ``log_target``.

    PyTorch equivalent: ``torch.nn.functional.kl_div``.
    """
    if not isinstance(reduction, str) or reduction not in KL_REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {', '.join(map(repr, KL_REDUCTIONS))}"
                         f", got {reduction!r}")
    if not isinstance(log_target, bool):
        raise TypeError(f"kl_div: log_target must be a bool, got {log_target!r}")
    input = as_array("kl_div", "input", input)
    target = as_array("kl_div", "target", target)
    check_floating("kl_div", "input", input)
    check_floating("kl_div", "target", target)
    check_same_shape("kl_div", input, target)
    if log_target:
        pointwise = jnp.exp(target) * (target - input)
    else:
        pointwise = xlogy(target, target) - target * input
    if reduction == "batchmean":
        return jnp.sum(pointwise) / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        return jnp.mean(pointwise)
    if reduction == "sum":
        return jnp.sum(pointwise)
    return pointwise


__all__ = ["kl_div"]
