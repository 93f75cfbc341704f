"""PyTorch's inference tensors: the tensors made inside ``torch.inference_mode()``.

PyTorch keeps no version counter for them, so autograd refuses to save one for the
backward pass of an op recorded later outside the block (``it * w`` with ``w`` requiring
grad), while ops that save no input (``it + w``) take them. fnnet.torch marks the storage
of each tensor made in the block, through the new-tensor hook that costs nothing when
unset, and checks a recorded op's inputs only once such a tensor exists.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from fnnet.torch._functions import _cat, _stack
from fnnet.torch._graph import CONST
from fnnet.torch._recorder import current
from fnnet.torch._settings import is_inference_mode_enabled
from fnnet.torch._tape import Cell, ExpandedCell
from fnnet.torch.tensor import Tensor, _rsub

#: the module ``fnnet.torch.tensor`` (whose name the package gives the factory function)
_tensors = importlib.import_module("fnnet.torch.tensor")


class _InferenceCell(Cell):
    """The storage of a tensor made in inference mode."""

    __slots__ = ()


class _InferenceExpandedCell(ExpandedCell):
    """The storage of an expanded tensor made in inference mode."""

    __slots__ = ()


_MARKED = {Cell: _InferenceCell, ExpandedCell: _InferenceExpandedCell}
_INFERENCE_CELLS = frozenset(_MARKED.values())

#: ops whose backward reads none of their inputs, as PyTorch saves none for them
_SAVE_NO_INPUT = frozenset({jnp.add, jnp.subtract, _rsub, jnp.negative, _cat, _stack})

SAVED_ERROR = ("Inference tensors cannot be saved for backward. Please do not use Tensors "
               "created in inference mode in computation tracked by autograd. To work "
               "around this, you can make a clone to get a normal tensor and use it in "
               "autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`.")


def is_inference(t: Tensor) -> bool:
    """Whether ``t`` was made inside ``inference_mode()``, or is a view of such a tensor
    (``it.view(1, -1)``, ``it[0]`` taken outside the block), as PyTorch's views are."""
    if type(t._cell) in _INFERENCE_CELLS:
        return True
    how = getattr(t, "_view", None)
    return how is not None and type(how.cell()) in _INFERENCE_CELLS


def _marker(previous: Callable[[Tensor], None] | None) -> Callable[[Tensor], None]:
    def mark(t: Tensor) -> None:
        cell = t._cell
        marked = _MARKED.get(type(cell))
        if marked is not None:
            cell.__class__ = marked
        if previous is not None:  # the profiler's hook, where one was set before
            previous(t)

    mark.previous = previous  # type: ignore[attr-defined]
    return mark


def enter(on: bool) -> tuple[Any, Any]:
    """Starts (``on``) or pauses marking the tensors made from now on; returns what
    :func:`leave` needs to restore the hook found."""
    found = _tensors.on_new_tensor
    base = getattr(found, "previous", found)
    if on:
        _tensors.note_inference_tensors()
        hook = _marker(base)
    else:
        hook = base
    _tensors.watch_new_tensors(hook)
    return found, hook


def leave(state: tuple[Any, Any]) -> None:
    """Restores the hook :func:`enter` found, unless another (a profiler's) replaced the
    one set there meanwhile."""
    found, hook = state
    if _tensors.on_new_tensor is hook:
        _tensors.watch_new_tensors(found)


def check_saved(op: Any, inputs: tuple[Any, ...]) -> None:
    """PyTorch's RuntimeError where an op recorded for autograd would save an inference
    tensor among ``inputs`` for the backward pass of another input that requires grad."""
    if op in _SAVE_NO_INPUT or not current().grad_enabled:
        return
    tensors = [t for t in inputs if isinstance(t, Tensor)]
    if any(is_inference(t) for t in tensors) and any(
            t._kind != CONST and not is_inference(t) for t in tensors):
        raise RuntimeError(SAVED_ERROR)


def check_outside(t: Tensor, requires_grad: bool = False) -> None:
    """PyTorch's RuntimeError for an in-place write to the inference tensor ``t``, or
    (``requires_grad``) for making it require grad, outside inference mode."""
    if not is_inference(t) or is_inference_mode_enabled():
        return
    if requires_grad:
        raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                           "InferenceMode is not allowed.")
    raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                       "allowed.You can make a clone to get a normal tensor before doing "
                       "inplace update.See https://github.com/pytorch/rfcs/pull/17 for more "
                       "details.")
