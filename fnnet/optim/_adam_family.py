"""Shared argument checks of the Adam family (Adam, AdamW, Adamax, NAdam, RAdam,
SparseAdam)."""

from __future__ import annotations

from typing import Any

from fnnet.optim._validate import check_below_one, check_lr, check_nonnegative, check_number


def check_betas(betas: Any) -> tuple[Any, Any]:
    """PyTorch's check of ``betas``: two numbers, each in [0, 1); the pair."""
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
        raise TypeError(f"betas must be a pair of floats (beta1, beta2), got {betas!r}")
    for index, beta in enumerate(betas):
        check_number(f"betas[{index}]", beta)
        check_below_one(beta, f"Invalid beta parameter at index {index}")
    return betas[0], betas[1]


def check_adam_args(lr: Any, betas: Any, eps: Any, weight_decay: Any) -> tuple[Any, Any]:
    """PyTorch's checks of ``lr``, ``betas``, ``eps`` and ``weight_decay``; the betas."""
    check_lr(lr)
    check_number("eps", eps)
    check_nonnegative(eps, "Invalid epsilon value")
    pair = check_betas(betas)
    check_number("weight_decay", weight_decay)
    check_nonnegative(weight_decay, "Invalid weight_decay value")
    return pair
