"""``torch.autograd.grad``, ``backward`` and the legacy ``Variable``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fnnet.torch import _autograd, _functions, _graph
from fnnet.torch._recorder import current
from fnnet.torch._tape import RG, Tape, ref, slot_of
from fnnet.torch.autograd.higher import grad_with_graph
from fnnet.torch.tensor import Tensor, _add_probe, _wrap_slot


def _tensors(value: Any, what: str) -> list[Tensor]:
    items = [value] if isinstance(value, Tensor) else list(value)
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"{what} must be Tensors, got {type(item).__name__}")
    return items


def _combined(outputs: list[Tensor], grad_outputs: Any) -> tuple[Any, Any]:
    """One tensor whose backward is the sum of the outputs' backwards (with their
    cotangents)."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got "
                           f"{len(grad_outputs)} for {len(outputs)} outputs")
    if len(outputs) == 1:
        return outputs[0], grad_outputs[0]
    total = None
    for out, g in zip(outputs, grad_outputs, strict=True):
        if g is None and out.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        term = out.sum() if g is None else (out * g).sum()
        total = term if total is None else total + term
    return total, None


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Accumulates gradients of ``tensors`` into the leaves' ``.grad``.

    PyTorch equivalent: ``torch.autograd.backward``.
    """
    root, cotangent = _combined(_tensors(tensors, "tensors"), grad_tensors)
    root.backward(cotangent, retain_graph=retain_graph, create_graph=create_graph,
                  inputs=inputs)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False
         ) -> tuple[Any, ...]:
    """The gradients of ``outputs`` with respect to ``inputs`` (tensors that require
    grad: leaves, or values computed from them), returned rather than accumulated:
    every ``.grad`` is left as it was.

    With ``create_graph=True`` the gradients are differentiable (a second derivative,
    a gradient penalty): see :mod:`fnnet.torch.autograd.higher`.

    PyTorch equivalent: ``torch.autograd.grad`` (``only_inputs``, deprecated there and
    ignored, is accepted as WGAN-GP code passes it).
    """
    del only_inputs
    if is_grads_batched:
        raise NotImplementedError("fnnet.torch: autograd.grad(is_grads_batched=True) is not "
                                  "supported; use jax.vmap over jax.vjp in fnnet's "
                                  "functional API")
    wrt = _tensors(inputs, "inputs")
    roots = _tensors(outputs, "outputs")
    for i, tensor in enumerate(roots):  # the outputs first, as PyTorch's engine checks
        if not tensor.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               f"have a grad_fn")
    for tensor in wrt:
        if not tensor.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    root, cotangent = _combined(roots, grad_outputs)
    if cotangent is not None:
        cotangent = _functions.as_tensor(cotangent)
    if create_graph or not all(tensor.is_leaf for tensor in wrt):
        if cotangent is None and root.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if cotangent is None and root.dtype.is_complex:
            raise RuntimeError(f"grad can be implicitly created only for real scalar "
                               f"outputs but got {root.dtype}")
        probes = _probes_of(root, wrt)
        found = grad_with_graph(root, cotangent, wrt + probes)
        if not create_graph:
            found = [None if g is None else g.detach() for g in found]
        _deliver(probes, found[len(wrt):], create_graph)
        return _finish(found[:len(wrt)], wrt, allow_unused, materialize_grads)
    return _finish(_of_leaves(root, cotangent, wrt, retain_graph), wrt, allow_unused,
                   materialize_grads)


def _of_leaves(root: Tensor, cotangent: Tensor | None, leaves: list[Tensor],
               retain_graph: bool | None) -> list[Tensor | None]:
    """The gradients of ``root`` w.r.t. ``leaves`` after their hooks, recorded as by
    ``backward()`` but added to no leaf's ``.grad``: only the non-leaf tensors on the way
    get theirs (their hooks run, a retained ``.grad`` grows), as in PyTorch."""
    recorded = _autograd.record_backward(root, cotangent, retain_graph)
    recorder = current()
    previous = recorder.grad_enabled
    recorder.grad_enabled = False
    try:
        # every gradient bound before any hook runs (a hook may read a value)
        bound = {id(leaf._cell): (leaf, _wrap_slot(slot, aval, False))
                 for leaf, slot, aval in recorded}
        if any(_is_probe(leaf) for leaf, _, _ in recorded):
            tp = _graph.recording_tape()
            nodes = tp.backward[len(tp.nodes) - 1][0]
            on_the_way = _on_the_way(tp, nodes, {leaf._cell.ref for leaf in leaves})
            for leaf, g in bound.values():
                if _is_probe(leaf) and leaf._cell.ref in on_the_way:
                    leaf._hooks.deliver(g)  # its owner's hooks and retained .grad
        found: list[Tensor | None] = []
        for leaf in leaves:
            entry = bound.get(id(leaf._cell))
            hooks = getattr(leaf, "_hooks", None)
            if entry is not None and hooks is not None:
                found.append(hooks.deliver(entry[1]))
            else:
                found.append(None if entry is None else entry[1])
    finally:
        recorder.grad_enabled = previous
    return found


def _is_probe(leaf: Tensor) -> bool:
    """Whether ``leaf`` is the probe of a non-leaf tensor with hooks or a retained
    gradient (see ``Tensor._probed``)."""
    hooks = getattr(leaf, "_hooks", None)
    return hooks is not None and hooks.owner is not None


def _on_the_way(tp: Tape, nodes: list[int], starts: set[int]) -> set[int]:
    """The slots of the probes among ``nodes`` (a backward's region, in recorded order)
    whose owners' gradients PyTorch's engine computes on its way from the output to the
    slots ``starts``: owners among the inputs, or computed from them. A retained
    tensor that no input reaches keeps its ``.grad`` as it was."""
    down = set(starts)
    probes = set()
    for n in nodes:
        node = tp.nodes[n]
        if node.op is _add_probe and node.first in down:  # an input itself
            probes.add(slot_of(node.inputs[1]))
        elif any(r >= 0 and slot_of(r) in down for r in node.inputs):
            down.update(tp.out_slots(n))
            if node.op is _add_probe:
                probes.add(slot_of(node.inputs[1]))
    return probes


def _probes_of(root: Tensor, inputs: list[Tensor]) -> list[Tensor]:
    """The probes whose owners' hooks and retained ``.grad`` the gradient of ``root``
    w.r.t. ``inputs`` reaches (see :func:`_on_the_way`)."""
    tp = _graph.recording_tape()
    if root._cell.tape is not tp:
        return []  # grad_with_graph raises PyTorch's error for a freed graph
    nodes, leaf_slots = _autograd.region(tp, ref(root._cell.ref, root._kind))
    probes = [tp.var_owner[s] for s in leaf_slots
              if s in tp.var_owner and _is_probe(tp.var_owner[s])]
    if not probes:
        return []
    on_the_way = _on_the_way(tp, nodes, {t._cell.ref for t in inputs if t._cell.tape is tp})
    return [p for p in probes if p._cell.ref in on_the_way]


def _deliver(probes: list[Tensor], grads: list[Any], create_graph: bool) -> None:
    """Hands each probe's gradient to its owner's hooks and retained ``.grad``
    (differentiable under ``create_graph``, as PyTorch's retained gradient is then)."""
    recorder = current()
    previous = recorder.grad_enabled
    recorder.grad_enabled = create_graph
    try:
        for probe, g in zip(probes, grads, strict=True):
            if g is not None and probe._hooks is not None:
                probe._hooks.deliver(g)
    finally:
        recorder.grad_enabled = previous


def backward_into(root: Tensor, gradient: Any, retain_graph: bool | None,
                  create_graph: bool, inputs: Any) -> None:
    """``root.backward(gradient, inputs=inputs)``: the gradients of ``root`` accumulated
    into the ``.grad`` of ``inputs`` alone (leaves, after their hooks, or recorded values),
    every other leaf's left as it was.

    Raises:
        RuntimeError: ``inputs`` is empty, or holds a tensor that does not require grad
            (PyTorch's words for both).
    """
    wrt = _tensors(inputs, "inputs")
    if not wrt:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    if any(not tensor.requires_grad for tensor in wrt):
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    # a retained non-leaf input gets its .grad from grad() as PyTorch's engine gives it
    delivered = {id(t) for t in wrt if t._kind == RG and t._hooks is not None
                 and t._hooks.probe is not None and t._hooks.retain}
    found = grad(root, wrt, gradient, retain_graph=retain_graph, create_graph=create_graph,
                 allow_unused=True)
    recorder = current()
    previous = recorder.grad_enabled
    recorder.grad_enabled = create_graph
    try:
        for tensor, g in zip(wrt, found, strict=True):
            if g is None or id(tensor) in delivered:
                continue
            if tensor._grad is None:
                tensor._grad = g
            elif create_graph or not tensor.is_leaf:
                tensor._grad = tensor._grad + g
            else:
                tensor._grad.add_(g)
            if not tensor.is_leaf:
                tensor._gradient_hooks().retain = True  # as PyTorch marks it
                continue
            hooks = getattr(tensor, "_hooks", None)
            if hooks is not None:
                for post in list(hooks.post.values()):
                    post(tensor)
    finally:
        recorder.grad_enabled = previous


def _finish(found: list[Any], leaves: list[Tensor], allow_unused: Any,
            materialize_grads: bool) -> tuple[Any, ...]:
    if any(g is None for g in found) and not (allow_unused or materialize_grads):
        unused = next(i for i, g in enumerate(found) if g is None)
        raise RuntimeError(f"The differentiated Tensor at index {unused} appears to not have "
                           "been used in the graph. Set allow_unused=True if this is the "
                           "desired behavior.")
    if materialize_grads:
        found = [_functions.zeros_like(leaf) if g is None else g
                 for leaf, g in zip(leaves, found, strict=True)]
    return tuple(found)


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """The pre-0.4 wrapper: a tensor, as in PyTorch today (``Variable(t)`` shares ``t``'s
    storage and ``requires_grad`` makes it a leaf).

    PyTorch equivalent: ``torch.autograd.Variable``.
    """
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    out = data.detach()
    if requires_grad:
        out.requires_grad_(True)
    return out


__all__: Sequence[str] = ("Variable", "backward", "grad")
