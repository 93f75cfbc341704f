"""Stochastic gradient descent with PyTorch's momentum, dampening and Nesterov rules."""

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
    concrete,
    is_python_number,
)
from fnnet.optim.transforms import momentum_buffer


def SGD(lr: float | optax.Schedule = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
        weight_decay: Any = 0.0, nesterov: bool = False, *,
        maximize: bool = False,
        foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None
        ) -> optax.GradientTransformationExtraArgs:
    """SGD exactly as ``torch.optim.SGD`` updates a parameter.

    With ``g = grad + weight_decay * param`` (``-grad`` if ``maximize``)::

        buf = g                                   on the first step
        buf = momentum * buf + (1 - dampening) * g   afterwards
        d = g + momentum * buf if nesterov else buf   (d = g when momentum = 0)
        param = param - lr * d

    Args:
        lr: learning rate, a float or an optax schedule ``step -> lr``.
        momentum: momentum factor (0 keeps no buffer).
        dampening: dampening of each new gradient in the buffer, from the second step.
        weight_decay: L2 penalty added to the gradient.
        nesterov: Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
        maximize: maximise the objective instead of minimising it.
        foreach: PyTorch's choice of multi-tensor kernels; checked, without effect.
        differentiable: PyTorch's autograd through the step; checked, without
            effect (``jax.grad`` differentiates fnnet's update either way).
        fused: PyTorch's fused kernels; checked as PyTorch checks them (not with
            ``foreach`` or ``differentiable``), without effect.

    Returns:
        An ``optax.GradientTransformation``; apply its updates with
        ``optax.apply_updates``. Its state is a dict: ``opt_state["momentum"]`` holds
        the buffer (``.trace``; ``.momentum_buffer`` when dampening is used or when
        ``momentum``/``dampening`` are injected arrays, which may then change between
        steps as PyTorch's ``param_group["momentum"]`` may).

    Raises:
        ValueError: PyTorch's checks, e.g. ``Invalid learning rate: -1``.
        TypeError: a non-number hyperparameter.

    Example:
        >>> opt = SGD(lr=0.1, momentum=0.9)
        >>> params = {"w": jnp.ones(3)}
        >>> state = opt.init(params)
        >>> updates, state = opt.update({"w": jnp.ones(3)}, state, params)
        >>> optax.apply_updates(params, updates)["w"]
        Array([0.9, 0.9, 0.9], dtype=float32)

    PyTorch equivalent: ``torch.optim.SGD``.
    """
    check_implementation_flags(foreach=foreach, differentiable=differentiable, fused=fused)
    check_lr(lr)
    check_number("momentum", momentum)
    check_nonnegative(momentum, "Invalid momentum value")
    check_number("weight_decay", weight_decay)
    check_nonnegative(weight_decay, "Invalid weight_decay value")
    check_number("dampening", dampening)
    nesterov = check_flag("nesterov", nesterov)
    maximize = check_flag("maximize", maximize)
    m, d = concrete(momentum), concrete(dampening)
    if nesterov and ((m is not None and m <= 0) or (d is not None and d != 0)):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    if not (is_python_number(momentum) and is_python_number(dampening)):
        # Injected values may change between steps: keep PyTorch's full rule.
        momentum_piece = momentum_buffer(momentum, dampening, nesterov)
    elif momentum == 0:
        momentum_piece = None
    elif dampening == 0:
        # optax.trace starts its buffer at 0, so its first step gives buf = g: PyTorch's.
        momentum_piece = optax.trace(decay=momentum, nesterov=nesterov)
    else:
        momentum_piece = momentum_buffer(momentum, dampening)
    return build(
        ("maximize", negate(maximize)),
        ("weight_decay", add_weight_decay(weight_decay)),
        ("momentum", momentum_piece),
        ("lr", optax.scale_by_learning_rate(lr)),
    )
