"""``torch.nn.utils``: gradient clipping, recorded as one op on the gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jax.numpy as jnp

from fnnet.torch import _graph
from fnnet.torch.tensor import Tensor, _op_multi, _wrap_value


def clip_grad_norm(grads: list, max_norm: float, norm_type: float) -> tuple:
    """Pure: ``(total_norm, *clipped grads)`` with PyTorch's rule.

    ``total_norm`` is the ``norm_type``-norm of all gradients together; each gradient is
    scaled by ``min(1, max_norm / (total_norm + 1e-6))``.
    """
    if norm_type == float("inf"):
        total = jnp.max(jnp.stack([jnp.max(jnp.abs(g)) for g in grads]))
    else:
        total = jnp.sum(jnp.stack([jnp.sum(jnp.abs(g) ** norm_type) for g in grads])) ** (
            1.0 / norm_type)
    # torch.nn.utils.clip_grad_norm_: clip_coef = max_norm / (total_norm + 1e-6), clamped
    coef = jnp.minimum(max_norm / (total + 1e-6), 1.0)
    return (total, *(g * coef.astype(g.dtype) for g in grads))


def _clip_op(*args: Any) -> tuple:
    *grads, max_norm, norm_type = args
    return clip_grad_norm(grads, max_norm, norm_type)


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Scales the gradients in place so their total norm is at most ``max_norm``.

    Returns:
        The total norm before clipping (a lazy scalar tensor).

    PyTorch equivalent: ``torch.nn.utils.clip_grad_norm_``.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = [p for p in (parameters if isinstance(parameters, Iterable) else [parameters])
              if p.grad is not None]
    if error_if_nonfinite:
        raise NotImplementedError("fnnet.torch: clip_grad_norm_(error_if_nonfinite=True) is "
                                  "not supported (it would need the value inside the step)")
    if not params:
        return _wrap_value(jnp.zeros((), jnp.float32))
    outs = _op_multi(_clip_op, (float(max_norm), float(norm_type)),
                     *[p.grad for p in params], who="clip_grad_norm_")
    for p, new in zip(params, outs[1:], strict=False):
        _graph.bind(p.grad._cell, new._cell.ref, new._cell.aval, False)
    return outs[0]


def clip_grad_value_(parameters: Any, clip_value: float, foreach: Any = None) -> None:
    """PyTorch equivalent: ``torch.nn.utils.clip_grad_value_``."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    from fnnet.torch._functions import cat

    return cat([p.reshape(-1) for p in parameters])
