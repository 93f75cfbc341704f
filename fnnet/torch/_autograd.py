"""Autograd re-expressed: ``backward()`` records a node whose outputs are ``jax.vjp``
gradients of the recorded loss with respect to the leaves it depends on.

The differentiable region of a loss (recorded nodes between the leaves that require grad
and the loss) is found by walking the tape back through differentiable uses, once per
structure (cached in the trie); the compiled step replays that region inside
``jax.vjp`` (see ``_compiler``). Gradients accumulate into ``.grad`` across backward
calls, as in PyTorch, by recording additions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fnnet.torch import _compiler, _graph
from fnnet.torch import tensor as _tensor  # (partly initialised here: used at call time)
from fnnet.torch._graph import CONST, RG, VAR, Tape

#: at most this many recorded nodes wait for the next step's program (see ``no_grad``),
#: so that a loop updating leaves without ever calling backward still runs its work
DEFER_NODES = 256


class no_grad:  # noqa: N801 - PyTorch's name
    """Records nothing for autograd inside the block (or the decorated function).

    Work recorded under ``no_grad`` still compiles and is cached like any other; on
    leaving the block, pending work (e.g. a manual parameter update) is flushed when no
    live tensor still needs its graph. A block that only updated parameters right after
    the flush of a step's backward (a block per parameter) leaves its update to the next
    step's program, so that a step stays one program.

    PyTorch equivalent: ``torch.no_grad``.
    """

    _mode = False

    def __enter__(self) -> None:
        self._previous = _graph.grad_enabled[0]
        _graph.grad_enabled[0] = self._mode

    def __exit__(self, *exc: Any) -> None:
        _graph.grad_enabled[0] = self._previous
        tp = _graph.tape
        deferred = tp.leaf_written and tp.after_backward and not tp.backward and len(
            tp.nodes) < DEFER_NODES
        if exc[0] is None and not deferred:
            _compiler.maybe_flush()

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):  # noqa: N801
    """Re-enables gradient recording. PyTorch equivalent: ``torch.enable_grad``."""

    _mode = True


class set_grad_enabled(no_grad):  # noqa: N801
    """Sets gradient recording on or off. PyTorch: ``torch.set_grad_enabled(mode)``."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._previous = _graph.grad_enabled[0]
        _graph.grad_enabled[0] = self._mode

    def __call__(self, func: Callable) -> Callable:
        _graph.grad_enabled[0] = self._previous
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper


def is_grad_enabled() -> bool:
    """PyTorch equivalent: ``torch.is_grad_enabled``."""
    return _graph.grad_enabled[0]


def _backward_marker(loss: Any, cotangent: Any) -> Any:
    raise RuntimeError("fnnet.torch: backward nodes are evaluated by the compiler")


FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). fnnet.torch frees the graph of every live tensor "
    "at optimizer.step(): compute the loss again after the step, or backward before it.")


def _region(tp: Tape, loss_ref: int) -> tuple[list[int], list[int]]:
    """Nodes between the leaves and the loss, and the leaves' slots (both sorted)."""
    slot, use = loss_ref >> 2, loss_ref & 3
    if use == VAR:
        return [], [slot]
    owner = tp.node_of_slot()
    region: set[int] = set()
    leaves: set[int] = set()
    stack = [owner[slot]]
    while stack:
        n = stack.pop()
        if n in region:
            continue
        op, _, ins, _, _, _ = tp.nodes[n]
        if op is None:
            raise RuntimeError(FREED)
        region.add(n)
        for r in ins:
            if r < 0:
                continue
            if r & 3 == RG:
                stack.append(owner[r >> 2])
            elif r & 3 == VAR:
                leaves.add(r >> 2)
    return sorted(region), sorted(leaves)


def backward(tensor: Any, gradient: Any = None, retain_graph: bool | None = None) -> None:
    """Accumulates d(tensor)/d(leaf) into ``leaf.grad`` for every leaf it depends on.

    PyTorch equivalent: ``Tensor.backward``.
    """
    if tensor._kind == CONST:
        raise RuntimeError("element 0 of tensors does not require grad and does not have "
                           "a grad_fn")
    if gradient is None:
        if tensor.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
    else:
        gradient = _tensor._as_tensor(gradient)
        if tuple(gradient.shape) != tuple(tensor.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[0] has a shape of {tuple(gradient.shape)} "
                f"and output[0] has a shape of {tuple(tensor.shape)}.")
    tp = _graph.recording_tape()
    if tp.backward and tp.leaf_updated:
        # a loop updating its parameters by hand (``p.data.add_``) and never leaving
        # ``no_grad`` nor reading a value: run the previous step now, carrying this loss's
        # graph, so that each step is one program of the same structure
        _compiler.flush("value", force=False)
        tp = _graph.recording_tape()
    cell = tensor._cell
    if cell.tape is not tp:
        if tensor._kind == RG:
            raise RuntimeError(FREED)
        _graph.cell_source(tp, cell)
    loss_ref = cell.ref * 4 + tensor._kind
    if tensor._kind == VAR and cell.ref not in tp.var_owner:
        tp.var_owner[cell.ref] = tensor
    grad_ref = -1
    if gradient is not None:
        gcell = gradient._cell
        grad_ref = (gcell.ref if gcell.tape is tp else _graph.cell_source(tp, gcell)) * 4

    def extra(tp: Tape) -> tuple:
        region, leaves = _region(tp, loss_ref)
        slots = tuple(tp.nodes[n][4] + k for n in region for k in range(tp.nodes[n][5]))
        return tuple(tp.avals[s] for s in leaves), (region, leaves, slots)

    first, avals = _graph.record_refs(_backward_marker, (bool(retain_graph),),
                                      (loss_ref, grad_ref), extra=extra)
    region, leaves, region_slots = tp.backward[len(tp.nodes) - 1]
    if not tp.consumed.isdisjoint(region):
        raise RuntimeError(FREED.replace("fnnet.torch frees", "Specify retain_graph=True "
                                         "if you need to backward a second time; fnnet.torch "
                                         "also frees"))
    if not retain_graph:
        tp.consumed.update(region)
        tp.consumed_slots.update(region_slots)
    previous = _graph.grad_enabled[0]
    _graph.grad_enabled[0] = False
    try:
        wrap = _tensor._wrap_slot
        for i, slot in enumerate(leaves):
            leaf = tp.var_owner[slot]
            new = wrap(first + i, avals[i], False)
            old = leaf.grad
            if old is None:
                leaf.grad = new
            elif isinstance(old, _tensor.Tensor):
                old.add_(new)
    finally:
        _graph.grad_enabled[0] = previous
