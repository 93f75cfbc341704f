"""Gradients that are themselves differentiable (``create_graph=True``).

The recorded graph from the leaves to the output is replayed, as one node, inside
``jax.vjp``: the node's inputs are the leaves and the values the graph uses as
constants, its outputs the gradients. A later backward differentiates that node like
any other, so jax takes the derivative of the derivative.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.extend import core

from fnnet.torch import _autograd, _eager, _graph, _saved
from fnnet.torch._recorder import current
from fnnet.torch._tape import CONST, VAR, kind_of, ref, slot_of
from fnnet.torch.tensor import Tensor, _wrap_slot


def _grad_op(*args: Any) -> tuple[Any, ...]:
    """``d(outputs . cotangent)/d(leaves and perturbed values)`` of the replayed graph in
    ``spec``.

    A non-leaf input of ``autograd.grad`` is a recorded value: a zero is added to it where
    the replay computes it (``perturbed``: its slot, shape and dtype), and the gradient
    with respect to that zero is the value's."""
    *values, spec = args
    nodes, n_leaves, n_ext, loss, has_cotangent, wanted, perturbed = spec
    leaves, ext = values[:n_leaves], values[n_leaves:n_leaves + n_ext]
    shift = {slot: i for i, (slot, _, _) in enumerate(perturbed)}

    def forward(leaf_values: list[Any], zeros: list[Any]) -> Any:
        env: dict[int, Any] = {}

        def get(ref: Any) -> Any:
            if ref is None:
                return None
            kind = ref[0]
            if kind == "L":
                return leaf_values[ref[1]]
            if kind == "E":
                return lax.stop_gradient(ext[ref[1]])
            value = env[ref[1]]
            return value if ref[2] else lax.stop_gradient(value)

        for op, static, refs, first in nodes:
            out = op(*[get(r) for r in refs], *static)
            for k, value in enumerate(out if isinstance(out, (tuple, list)) else [out]):
                i = shift.get(first + k)
                env[first + k] = value if i is None else value + zeros[i]
        return get(loss)

    zeros = [jnp.zeros(shape, dtype) for _, shape, dtype in perturbed]
    out, vjp = jax.vjp(forward, list(leaves), zeros)
    cotangent = values[-1] if has_cotangent else jnp.ones_like(out)
    # PyTorch's complex gradients are the conjugates of JAX's cotangents
    grads = vjp(_eager.conjugate(jnp.asarray(cotangent, out.dtype)))
    return tuple(_eager.conjugate(grads[kind][i]) for kind, i in wanted)


def grad_with_graph(root: Tensor, cotangent: Any, inputs: list[Tensor]) -> list[Any]:
    """Differentiable gradients of ``root`` (with ``cotangent``) w.r.t. ``inputs``, leaves
    or recorded values that require grad; None for an input the graph does not use."""
    tp = _graph.recording_tape()
    cell = root._cell
    if cell.tape is not tp:
        raise RuntimeError(_autograd.FREED)
    if root._kind == VAR:
        raise NotImplementedError("fnnet.torch: create_graph=True of a leaf itself is not "
                                  "supported")
    if tp.overwritten:  # PyTorch's error for a value saved for backward changed since
        _saved.check(tp, ref(cell.ref, root._kind), _autograd.region)
    region, leaf_slots = _autograd.region(tp, ref(cell.ref, root._kind))
    owner = tp.node_of_slot()
    inside = set(region)
    leaf_index = {s: i for i, s in enumerate(leaf_slots)}
    ext: list[int] = []
    ext_index: dict[int, int] = {}
    nodes = []
    for n in region:
        op, static, ins, _, first, _ = tp.nodes[n][:6]
        refs: list[tuple[Any, ...] | None] = []
        for r in ins:
            if r < 0:
                refs.append(None)
                continue
            s, use = slot_of(r), kind_of(r)
            if use == VAR:
                refs.append(("L", leaf_index[s]))
            elif owner[s] in inside:
                refs.append(("N", s, use != CONST))
            else:
                if s not in ext_index:
                    ext_index[s] = len(ext)
                    ext.append(s)
                refs.append(("E", ext_index[s]))
        nodes.append((op, static, tuple(refs), first))
    # each input as ("L", leaf index) or ("P", perturbed index); None where unused
    where: list[tuple[int, int] | None] = []
    perturbed: list[tuple[int, tuple[int, ...], Any]] = []
    for tensor in inputs:
        s = tensor._cell.ref if tensor._cell.tape is tp else -1
        if tensor._kind == VAR:
            where.append((0, leaf_index[s]) if s in leaf_index else None)
        elif s >= 0 and owner[s] in inside:
            shape, dtype, _ = tp.avals[s]
            where.append((1, len(perturbed)))
            perturbed.append((s, shape, dtype))
        else:
            where.append(None)
    refs_in = [ref(s, VAR) for s in leaf_slots] + [ref(s, CONST) for s in ext]
    if cotangent is not None:
        # the gradients are linear in the cotangent: differentiable in it where it requires
        # grad (gradgradcheck differentiates by the output gradients too)
        gcell = cotangent._cell
        slot = gcell.ref if gcell.tape is tp else _graph.cell_source(tp, gcell)
        if cotangent._kind == VAR:
            tp.var_owner.setdefault(slot, cotangent)
        refs_in.append(ref(slot, cotangent._kind))
    wanted = tuple(dict.fromkeys(w for w in where if w is not None))
    spec = (tuple(nodes), len(leaf_slots), len(ext), ("N", cell.ref, True),
            cotangent is not None, wanted, tuple(perturbed))
    used, needs = _dependence(tp, spec, refs_in)
    # a leaf no gradient reads (the last layer's bias under a gradient penalty) is a
    # constant of the node: a backward through it leaves that leaf's .grad None, as
    # PyTorch's graph of the gradients does not reach it
    refs_in = [r if read or kind_of(r) != VAR else ref(slot_of(r), CONST)
               for r, read in zip(refs_in, used, strict=True)]
    first, avals = _graph.record_refs(_grad_op, (spec,), tuple(refs_in), rg=True)
    grads = {w: _wrap_slot(first + i, aval, needs[i])
             for i, (w, aval) in enumerate(zip(wanted, avals, strict=True))}
    return [None if w is None else grads[w] for w in where]


