"""``torch.nn.utils.clip_grad``: gradient clipping, each call recorded as one op on the
gradients (the arithmetic is :mod:`fnnet.optim.clip`)."""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable
from typing import Any, cast

import jax
import jax.numpy as jnp

from fnnet.optim.clip import check_max_norm, scale_to_norm, total_norm
from fnnet.torch import _graph
from fnnet.torch.tensor import Tensor, _op, _op_multi, _wrap_value


def _clip_op(*args: Any) -> tuple[jax.Array, ...]:
    """Pure: ``(total_norm, *clipped grads)``, by :func:`fnnet.optim.clip_grad_norm`'s
    arithmetic; ``max_norm`` is an input of the step (a schedule may change it every
    step), checked on the host."""
    max_norm, *grads, scaled, norm_type = args
    norm = total_norm(grads, norm_type)
    if not scaled:  # max_norm=inf, PyTorch's idiom for reading the norm: nothing is scaled
        return (norm, *grads)
    return (norm, *scale_to_norm(grads, max_norm, norm))


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float,
                   norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Any = None) -> Tensor:
    """PyTorch's deprecated name of :func:`clip_grad_norm_`, with its FutureWarning.

    PyTorch equivalent: ``torch.nn.utils.clip_grad_norm``.
    """
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Scales the gradients in place so their total norm is at most ``max_norm``.

    The arithmetic is :func:`fnnet.optim.clip_grad_norm` (PyTorch's rule, the norm of
    the per-tensor norms); ``max_norm=inf`` only computes the norm.

    Returns:
        The total norm before clipping (a lazy scalar tensor).

    Raises:
        RuntimeError: ``error_if_nonfinite`` and the norm is not finite (PyTorch's
            message); the norm is then computed when this is called, which a loop's
            step pays for with an extra compile.

    PyTorch equivalent: ``torch.nn.utils.clip_grad_norm_``.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)  # read twice below: a generator would run out
        if generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will "
                          "occur.", UserWarning, stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    # PyTorch reads both as floats first, gradients or not (norm_type="fro" is refused)
    norm_type, max_norm = float(norm_type), float(max_norm)
    if error_if_nonfinite:  # the norm is read (computed) here, before any gradient changes
        norm = get_total_norm(grads, norm_type, error_if_nonfinite=True)
        clip_grads_with_norm_(parameters, max_norm, norm)
        return norm
    if not grads:
        return _wrap_value(jnp.zeros((), jnp.float32))
    # every output of _clip_op is an array (None stands for an output that is None)
    scaled = max_norm != math.inf
    if scaled:  # fnnet refuses a threshold that would zero or flip the gradients
        check_max_norm(max_norm, "clip_grad_norm_: max_norm")
    outs = cast("list[Tensor]", _op_multi(_clip_op, (scaled, norm_type), max_norm, *grads,
                                          who="clip_grad_norm_"))
    for grad, new in zip(grads, outs[1:], strict=False):
        _graph.bind(grad._cell, new._cell.ref, new._cell.aval, False)
    return outs[0]


def _total_norm_op(*args: Any) -> jax.Array:
    *tensors, norm_type = args
    return total_norm(tensors, norm_type)


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """The norm of the per-tensor norms of ``tensors`` (:func:`fnnet.optim.total_norm`).

    PyTorch equivalent: ``torch.nn.utils.get_total_norm``.
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else [t for t in tensors
                                                              if t is not None]
    if not tensors:
        return _wrap_value(jnp.zeros((), jnp.float32))
    norm = _op(_total_norm_op, (float(norm_type),), *tensors, who="get_total_norm")
    if error_if_nonfinite and not math.isfinite(norm.item()):  # reading computes the norm
        raise RuntimeError(f"The total norm of order {float(norm_type)} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    return norm


def _scale_op(*args: Any) -> tuple[jax.Array, ...]:
    *grads, norm, max_norm = args
    return tuple(scale_to_norm(grads, max_norm, norm))


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor | float, foreach: Any = None) -> None:
    """Scales the gradients in place by ``min(max_norm / (total_norm + 1e-6), 1)``
    (:func:`fnnet.optim.clip.clip_grads_with_norm`), the norm computed beforehand, e.g.
    by :func:`get_total_norm`.

    PyTorch equivalent: ``torch.nn.utils.clip_grads_with_norm_``.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    norm = total_norm if isinstance(total_norm, Tensor) else _wrap_value(
        jnp.asarray(total_norm, jnp.float32))
    outs = _op_multi(_scale_op, (), *grads, norm, float(max_norm),
                     who="clip_grads_with_norm_")
    for grad, new in zip(grads, outs, strict=True):
        assert new is not None
        _graph.bind(grad._cell, new._cell.ref, new._cell.aval, False)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: Any = None) -> None:
    """PyTorch equivalent: ``torch.nn.utils.clip_grad_value_``."""
    clip_value = float(clip_value)
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)
