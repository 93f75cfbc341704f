"""Autograd re-expressed: ``backward()`` records a node whose outputs are ``jax.vjp``
gradients of the recorded loss with respect to the leaves it depends on.

The differentiable region of a loss (recorded nodes between the leaves that require grad
and the loss) is found by walking the tape back through differentiable uses, once per
structure (cached in the trie); the compiled step replays that region inside
``jax.vjp`` (see ``_replay``). ``Tensor.backward`` accumulates the gradients into
``.grad`` across backward calls, as in PyTorch, by recording additions.

The grad mode (``no_grad`` and its kin) is the current recorder's ``grad_enabled``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fnnet.torch import _compiler, _graph, _saved
from fnnet.torch._recorder import current
from fnnet.torch._tape import CONST, NO_REF, RG, VAR, Aval, Tape, kind_of, ref, slot_of

#: at most this many recorded nodes wait for the next step's program (see ``no_grad``),
#: so that a loop updating leaves without ever calling backward still runs its work
DEFER_NODES = 256


class no_grad:  # noqa: N801 - PyTorch's name
    """Records nothing for autograd inside the block (or the decorated function).

    Work recorded under ``no_grad`` still compiles and is cached like any other; on
    leaving the block, pending work (e.g. a manual parameter update) is flushed when no
    live tensor still needs its graph. A block that only updated parameters right after
    the flush of a step's backward (a block per parameter) leaves its update to the next
    step's program, so that a step stays one program; so does a block whose exit, from
    the same recorded structure holding no backward, was last followed by the flush of
    a backward (a teacher's or target network's forward pass inside a training step,
    an average of the weights updated after it).

    PyTorch equivalent: ``torch.no_grad``.
    """

    _mode = False

    def __new__(cls, orig_func: Callable[..., Any] | None = None) -> Any:
        # ``@torch.no_grad`` without parentheses decorates too, as in PyTorch
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __enter__(self) -> None:
        recorder = current()
        self._previous = recorder.grad_enabled
        recorder.grad_enabled = self._mode

    def __exit__(self, *exc: Any) -> None:
        recorder = current()
        recorder.grad_enabled = self._previous
        tp = recorder.tape
        deferred = tp.leaf_written and tp.after_backward and not tp.backward and len(
            tp.nodes) < DEFER_NODES
        if exc[0] is not None or deferred or tp.state in recorder.step_follows:
            return
        state, backward = tp.state, bool(tp.backward)
        if _compiler.maybe_flush() and not backward:
            recorder.exit_flushed = state

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return _in_mode(func, type(self))


class enable_grad(no_grad):  # noqa: N801
    """Re-enables gradient recording. PyTorch equivalent: ``torch.enable_grad``."""

    _mode = True


class set_grad_enabled(no_grad):  # noqa: N801
    """Sets gradient recording on or off. PyTorch: ``torch.set_grad_enabled(mode)``."""

    def __new__(cls, mode: bool) -> Any:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            kind = type(mode)
            name = kind.__name__ if kind.__module__ == "builtins" else \
                f"{kind.__module__}.{kind.__qualname__}"
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be "
                            f"bool, not {name}")
        recorder = current()
        self._mode = mode
        self._previous = recorder.grad_enabled
        recorder.grad_enabled = self._mode

    def __enter__(self) -> None:
        # the mode was set when made: leaving restores the one from before that
        current().grad_enabled = self._mode

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        current().grad_enabled = self._previous
        mode = self._mode
        return _in_mode(func, lambda: set_grad_enabled(mode))


def _in_mode(func: Callable[..., Any], mode: Callable[[], Any]) -> Callable[..., Any]:
    """``func`` run inside a fresh ``mode()`` context; a generator function's body runs
    inside it at each resume, and the caller's mode between them (as PyTorch's
    decorators do)."""
    if not inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return func(*args, **kwargs)

        return wrapper

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Any:
        inner = func(*args, **kwargs)
        try:
            with mode():
                value = next(inner)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    with mode():
                        inner.close()
                    raise
                except BaseException as error:  # thrown in by the caller
                    with mode():
                        value = inner.throw(error)
                else:
                    with mode():
                        value = inner.send(sent)
        except StopIteration as stop:
            return stop.value

    return generator


def is_grad_enabled() -> bool:
    """PyTorch equivalent: ``torch.is_grad_enabled``."""
    return current().grad_enabled


def _backward_marker(loss: Any, cotangent: Any) -> Any:
    raise RuntimeError("fnnet.torch: backward nodes are evaluated by the compiler")


FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). fnnet.torch frees the graph of every live tensor "
    "at optimizer.step(): compute the loss again after the step, or backward before it.")


#: PyTorch's words for a second backward through a graph the first one freed
BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


def region(tp: Tape, loss_ref: int) -> tuple[list[int], list[int]]:
    """Nodes between the leaves and the loss, and the leaves' slots (both sorted)."""
    slot, use = slot_of(loss_ref), kind_of(loss_ref)
    if use == VAR:
        return [], [slot]
    owner = tp.node_of_slot()
    nodes: set[int] = set()
    leaves: set[int] = set()
    stack = [owner[slot]]
    while stack:
        n = stack.pop()
        if n in nodes:
            continue
        node = tp.nodes[n]
        if node.op is None:
            raise RuntimeError(FREED)
        nodes.add(n)
        for r in node.inputs:
            if r < 0:
                continue
            if kind_of(r) == RG:
                stack.append(owner[slot_of(r)])
            elif kind_of(r) == VAR:
                leaves.add(slot_of(r))
    return sorted(nodes), sorted(leaves)