def _dependence(tp: Any, spec: tuple[Any, ...], refs_in: list[int]
                ) -> tuple[tuple[bool, ...], tuple[bool, ...]]:
    """For the node ``_grad_op`` of ``spec`` on ``refs_in`` about to be recorded: whether
    any of its gradients reads each input, and whether each gradient requires grad.
    PyTorch's gradient does where its backward formula reads a value that requires grad
    (``x * x``'s, not ``x * 2``'s nor ``x.sum()``'s). Worked out once per recorded
    structure, from the node's jaxpr."""
    cache = current().grads_needed
    key = (tp.state, spec, tuple(refs_in))
    found = cache.get(key)
    if found is None:
        args = [jax.ShapeDtypeStruct(shape, dtype)
                for shape, dtype, _ in (tp.avals[slot_of(r)] for r in refs_in)]
        closed = jax.make_jaxpr(lambda *a: _grad_op(*a, spec))(*args)
        used = tuple(_flow(closed.jaxpr, [True] * len(closed.jaxpr.outvars), backward=True))
        flags = [kind_of(r) != CONST and read for r, read in zip(refs_in, used, strict=True)]
        reads = _flow(closed.jaxpr, flags)
        needs = tuple(read and np.dtype(aval.dtype).kind in "fc"
                      for read, aval in zip(reads, closed.out_avals, strict=True))
        if len(cache) > _saved.CACHE_LIMIT:
            cache.clear()
        found = cache[key] = (used, needs)
    return found


def _flow(jaxpr: core.Jaxpr, flags: list[bool], backward: bool = False) -> list[bool]:
    """For each output of ``jaxpr``, whether it is computed from an input flagged in
    ``flags``; with ``backward``, for each input, whether an output flagged in ``flags``
    is computed from it. Through nested ``jit`` calls (any other nested call's outputs
    from all of its inputs), ``stop_gradient`` cutting the path as ``detach()`` does."""
    sources, sinks = (jaxpr.outvars, jaxpr.invars) if backward else \
        (jaxpr.invars, jaxpr.outvars)
    marked = {v for v, flag in zip(sources, flags, strict=True)
              if flag and not isinstance(v, core.Literal)}
    for eqn in reversed(jaxpr.eqns) if backward else jaxpr.eqns:
        ins, outs = (eqn.outvars, eqn.invars) if backward else (eqn.invars, eqn.outvars)
        hit = [not isinstance(v, core.Literal) and v in marked for v in ins]
        if not any(hit) or eqn.primitive.name == "stop_gradient":
            continue
        inner = eqn.params.get("jaxpr")
        if eqn.primitive.name == "jit" and isinstance(inner, core.ClosedJaxpr):
            reached = _flow(inner.jaxpr, hit, backward)
        else:
            reached = [True] * len(outs)
        marked.update(v for v, r in zip(outs, reached, strict=True)
                      if r and not isinstance(v, core.Literal))
    return [not isinstance(v, core.Literal) and v in marked for v in sinks]


def backward_with_graph(root: Tensor, cotangent: Any) -> None:
    """``root.backward(create_graph=True)``: differentiable gradients accumulated into
    every leaf's ``.grad``."""
    if cotangent is None and root.numel() != 1:
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    tp = _graph.recording_tape()
    if root._cell.tape is not tp:
        raise RuntimeError(_autograd.FREED)
    _, leaf_slots = _autograd.region(tp, ref(root._cell.ref, root._kind))
    leaves = [tp.var_owner[s] for s in leaf_slots]
    for leaf, g in zip(leaves, grad_with_graph(root, cotangent, leaves), strict=True):
        leaf.grad = g if leaf.grad is None else leaf.grad + g
