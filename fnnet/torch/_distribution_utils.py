"""``torch.distributions.utils``: the helpers a program's own ``Distribution`` subclass
is written with (``broadcast_all`` of its parameters, ``probs_to_logits``,
``lazy_property``), as PyTorch's."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from functools import update_wrapper
from typing import Any

import numpy as np

from fnnet.torch.tensor import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits",
           "lazy_property", "tril_matrix_to_vec", "vec_to_tril_matrix"]


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """``values`` as tensors broadcast together; numbers take the dtype of the first
    tensor (the default dtype where there is none). Values the host holds stay on the
    host, so that the distribution's argument checks read no device value.

    Raises:
        ValueError: a value neither a number nor a tensor, in PyTorch's words.

    PyTorch equivalent: ``torch.distributions.utils.broadcast_all``.
    """
    from fnnet.torch import _functions
    from fnnet.torch._distributions_core import _broadcast_all

    if not all(isinstance(v, Tensor | numbers.Number) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or "
                         "objects implementing __torch_function__.")
    first = next((v for v in values if isinstance(v, Tensor)), None)
    if first is not None:
        values = tuple(v if isinstance(v, Tensor) else _functions.tensor(v, dtype=first.dtype)
                       for v in values)
    return tuple(_broadcast_all(*values))


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """The probabilities of ``logits``: their sigmoid (``is_binary``) or softmax over the
    last dimension.

    PyTorch equivalent: ``torch.distributions.utils.logits_to_probs``.
    """
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped into ``[eps, 1 - eps]`` of their dtype.

    PyTorch equivalent: ``torch.distributions.utils.clamp_probs``.
    """
    eps = float(np.finfo(probs.dtype.np).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """The log-odds (``is_binary``) or log-probabilities of ``probs``, clamped first.

    PyTorch equivalent: ``torch.distributions.utils.probs_to_logits``.
    """
    clamped = clamp_probs(probs)
    if is_binary:
        out: Tensor = clamped.log() - (-clamped).log1p()
        return out
    return clamped.log()


class lazy_property:  # noqa: N801  # PyTorch's name
    """A property computed on first access and then kept as the instance's attribute.

    PyTorch equivalent: ``torch.distributions.utils.lazy_property``.
    """

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)  # type: ignore[arg-type]

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return self
        from fnnet.torch._autograd import enable_grad

        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower triangle (on and below diagonal ``diag``) of ``mat``, row by row.

    PyTorch equivalent: ``torch.distributions.utils.tril_matrix_to_vec``.
    """
    from fnnet.torch._transforms import _tril_to_vec

    return _tril_to_vec(mat, diag)


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """``vec`` laid row by row into the lower triangle of a square matrix.

    PyTorch equivalent: ``torch.distributions.utils.vec_to_tril_matrix``.
    """
    from fnnet.torch._transforms import _vec_to_tril

    return _vec_to_tril(vec, diag)
