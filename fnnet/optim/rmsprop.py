"""RMSprop with PyTorch's epsilon placement, centring and momentum buffer."""

from __future__ import annotations

from typing import Any

import optax

from fnnet.optim._build import add_weight_decay, build, negate
from fnnet.optim._validate import (
    check_flag,
    check_implementation_flags,
    check_lr,
    check_nonnegative,
    check_number,
    is_python_number,
)


def RMSprop(lr: float | optax.Schedule = 1e-2, alpha: Any = 0.99, eps: Any = 1e-8,
            weight_decay: Any = 0.0, momentum: float = 0.0, centered: bool = False, *,
            maximize: bool = False,
            foreach: bool | None = None, capturable: bool = False, differentiable: bool = False
            ) -> optax.GradientTransformationExtraArgs:
    """RMSprop exactly as ``torch.optim.RMSprop`` updates a parameter.

    With ``g = grad + weight_decay * param`` (``-grad`` if ``maximize``)::

        v = alpha * v + (1 - alpha) * g**2                 (v starts at 0)
        m = alpha * m + (1 - alpha) * g; v_c = v - m**2    (centered only)
        d = g / (sqrt(v or v_c) + eps)                     (eps outside the root)
        buf = momentum * buf + d; d = buf                  (momentum > 0 only)
        param = param - lr * d

    The momentum buffer accumulates ``d`` before the learning rate is applied, as in
    PyTorch, so a changing learning rate scales the whole buffer at each step
    (``optax.rmsprop`` applies the rate first).

    Args:
        lr: learning rate, a float or an optax schedule ``step -> lr``.
        alpha: smoothing constant of the squared-gradient average.
        eps: added to the denominator, outside the square root.
        weight_decay: L2 penalty added to the gradient.
        momentum: momentum factor (0 keeps no buffer).
        centered: normalise by the estimated variance of the gradient.
        maximize: maximise the objective instead of minimising it.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        capturable: PyTorch's CUDA-graph option; checked, without effect.
        differentiable: PyTorch's autograd through the step; checked, without
            effect (``jax.grad`` differentiates fnnet's update either way).

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["rmsprop"].nu`` is PyTorch's
        ``square_avg`` (``.mu`` its ``grad_avg``), ``opt_state["momentum"].trace`` its
        ``momentum_buffer``.

    Raises:
        ValueError: PyTorch's checks, e.g. ``Invalid alpha value: -0.5``.
        TypeError: a non-number hyperparameter.

    PyTorch equivalent: ``torch.optim.RMSprop``.
    """
    check_implementation_flags(foreach=foreach, capturable=capturable,
                               differentiable=differentiable)
    check_lr(lr)
    for name, value in (("alpha", alpha), ("eps", eps), ("weight_decay", weight_decay),
                        ("momentum", momentum)):
        check_number(name, value)
    check_nonnegative(eps, "Invalid epsilon value")
    check_nonnegative(momentum, "Invalid momentum value")
    check_nonnegative(weight_decay, "Invalid weight_decay value")
    check_nonnegative(alpha, "Invalid alpha value")
    centered = check_flag("centered", centered)
    maximize = check_flag("maximize", maximize)
    scale = optax.scale_by_stddev if centered else optax.scale_by_rms
    return build(
        ("maximize", negate(maximize)),
        ("weight_decay", add_weight_decay(weight_decay)),
        ("rmsprop", scale(decay=alpha, eps=eps, initial_scale=0.0, eps_in_sqrt=False)),
        # A trace with momentum 0 is the identity, so an injected momentum always has one.
        ("momentum", optax.trace(decay=momentum)
         if not is_python_number(momentum) or momentum > 0 else None),
        ("lr", optax.scale_by_learning_rate(lr)),
    )
