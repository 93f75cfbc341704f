"""``torch.autograd.forward_ad`` under fnnet.torch: dual tensors, as PyTorch's
forward-mode AD tutorial uses them (``with dual_level(): make_dual(x, v)``, any
computation, ``unpack_dual(y).tangent``, modules whose parameters are swapped for duals).

A dual tensor is its primal, recorded as a tensor that requires grad; the tangent of a
tensor computed from duals is read when ``unpack_dual`` asks for it, as the
Jacobian-vector product ``J v`` of the recorded graph: the gradient, with respect to a
cotangent ``u``, of ``sum_i <dy/dx_i^T u, v_i>`` (two reverse passes, each linear in its
input, give the forward derivative, the identity JAX's ``linear_transpose`` rests on).
One dual level at a time, as in PyTorch; leaving it drops every tangent.
"""

from __future__ import annotations

import contextvars
import dataclasses
from typing import Any, NamedTuple

from fnnet.torch import _functions
from fnnet.torch.autograd.grad import grad
from fnnet.torch.tensor import Tensor

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]


class UnpackedDualTensor(NamedTuple):
    """What :func:`unpack_dual` returns: the primal and its tangent (None where the
    tensor depends on no dual tensor of the level)."""

    primal: Tensor
    tangent: Tensor | None


@dataclasses.dataclass
class _Dual:
    """A dual tensor of the open level: the tensor the computation reads, its tangent,
    and whether its primal required grad (a dual of a plain tensor reports it does not)."""

    tensor: Tensor
    tangent: Tensor
    primal_requires_grad: bool


#: the duals of the open level, or None outside any level
_LEVEL: contextvars.ContextVar[list[_Dual] | None] = contextvars.ContextVar(
    "fnnet_torch_dual_level", default=None)


def enter_dual_level() -> int:
    """Opens the dual level (0) and returns it.

    Raises:
        RuntimeError: a level is open already (PyTorch's words: one level at a time).
    """
    if _LEVEL.get() is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _LEVEL.set([])
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Closes the open dual level; its tangents are gone.

    Raises:
        RuntimeError: no level is open (PyTorch's words).
    """
    del level
    if _LEVEL.get() is None:
        raise RuntimeError("Dual level must be a positive number.")
    _LEVEL.set(None)


class dual_level:  # noqa: N801 - PyTorch's name
    """``with dual_level():`` opens a dual level for the block (``as`` gives its number)."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def _open_level() -> list[_Dual]:
    duals = _LEVEL.get()
    if duals is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level "
                           "exists, make sure to enter_dual_level() first.")
    return duals


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """``tensor`` carrying ``tangent`` as its forward derivative, for the open level.

    Args:
        tensor: the primal, a floating-point or complex tensor.
        tangent: its direction, of the same shape.

    Returns:
        The dual tensor: ``tensor``'s values; gradients still reach ``tensor`` where it
        requires grad.

    Raises:
        RuntimeError: no dual level is open, or the shapes differ (PyTorch's words).
        ValueError: the primal is not floating point or complex (PyTorch's words).
    """
    del level
    duals = _open_level()
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size "
                           f"than that of the original Tensor, this is not supported. "
                           f"Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    if tensor.requires_grad:
        dual = tensor.view_as(tensor)  # its own node: differentiated by, on to tensor
    else:
        dual = tensor.detach().requires_grad_()
    duals.append(_Dual(dual, tangent.detach().to(tensor.dtype), tensor.requires_grad))
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: its forward derivative along the tangents of
    the duals it was computed from (None where it was computed from none of them, or
    outside a level).

    PyTorch equivalent: ``torch.autograd.forward_ad.unpack_dual``.
    """
    del level
    duals = _LEVEL.get() or []
    if not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    for dual in duals:
        if dual.tensor is tensor:
            primal = tensor if dual.primal_requires_grad else tensor.detach()
            return UnpackedDualTensor(primal, dual.tangent)
    if not duals or not tensor.requires_grad:
        return UnpackedDualTensor(tensor, None)
    cotangent = _functions.zeros_like(tensor).requires_grad_()
    pulled = grad(tensor, [dual.tensor for dual in duals], grad_outputs=cotangent,
                  retain_graph=True, create_graph=True, allow_unused=True)
    paired = [(g * dual.tangent).sum() for g, dual in zip(pulled, duals, strict=True)
              if g is not None]
    if not paired:
        return UnpackedDualTensor(tensor, None)
    total = paired[0]
    for term in paired[1:]:
        total = total + term
    if not total.requires_grad:  # the derivative does not depend on the cotangent: zero
        return UnpackedDualTensor(tensor, _functions.zeros_like(tensor))
    (tangent,) = grad(total, [cotangent], allow_unused=True)
    return UnpackedDualTensor(tensor, _functions.zeros_like(tensor) if tangent is None
                              else tangent.detach())
