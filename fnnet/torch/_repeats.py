"""Repeated independent bodies of a backward's region, computed as one ``jax.vmap``.

A loop that records the same computation once per item and backpropagates them all at
once (REINFORCE keeping one ``log_prob`` per action of an episode) leaves a region of T
copies of one body, each reading its own inputs and the same parameters. Traced node by
node, the step's program grows with T, and so does compiling it, once per episode
length; traced as one vmapped body over the stacked inputs, it holds one body whatever T.

A body is the cone of a node inside the region (the region nodes it reads, recursively);
bodies repeat when their cones have the same structure (ops, statics, wiring, the
shapes and dtypes of what they read from outside), do not overlap, and read the same
parameters: what differs between them is only values computed before the region.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from fnnet.torch._tape import NO_REF, RG, VAR, kind_of, slot_of

#: the fewest copies worth a vmapped body (fewer are left as they are recorded)
MIN_COPIES = 4

#: how a body node reads an input: ("node", position in the body, output, kind) or
#: ("outside", position among the body's outside inputs, kind); None for a None input
Wire = tuple[Any, ...] | None


class Body(NamedTuple):
    """One structure repeated by several copies (see the module docstring).

    Attributes:
        nodes: per copy, its nodes in the order they are computed.
        outside: per copy, the slots it reads from outside the copy (parameters, and
            values computed before the region).
        kinds: for each outside input, how the body reads it (``VAR``: a parameter).
        batched: for each outside input, whether the copies read different slots
            (stacked along a new first axis) or the same one.
        wiring: per body position, the node's inputs as :data:`Wire`.
        kept: ``(body position, output)`` of the values read outside the copies.
    """

    nodes: list[list[int]]
    outside: list[list[int]]
    kinds: list[int]
    batched: tuple[bool, ...]
    wiring: list[tuple[Wire, ...]]
    kept: list[tuple[int, int]]


def find(nodes: Sequence[Any], owner: Sequence[int], avals: Sequence[Any],
         region: Sequence[int], read_outside: set[int]) -> list[Body]:
    """The repeated bodies of ``region`` (node indices) that are worth a vmap.

    Args:
        nodes: the tape's nodes; ``owner``: slot -> the node computing it; ``avals``:
            slot -> ``(shape, dtype, weak_type)``.
        region: the region's nodes, in order.
        read_outside: the slots read by nodes outside the region, or wanted (the loss
            among them).
    """
    in_region = set(region)
    # structure ids: equal ids compute the same function of what they read outside
    ids: dict[tuple[Any, ...], int] = {}
    node_id: dict[int, int] = {}
    readers: dict[int, list[int]] = {}  # slot -> the region nodes reading it
    for m in region:
        node = nodes[m]
        wires: list[Any] = []
        for r in node.inputs:
            if r == NO_REF:
                wires.append(None)
                continue
            s, kind = slot_of(r), kind_of(r)
            readers.setdefault(s, []).append(m)
            o = owner[s]
            if o in in_region and kind != VAR:
                wires.append((node_id[o], s - nodes[o].first, kind))
            elif kind == VAR:
                wires.append(("var", s))
            else:
                wires.append(("outside", kind, avals[s]))
        try:
            key = (node.op, node.static, node.n_out, tuple(wires))
            node_id[m] = ids.setdefault(key, len(ids))
        except TypeError:  # an unhashable static: a structure of its own
            node_id[m] = -1 - m
    by_id: dict[int, list[int]] = {}
    for m in region:
        by_id.setdefault(node_id[m], []).append(m)
    taken: set[int] = set()
    bodies: list[Body] = []
    # the last nodes first: a body is the largest cone that repeats
    for m in reversed(region):
        same = by_id[node_id[m]]
        if m in taken or len(same) < MIN_COPIES or same[-1] != m:
            continue
        body = _body(nodes, owner, in_region, same, taken, read_outside, readers)
        if body is not None:
            bodies.append(body)
            for copy in body.nodes:
                taken.update(copy)
    return bodies


def _cone(nodes: Sequence[Any], owner: Sequence[int], in_region: set[int], top: int
          ) -> tuple[list[int], list[tuple[Wire, ...]], list[int], list[int]]:
    """A copy's nodes in computing order, their wiring, and the slots it reads from
    outside with how it reads each."""
    order: list[int] = []
    position: dict[int, int] = {}
    outside: list[int] = []
    kinds: list[int] = []
    wiring: list[tuple[Wire, ...]] = []

    def inner(r: int) -> bool:
        return r != NO_REF and kind_of(r) != VAR and owner[slot_of(r)] in in_region

    stack = [(top, False)]
    while stack:  # depth first, inputs in order, each node after its inputs
        m, ready = stack.pop()
        if m in position:
            continue
        node = nodes[m]
        if not ready:
            stack.append((m, True))
            stack.extend((owner[slot_of(r)], False) for r in reversed(node.inputs)
                         if inner(r) and owner[slot_of(r)] not in position)
            continue
        wires: list[Wire] = []
        for r in node.inputs:
            if r == NO_REF:
                wires.append(None)
            elif inner(r):
                o = owner[slot_of(r)]
                wires.append(("node", position[o], slot_of(r) - nodes[o].first, kind_of(r)))
            else:
                wires.append(("outside", len(outside), kind_of(r)))
                outside.append(slot_of(r))
                kinds.append(kind_of(r))
        position[m] = len(order)
        order.append(m)
        wiring.append(tuple(wires))
    return order, wiring, outside, kinds


def _body(nodes: Sequence[Any], owner: Sequence[int], in_region: set[int],
          tops: list[int], taken: set[int], read_outside: set[int],
          readers: dict[int, list[int]]) -> Body | None:
    """The body of the copies topped by ``tops`` (of one structure id, so reading the
    same parameters), or None where they overlap or share values differently."""
    copies = [_cone(nodes, owner, in_region, top) for top in tops]
    order0, wiring0, outside0, kinds = copies[0]
    if len(order0) < 2:
        return None
    seen: set[int] = set()
    for order, wiring, _, _ in copies:
        if wiring != wiring0 or seen.intersection(order) or taken.intersection(order):
            return None
        seen.update(order)
    batched = tuple(len({copy[2][i] for copy in copies}) > 1 for i in range(len(outside0)))
    kept: set[tuple[int, int]] = set()
    for order, _, _, _ in copies:
        members = set(order)
        for pos, m in enumerate(order):
            node = nodes[m]
            for k in range(node.n_out):
                s = node.first + k
                if s in read_outside or any(o not in members for o in readers.get(s, ())):
                    kept.add((pos, k))
    return Body([c[0] for c in copies], [c[2] for c in copies], kinds, batched, wiring0,
                sorted(kept))


def run_all(bodies: list[Body], nodes: Sequence[Any], value_of: Callable[[int, int], Any],
            local: dict[int, Any]) -> tuple[set[int], dict[tuple[int, ...], Any]]:
    """Computes each body's copies as one vmapped call (see :func:`run`).

    Returns:
        The nodes so computed, and each kept value of the copies stacked, by the
        copies' slots of it (see :func:`joined`). A body whose ops do not trace under
        ``jax.vmap`` is left to be computed node by node.
    """
    done: set[int] = set()
    stacks: dict[tuple[int, ...], Any] = {}
    for body in bodies:
        try:
            stacks.update(run(body, nodes, value_of, local))
        except Exception:  # noqa: BLE001 - an op without a batching rule: as recorded
            continue
        done.update(m for copy in body.nodes for m in copy)
    return done, stacks


def joined(node: Any, stacks: dict[tuple[int, ...], Any]) -> Any:
    """``torch.cat`` or ``torch.stack`` of one kept value of every copy, in order (the
    episode's ``torch.cat(log_probs)``) taken from the copies' stacked values, or None
    for another node: one reshape of the stack instead of a join of its pieces."""
    from fnnet.torch import _functions

    if node.op is not _functions._cat and node.op is not _functions._stack:
        return None
    if any(r == NO_REF or kind_of(r) != RG for r in node.inputs):
        return None
    stacked = stacks.get(tuple(slot_of(r) for r in node.inputs))
    if stacked is None:
        return None
    piece = stacked.shape[1:]
    if node.op is _functions._stack:
        return jnp.moveaxis(stacked, 0, node.static[0] % (len(piece) + 1))
    if not piece:
        return None  # a 0-dim value, which torch.cat refuses
    d = node.static[0] % len(piece)
    return jnp.moveaxis(stacked, 0, d).reshape(
        (*piece[:d], len(node.inputs) * piece[d], *piece[d + 1:]))


def run(body: Body, nodes: Sequence[Any], value_of: Callable[[int, int], Any],
        local: dict[int, Any]) -> dict[tuple[int, ...], Any]:
    """Computes every copy of ``body`` as one vmapped call; stores the kept values of
    each copy in ``local`` (slot -> value), and returns each stacked, by the copies'
    slots of it.

    ``value_of(slot, kind)`` is an outside input's value as the region reads it."""
    template = [nodes[m] for m in body.nodes[0]]

    def one(*outside: Any) -> list[Any]:
        values: list[list[Any]] = []
        for node, wires in zip(template, body.wiring, strict=True):
            args: list[Any] = []
            for w in wires:
                if w is None:
                    args.append(None)
                elif w[0] == "outside":
                    args.append(outside[w[1]])
                else:
                    v = values[w[1]][w[2]]
                    args.append(v if w[3] == RG else jax.lax.stop_gradient(v))
            out = node.op(*args, *node.static)
            values.append(list(out) if isinstance(out, (tuple, list)) else [out])
        return [values[pos][k] for pos, k in body.kept]

    inputs = []
    for i, (kind, wide) in enumerate(zip(body.kinds, body.batched, strict=True)):
        if wide:
            inputs.append(jnp.stack([value_of(copy[i], kind) for copy in body.outside]))
        else:
            inputs.append(value_of(body.outside[0][i], kind))
    axes = tuple(0 if wide else None for wide in body.batched)
    outs = jax.vmap(one, in_axes=axes)(*inputs)
    stacks = {}
    for (pos, k), stacked in zip(body.kept, outs, strict=True):
        # one split, whose gradient is one concatenation (an index per copy would
        # add a padded copy of the whole stack per copy)
        pieces = jax.lax.split(stacked, [1] * len(body.nodes))
        slots = tuple(nodes[copy[pos]].first + k for copy in body.nodes)
        for slot, piece in zip(slots, pieces, strict=True):
            local[slot] = piece.reshape(stacked.shape[1:])
        stacks[slots] = stacked
    return stacks

