"""The pure function of a recorded tape: ``run(*sources) -> wanted values``.

The nodes are replayed in order; a backward node replays its differentiable region (the
nodes between the leaves and the loss) inside ``jax.vjp`` and returns the leaves'
gradients, so ``loss.backward()`` is ``jax.grad`` of the recorded function of the
parameters. The function is traced and compiled by ``_cache``, or run node by node by
``_eager`` once compiling no longer pays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from fnnet.torch import _eager
from fnnet.torch._tape import NO_REF, RG, VAR, Node, Tape, kind_of, slot_of

#: a pure function of a tape's sources returning the wanted values, in order
Run = Callable[..., list[Any]]


class _Missing:
    """The value of a slot not computed yet."""


MISSING = _Missing()


def call(node: Node, args: list[Any]) -> list[Any]:
    """Runs one node on its input values; returns its outputs as a list."""
    out = node.op(*args, *node.static)
    # as in _graph._miss: a tuple or list is the node's outputs, even a list of one
    return list(out) if isinstance(out, (tuple, list)) else [out]


class Plan:
    """The nodes of a tape that ``wanted`` needs, in order.

    Attributes:
        order: the needed nodes, in recording order.
        inside: region node -> the first backward node whose ``jax.vjp`` computes it.
        sources: the indices (into the tape's sources) of the sources those nodes read.
    """

    def __init__(self, tp: Tape, wanted: tuple[int, ...]) -> None:
        self.nodes = nodes = list(tp.nodes)
        self.backward = backward = dict(tp.backward)
        self.n_slots = len(tp.avals)
        self.avals = tp.avals  # the op-by-op path keys its windows by them
        self.owner = owner = tp.node_of_slot()
        self.wanted = wanted
        needed: set[int] = set()
        stack = [owner[s] for s in wanted]
        while stack:
            n = stack.pop()
            if n in needed:
                continue
            needed.add(n)
            if n in backward:
                region, var_slots, _ = backward[n]
                stack.extend(owner[s] for s in var_slots)
                for m in region:
                    stack.extend(owner[slot_of(r)] for r in nodes[m].inputs if r >= 0)
            stack.extend(owner[slot_of(r)] for r in nodes[n].inputs if r >= 0)
        self.inside: dict[int, int] = {}
        for n in sorted(needed):
            if n in backward:
                for m in backward[n][0]:
                    self.inside.setdefault(m, n)
        self.order = sorted(needed)
        self.sources = tuple(i for i, slot in enumerate(tp.src_slots)
                             if owner[slot] in needed)
        self.src_slots = [tp.src_slots[i] for i in self.sources]

    def function(self, eager: bool = False) -> Run:
        """``run(*values of self.sources) -> [value of each wanted slot]``: a function to
        trace, or with ``eager`` one that runs node by node (see ``_eager``)."""
        execute = _eager.execute if eager else _execute

        def run(*src_values: Any) -> list[Any]:
            env: list[Any] = [MISSING] * self.n_slots
            for slot, value in zip(self.src_slots, src_values, strict=True):
                env[slot] = value
            execute(self, env)
            return [env[s] for s in self.wanted]

        return run


def _execute(plan: Plan, env: list[Any], vjps: Vjps | None = None) -> None:
    """Computes the needed nodes of ``plan`` into ``env`` (slot -> value).

    With ``vjps`` (see :class:`Vjps`), a backward node either keeps its ``jax.vjp``
    there instead of applying it (its gradients stay missing), or applies the one kept
    there by an earlier program instead of computing its region again.
    """
    nodes, owner, backward = plan.nodes, plan.owner, plan.backward
    done: set[int] = set()

    def compute(n: int) -> None:
        # computes node n now, first computing any input still missing (a node that a
        # later backward would otherwise compute inside its vjp)
        node = nodes[n]
        args: list[Any] = []
        for r in node.inputs:
            if r == NO_REF:
                args.append(None)
                continue
            s = slot_of(r)
            if env[s] is MISSING:
                compute(owner[s])
            args.append(env[s])
        env[node.first:node.first + node.n_out] = call(node, args)
        done.add(n)

    for n in plan.order:
        if n in done or nodes[n].op is None:
            continue
        if n in backward:
            if vjps is not None and vjps.given is not None:
                _apply_kept(plan, n, env, vjps.given[n], done)
            else:
                _backward(plan, n, env, compute, done,
                          None if vjps is None else vjps.kept)
        elif n in plan.inside and plan.inside[n] > n:
            continue  # computed inside the backward's vjp, unless needed before
        else:
            compute(n)


def _backward(plan: Plan, n: int, env: list[Any], compute: Callable[[int], None],
              done: set[int], kept: dict[int, Any] | None = None) -> None:
    """Runs backward node ``n``: its differentiable region inside ``jax.vjp`` (the
    region's values go into ``env``), then the vjp of the cotangent (ones, or the
    ``gradient`` given to ``backward``), whose gradients are the node's outputs. With
    ``kept``, the vjp and the cotangent are kept there (``kept[n]``) instead."""
    nodes, owner = plan.nodes, plan.owner
    region, var_slots, _ = plan.backward[n]
    loss_ref, grad_ref = nodes[n].inputs
    region_set = set(region)
    for s in var_slots:
        if env[s] is MISSING:
            compute(owner[s])
    for m in region:
        for r in nodes[m].inputs:
            if r >= 0 and owner[slot_of(r)] not in region_set and env[slot_of(r)] is MISSING:
                compute(owner[slot_of(r)])
    if grad_ref >= 0 and env[slot_of(grad_ref)] is MISSING:
        compute(owner[slot_of(grad_ref)])
    var_index = {s: i for i, s in enumerate(var_slots)}
    loss_slot = slot_of(loss_ref)

    def region_fn(var_values: list[Any]) -> tuple[Any, dict[int, Any]]:
        local: dict[int, Any] = {}
        for m in region:
            node = nodes[m]
            args: list[Any] = []
            for r in node.inputs:
                if r == NO_REF:
                    args.append(None)
                    continue
                s, use = slot_of(r), kind_of(r)
                if use == VAR:
                    value = var_values[var_index[s]]
                elif s in local:
                    value = local[s] if use == RG else jax.lax.stop_gradient(local[s])
                else:
                    value = env[s]
                args.append(value)
            for i, value in enumerate(call(node, args)):
                local[node.first + i] = value
        if kind_of(loss_ref) == VAR:
            loss = var_values[var_index[loss_slot]]
        else:
            loss = local[loss_slot]
        return loss, local

    var_values = [env[s] for s in var_slots]
    loss, vjp_fn, local = jax.vjp(region_fn, var_values, has_aux=True)
    cotangent = jnp.ones_like(loss) if grad_ref < 0 else env[slot_of(grad_ref)]
    cotangent = jnp.asarray(cotangent, loss.dtype)
    for s, value in local.items():
        env[s] = value
    done.update(region)
    done.add(n)
    if kept is not None:
        kept[n] = (vjp_fn, cotangent)
        return
    (grads,) = vjp_fn(cotangent)
    first = nodes[n].first
    env[first:first + len(grads)] = grads


def _apply_kept(plan: Plan, n: int, env: list[Any], kept: tuple[Any, Any],
                done: set[int]) -> None:
    """Backward node ``n`` from the ``(vjp, cotangent)`` an earlier program kept: its
    gradients, without its region (a later node reading a region value computes it)."""
    vjp_fn, cotangent = kept
    (grads,) = vjp_fn(cotangent)
    first = plan.nodes[n].first
    env[first:first + len(grads)] = grads
    done.add(n)


class Vjps:
    """The ``jax.vjp`` of each backward node, handed from one program to another.

    ``forward`` (:func:`forward_keeping_vjps`) runs the nodes up to the backward nodes
    and returns, after its wanted values, the leaves of each backward's vjp (the
    residuals of its region) and cotangent; ``resume`` (:func:`resume_from_vjps`) takes
    them after the tape's sources and applies them, so that the second program does not
    compute the forward pass again. The pytree structure of the leaves is fixed when
    ``forward`` is traced, before ``resume`` is.

    Attributes:
        kept: filled while tracing ``forward``: backward node -> ``(vjp, cotangent)``.
        given: set while tracing ``resume``: the same, rebuilt from the leaves.
        treedef: the structure of the kept vjps, in backward-node order.
        from_source: for each leaf, the index of the ``forward`` source it is (a value
            passed through, such as a weight the backward reads), or -1 for an output.
    """

    def __init__(self, backward: tuple[int, ...]) -> None:
        self.backward = backward
        self.kept: dict[int, Any] | None = None
        self.given: dict[int, Any] | None = None
        self.treedef: Any = None
        self.from_source: list[int] = []


def forward_keeping_vjps(plan: Plan, vjps: Vjps) -> Run:
    """``run(*values of plan.sources) -> [wanted values..., vjp leaves...]``, where
    ``plan`` wants the early values and the first gradient of each backward node in
    ``vjps.backward`` (whose gradients it leaves to :func:`resume_from_vjps`)."""
    n_early = len(plan.wanted) - len(vjps.backward)

    def run(*src_values: Any) -> list[Any]:
        env: list[Any] = [MISSING] * plan.n_slots
        for slot, value in zip(plan.src_slots, src_values, strict=True):
            env[slot] = value
        vjps.kept = {}
        _execute(plan, env, vjps)
        leaves, vjps.treedef = jax.tree_util.tree_flatten(
            [vjps.kept[n] for n in vjps.backward])
        vjps.kept = None
        inputs = {id(v): i for i, v in enumerate(src_values)}
        vjps.from_source = [inputs.get(id(leaf), -1) for leaf in leaves]
        return [env[s] for s in plan.wanted[:n_early]] + \
            [leaf for leaf, i in zip(leaves, vjps.from_source, strict=True) if i < 0]

    return run


def resume_from_vjps(plan: Plan, vjps: Vjps, forward_sources: tuple[int, ...],
                     n_sources: int) -> Run:
    """``run(*sources, *vjp leaves) -> [wanted values]``: ``plan``'s nodes (the backward
    nodes and what follows them) with each backward's vjp taken from the leaves that
    :func:`forward_keeping_vjps` returned; ``sources`` are all ``n_sources`` of the
    tape's, and ``forward_sources`` the indices among them of the forward program's."""

    def run(*args: Any) -> list[Any]:
        sources, outputs = args[:n_sources], iter(args[n_sources:])
        leaves = [next(outputs) if i < 0 else sources[forward_sources[i]]
                  for i in vjps.from_source]
        kept = jax.tree_util.tree_unflatten(vjps.treedef, leaves)
        env: list[Any] = [MISSING] * plan.n_slots
        for slot, i in zip(plan.src_slots, plan.sources, strict=True):
            env[slot] = sources[i]
        vjps.given = dict(zip(vjps.backward, kept, strict=True))
        try:
            _execute(plan, env, vjps)
        finally:
            vjps.given = None
        return [env[s] for s in plan.wanted]

    return run


def build(tp: Tape, wanted: tuple[int, ...], eager: bool = False) -> Run:
    """``run(*sources) -> [value of each wanted slot]`` for the current content of ``tp``
    (with ``eager``, run node by node instead of traced)."""
    plan = Plan(tp, wanted)
    if len(plan.sources) == len(tp.src_slots):
        return plan.function(eager)
    run = plan.function(eager)
    sources = plan.sources

    def run_all(*src_values: Any) -> list[Any]:
        return run(*[src_values[i] for i in sources])

    return run_all
