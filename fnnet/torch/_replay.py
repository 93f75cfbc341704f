"""The pure function of a recorded tape: ``run(*sources) -> wanted values``.

The nodes are replayed in order; a backward node replays its differentiable region (the
nodes between the leaves and the loss) inside ``jax.vjp`` and returns the leaves'
gradients, so ``loss.backward()`` is ``jax.grad`` of the recorded function of the
parameters. Copies of one body repeated inside a region (a log-probability per action
of an episode) are traced once, vmapped over the copies (``_repeats``). The function is
traced and compiled by ``_cache``, or run node by node by ``_eager`` once compiling no
longer pays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from fnnet.torch import _eager, _repeats
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

    def read_outside(self, region: set[int]) -> set[int]:
        """The slots that the needed nodes outside ``region`` read, and the wanted."""
        slots = set(self.wanted)
        for n in self.order:
            if n not in region:
                slots.update(slot_of(r) for r in self.nodes[n].inputs if r >= 0)
        return slots

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


def _execute(plan: Plan, env: list[Any]) -> None:
    """Computes the needed nodes of ``plan`` into ``env`` (slot -> value)."""
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
            _backward(plan, n, env, compute, done)
        elif n in plan.inside and plan.inside[n] > n:
            continue  # computed inside the backward's vjp, unless needed before
        else:
            compute(n)


def _backward(plan: Plan, n: int, env: list[Any], compute: Callable[[int], None],
              done: set[int]) -> None:
    """Runs backward node ``n``: its differentiable region inside ``jax.vjp`` (the
    region's values go into ``env``), then the vjp of the cotangent (ones, or the
    ``gradient`` given to ``backward``), whose gradients are the node's outputs."""
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
    bodies = _repeats.find(nodes, owner, plan.avals, region, plan.read_outside(region_set))

    def region_fn(var_values: list[Any]) -> tuple[Any, dict[int, Any]]:
        local: dict[int, Any] = {}
        in_bodies, stacks = _repeats.run_all(
            bodies, nodes, lambda s, use: var_values[var_index[s]] if use == VAR else env[s],
            local)
        for m in region:
            if m in in_bodies:
                continue
            node = nodes[m]
            if stacks and (value := _repeats.joined(node, stacks)) is not None:
                local[node.first] = value
                continue
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
    (grads,) = vjp_fn(_eager.conjugate(jnp.asarray(cotangent, loss.dtype)))
    grads = [_eager.conjugate(g) for g in grads]
    for s, value in local.items():
        env[s] = value
    done.update(region)
    first = nodes[n].first
    env[first:first + len(grads)] = grads
    done.add(n)


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
