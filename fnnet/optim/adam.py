"""Adam (L2 weight decay) and AdamW (decoupled weight decay), as PyTorch computes them."""

from __future__ import annotations

from typing import Any

import optax

from fnnet.optim._adam_family import check_adam_args
from fnnet.optim._build import add_weight_decay, build, negate
from fnnet.optim._validate import check_flag, check_implementation_flags
from fnnet.optim.transforms import scale_by_adam, scale_by_amsgrad


def _adam(lr: Any, betas: Any, eps: Any, weight_decay: Any, amsgrad: Any, maximize: Any,
          *, decoupled: bool) -> optax.GradientTransformationExtraArgs:
    b1, b2 = check_adam_args(lr, betas, eps, weight_decay)
    amsgrad = check_flag("amsgrad", amsgrad)
    maximize = check_flag("maximize", maximize)
    if amsgrad:
        moments = scale_by_amsgrad(b1=b1, b2=b2, eps=eps)
    else:
        moments = scale_by_adam(b1=b1, b2=b2, eps=eps)
    decay = add_weight_decay(weight_decay)
    return build(
        ("maximize", negate(maximize)),
        ("weight_decay", None if decoupled else decay),
        ("adam", moments),
        # Decoupled: p - lr * (adam + wd * p) = p * (1 - lr * wd) - lr * adam, PyTorch's.
        ("decoupled_weight_decay", decay if decoupled else None),
        ("lr", optax.scale_by_learning_rate(lr)),
    )


def Adam(lr: float | optax.Schedule = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
         eps: Any = 1e-8, weight_decay: Any = 0.0, amsgrad: bool = False, *,
         foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
         differentiable: bool = False, fused: bool | None = None,
         decoupled_weight_decay: bool = False) -> optax.GradientTransformationExtraArgs:
    """Adam exactly as ``torch.optim.Adam`` updates a parameter.

    With ``g = grad + weight_decay * param`` (L2, added to the gradient; ``-grad`` if
    ``maximize``), at step ``t = 1, 2, ...``::

        m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g**2
        v_max = max(v_max, v)                                  (amsgrad only)
        param = param - lr / (1 - b1**t) * m / (sqrt(v or v_max) / sqrt(1 - b2**t) + eps)

    Args:
        lr: learning rate, a float or an optax schedule ``step -> lr``.
        betas: ``(b1, b2)``, decays of the first and second moments.
        eps: added to the denominator (outside the square root).
        weight_decay: L2 penalty added to the gradient (decoupled with
            ``decoupled_weight_decay``).
        amsgrad: keep the maximum of the second moments (PyTorch's formula: maximum of
            the raw moments, then bias correction).
        maximize: maximise the objective instead of minimising it.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        capturable: PyTorch's CUDA-graph option; checked, without effect.
        differentiable: PyTorch's autograd through the step; checked, without
            effect (``jax.grad`` differentiates fnnet's update either way).
        fused: PyTorch's fused kernels; checked as PyTorch checks them (not with
            ``foreach`` or ``differentiable``), without effect.
        decoupled_weight_decay: decay the parameters as :func:`AdamW` does (PyTorch's
            ``Adam(decoupled_weight_decay=True)`` is ``AdamW``).

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["adam"]`` holds the moments
        (``.mu``/``.nu``/``.count``, or ``.exp_avg``/``.exp_avg_sq``/
        ``.max_exp_avg_sq``/``.step`` with amsgrad).

    Raises:
        ValueError: PyTorch's checks, e.g. ``Invalid beta parameter at index 1: 1.0``.
        TypeError: a non-number hyperparameter or malformed betas.

    PyTorch equivalent: ``torch.optim.Adam``.
    """
    check_implementation_flags(foreach=foreach, capturable=capturable,
                               differentiable=differentiable, fused=fused)
    decoupled = check_flag("decoupled_weight_decay", decoupled_weight_decay)
    return _adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=decoupled)


def AdamW(lr: float | optax.Schedule = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
          eps: Any = 1e-8, weight_decay: Any = 1e-2, amsgrad: bool = False, *,
          maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
          differentiable: bool = False, fused: bool | None = None
          ) -> optax.GradientTransformationExtraArgs:
    """AdamW exactly as ``torch.optim.AdamW`` updates a parameter.

    Adam on the raw gradient, with the weight decay decoupled from it: ``param = param *
    (1 - lr * weight_decay)`` before the Adam step (the decay is scaled by the current
    learning rate, as in PyTorch and ``optax.adamw``).

    Args:
        lr: learning rate, a float or an optax schedule ``step -> lr``.
        betas: ``(b1, b2)``, decays of the first and second moments.
        eps: added to the denominator (outside the square root).
        weight_decay: decoupled weight decay, PyTorch's default ``1e-2`` (optax's is
            ``1e-4``).
        amsgrad: keep the maximum of the second moments, as :func:`Adam`.
        maximize: maximise the objective instead of minimising it.
        foreach: as :func:`Adam`'s.
        capturable: as :func:`Adam`'s.
        differentiable: as :func:`Adam`'s.
        fused: as :func:`Adam`'s.

    Returns:
        An ``optax.GradientTransformation``, state as :func:`Adam`'s.

    Raises:
        ValueError: PyTorch's checks, e.g. ``Invalid weight_decay value: -0.01``.
        TypeError: a non-number hyperparameter or malformed betas.

    PyTorch equivalent: ``torch.optim.AdamW``.
    """
    check_implementation_flags(foreach=foreach, capturable=capturable,
                               differentiable=differentiable, fused=fused)
    return _adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=True)
