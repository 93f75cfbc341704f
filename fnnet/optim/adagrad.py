"""Adagrad with PyTorch's accumulator, epsilon and learning-rate decay."""

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
from fnnet.optim.transforms import scale_by_adagrad


def _decayed(lr: float | optax.Schedule, lr_decay: float) -> float | optax.Schedule:
    """PyTorch's ``clr = lr / (1 + (step - 1) * lr_decay)``; optax counts from 0.

    An injected (array) ``lr_decay`` always gets the schedule, exact for 0 too.
    """
    if is_python_number(lr_decay) and lr_decay == 0:
        return lr

    def schedule(count: Any) -> Any:
        base = lr(count) if callable(lr) else lr
        return base / (1 + count * lr_decay)

    return schedule


def Adagrad(lr: float | optax.Schedule = 1e-2, lr_decay: float = 0.0,
            weight_decay: Any = 0.0, initial_accumulator_value: Any = 0.0,
            eps: Any = 1e-10, *, maximize: bool = False,
            foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None
            ) -> optax.GradientTransformationExtraArgs:
    """Adagrad exactly as ``torch.optim.Adagrad`` updates a parameter.

    With ``g = grad + weight_decay * param`` (``-grad`` if ``maximize``), at step
    ``t = 1, 2, ...``::

        sum = sum + g**2                          (sum starts at initial_accumulator_value)
        param = param - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)

    Args:
        lr: learning rate, a float or an optax schedule ``step -> lr``.
        lr_decay: learning-rate decay.
        weight_decay: L2 penalty added to the gradient.
        initial_accumulator_value: starting value of the sum of squares.
        eps: added to the square root of the sum (outside it, unlike optax).
        maximize: maximise the objective instead of minimising it.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        differentiable: PyTorch's autograd through the step; checked, without
            effect (``jax.grad`` differentiates fnnet's update either way).
        fused: PyTorch's fused kernels; checked as PyTorch checks them (not with
            ``foreach`` or ``differentiable``), without effect.

    Returns:
        An ``optax.GradientTransformation``; ``opt_state["adagrad"].sum`` is
        PyTorch's ``state["sum"]``.

    Raises:
        ValueError: PyTorch's checks, e.g. ``Invalid lr_decay value: -0.1``.
        TypeError: a non-number hyperparameter.

    PyTorch equivalent: ``torch.optim.Adagrad``.
    """
    check_implementation_flags(foreach=foreach, differentiable=differentiable, fused=fused)
    check_lr(lr)
    for name, value in (("lr_decay", lr_decay), ("weight_decay", weight_decay),
                        ("initial_accumulator_value", initial_accumulator_value),
                        ("eps", eps)):
        check_number(name, value)
    check_nonnegative(lr_decay, "Invalid lr_decay value")
    check_nonnegative(weight_decay, "Invalid weight_decay value")
    check_nonnegative(initial_accumulator_value, "Invalid initial_accumulator_value value")
    check_nonnegative(eps, "Invalid epsilon value")
    maximize = check_flag("maximize", maximize)
    return build(
        ("maximize", negate(maximize)),
        ("weight_decay", add_weight_decay(weight_decay)),
        ("adagrad", scale_by_adagrad(initial_accumulator_value, eps)),
        ("lr", optax.scale_by_learning_rate(_decayed(lr, lr_decay))),
    )