def record_backward(tensor: Any, gradient: Any = None,
                    retain_graph: bool | None = None) -> list[tuple[Any, int, Aval]]:
    """Records ``tensor.backward(gradient)``: a node whose outputs are the gradients of
    ``tensor`` (with cotangent ``gradient``, a tensor or None) w.r.t. every leaf it
    depends on. The caller accumulates them into the leaves' ``.grad``.

    Returns:
        ``(leaf tensor, slot of its gradient, aval)`` for each leaf.

    Raises:
        RuntimeError: as PyTorch's ``Tensor.backward`` for a tensor that does not require
            grad, a non-scalar without ``gradient``, a ``gradient`` of another shape or a
            graph already freed.
    """
    if tensor._kind == CONST:
        raise RuntimeError("element 0 of tensors does not require grad and does not have "
                           "a grad_fn")
    if gradient is None:
        if tensor.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if tensor._cell.aval[1].kind == "c":
            raise RuntimeError(f"grad can be implicitly created only for real scalar "
                               f"outputs but got {tensor.dtype}")
    elif tuple(gradient.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"Mismatch in shape: grad_output[0] has a shape of {tuple(gradient.shape)} "
            f"and output[0] has a shape of {tuple(tensor.shape)}.")
    tp = _graph.recording_tape()
    # PyTorch's error for a value saved for backward changed since, before a flush below
    # frees a graph that read a leaf written since
    checked = bool(tp.overwritten) and tensor._cell.tape is tp
    if checked:
        _saved.check(tp, ref(tensor._cell.ref, tensor._kind), region)
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
    loss_ref = ref(cell.ref, tensor._kind)
    if tp.overwritten and not checked:
        _saved.check(tp, loss_ref, region)
    if tensor._kind == VAR and cell.ref not in tp.var_owner:
        tp.var_owner[cell.ref] = tensor
    grad_ref = NO_REF
    if gradient is not None:
        gcell = gradient._cell
        grad_ref = ref(gcell.ref if gcell.tape is tp else _graph.cell_source(tp, gcell))

    def extra(tp: Tape) -> tuple[tuple[Aval, ...], tuple[Any, ...]]:
        nodes, leaves = region(tp, loss_ref)
        slots = tuple(s for n in nodes for s in tp.out_slots(n))
        return tuple(tp.avals[s] for s in leaves), (nodes, leaves, slots)

    if not tp.backward:
        tp.before_backward = (tp.state, len(tp.srcs), len(tp.nodes))
        split = tp.recorder.early.get(tp.state) if tp.recorder is not None else None
        if split is not None:
            split.start(tp.srcs)  # the loss's program runs while the rest is recorded
    first, avals = _graph.record_refs(_backward_marker, (bool(retain_graph),),
                                      (loss_ref, grad_ref), extra=extra)
    nodes, leaves, region_slots = tp.backward[len(tp.nodes) - 1]
    if not tp.consumed.isdisjoint(nodes):
        raise RuntimeError(BACKWARD_TWICE)
    if not retain_graph:
        tp.consumed.update(nodes)
        tp.consumed_slots.update(region_slots)
    return [(tp.var_owner[slot], first + i, avals[i]) for i, slot in enumerate(leaves)]
