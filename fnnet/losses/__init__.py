"""Loss functions with PyTorch's signatures, defaults and numerics, as pure functions.

Each takes arrays laid out as ``torch.nn.functional`` expects (``[N, C]`` logits,
``[N]`` class indices...) and returns a scalar or, with ``reduction='none'``, the
per-element losses. Arguments are checked at trace time; label values, which cannot be
checked inside ``jit``, are checked by :func:`check_labels`.
"""

from fnnet.losses.binary import binary_cross_entropy, binary_cross_entropy_with_logits
from fnnet.losses.cross_entropy import cross_entropy
from fnnet.losses.ctc import ctc_loss
from fnnet.losses.divergence import kl_div
from fnnet.losses.likelihood import gaussian_nll_loss, poisson_nll_loss
from fnnet.losses.margin import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    triplet_margin_from_distances,
    triplet_margin_loss,
)
from fnnet.losses.multiclass_margin import multi_margin_loss, multilabel_margin_loss
from fnnet.losses.nll import check_labels, nll_loss
from fnnet.losses.penalties import l1_penalty, l2_penalty
from fnnet.losses.regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss

__all__ = [
    "ctc_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "check_labels",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "l1_penalty",
    "l2_penalty",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
    "cosine_embedding_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_from_distances",
    "triplet_margin_loss",
]
