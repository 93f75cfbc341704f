"""The connectionist temporal classification loss, as ``torch.nn.functional.ctc_loss``
computes it (optax's forward algorithm underneath)."""

from __future__ import annotations

from numbers import Integral

import jax
import jax.numpy as jnp
import optax

from fnnet.losses._checks import check_reduction, reduce
from fnnet.typing import Array


def ctc_loss(log_probs: Array, targets: Array, input_lengths: Array, target_lengths: Array,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Array:
    """``-log p(target | input)`` summed over the alignments of each sequence.

    Args:
        log_probs: ``[T, N, C]`` log-probabilities (``log_softmax`` over ``C``).
        targets: ``[N, S]`` class indices, each row's first ``target_lengths[n]`` used.
        input_lengths: ``[N]`` frames of each sequence (at most ``T``).
        target_lengths: ``[N]`` labels of each sequence (at most ``S``).
        blank: the blank class.
        reduction: ``'mean'`` (each loss over its target length, then over the batch),
            ``'sum'`` or ``'none'`` (``[N]``).
        zero_infinity: impossible alignments (a target longer than its input allows)
            give 0 and no gradient instead of ``inf``.

    Returns:
        A scalar, or ``[N]`` with ``'none'``. The gradient with respect to ``log_probs``
        is PyTorch's, ``exp(log_probs) - posterior``, for normalised log-probabilities.

    Raises:
        ValueError: ``log_probs`` is not ``[T, N, C]``, ``targets`` not ``[N, S]``, the
            lengths not ``[N]``, ``blank`` not a class index in ``[0, C)`` (PyTorch's
            "blank must be in label range"), or ``reduction`` unknown.

    PyTorch equivalent: ``torch.nn.functional.ctc_loss``.
    """
    check_reduction("ctc_loss", reduction)
    if jnp.ndim(log_probs) != 3:
        raise ValueError(f"ctc_loss: log_probs must be [T, N, C], got shape "
                         f"{jnp.shape(log_probs)}")
    frames_count, batch, classes = jnp.shape(log_probs)
    if jnp.ndim(targets) != 2 or jnp.shape(targets)[0] != batch:
        raise ValueError(f"ctc_loss: targets must be [N, S] with N = {batch} (log_probs' "
                         f"batch), got shape {jnp.shape(targets)}")
    for name, lengths in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        if jnp.shape(lengths) != (batch,):
            raise ValueError(f"ctc_loss: {name} must be [N] with N = {batch}, got shape "
                             f"{jnp.shape(lengths)}")
    if isinstance(blank, bool) or not isinstance(blank, Integral) or not 0 <= blank < classes:
        raise ValueError(f"ctc_loss: blank must be in label range [0, {classes}) (log_probs' "
                         f"classes), got {blank!r}")
    frames = jnp.arange(frames_count)
    logits = jnp.swapaxes(log_probs, 0, 1)  # [N, T, C]
    logit_paddings = (frames[None, :] >= input_lengths[:, None]).astype(log_probs.dtype)
    positions = jnp.arange(targets.shape[1])
    label_paddings = (positions[None, :] >= target_lengths[:, None]).astype(log_probs.dtype)
    labels = jnp.where(label_paddings > 0, 0, targets).astype(jnp.int32)
    loss = optax.ctc_loss(logits, logit_paddings, labels, label_paddings, blank_id=blank)
    # optax normalises the log-probabilities again; PyTorch takes them as given (the same
    # for normalised ones): the value is PyTorch's either way
    normaliser = jnp.sum(jnp.where(logit_paddings > 0, 0,
                                   jax.nn.logsumexp(logits, axis=-1)), axis=-1)
    loss = loss - jax.lax.stop_gradient(normaliser)
    # a path needs a frame per label and one more between each pair of equal labels
    repeats = jnp.sum((labels[:, 1:] == labels[:, :-1]) & (label_paddings[:, 1:] == 0),
                      axis=-1)
    feasible = target_lengths + repeats <= input_lengths
    if zero_infinity:
        loss = jnp.where(feasible, loss, 0.0)
    else:
        loss = jnp.where(feasible, loss, jnp.inf)
    if reduction == "mean":
        return jnp.mean(loss / jnp.maximum(target_lengths, 1).astype(loss.dtype))
    return reduce(loss, reduction)
