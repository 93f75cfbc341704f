"""Turns a recorded tape into one pure, jitted function, cached by structure.

A flush takes the current tape (see ``_graph``) and the slots whose values are wanted
(live tensors, parameters replaced by an optimizer step, gradients, optimizer state) and
builds ``run(*sources) -> wanted values``: the nodes are replayed in order; a backward
node replays its differentiable region (the nodes between the leaves and the loss)
inside ``jax.vjp`` and returns the leaves' gradients, so ``loss.backward()`` is
``jax.grad`` of the recorded function of the parameters. ``run`` is jitted, with the
parameter and optimizer-state inputs donated when they are replaced, and cached under
``(trie state, wanted slots, donated inputs)``: the structure, never the values.

A small optimizer step whose forward values are read between steps (``loss.item()``
in the loop) is compiled as a :class:`Split` instead: a forward pass for the read to
wait for, and the whole step, which runs while Python records the next iteration.

If the structure keeps changing (many compiles, few hits), the flushes run op by op
after one warning: each node through its own small cached program (see ``_eager``).
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict, deque
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnnet.torch import _eager, _graph, _sharding
from fnnet.torch._graph import RG, VAR, WRITEBACK, Tape
from fnnet.train.step import XLA_OPTIONS

CACHE_SIZE = 64
#: donate replaced parameters and optimizer state to the compiled step (buffer reuse).
DONATE = True
#: run a step whose forward values are read (the loss) as two programs: see ``Split``.
SPLIT = True
#: ... unless its differentiated values take more bytes than this: the split runs the
#: forward pass twice, which costs more than the Python time it overlaps once a step
#: computes for milliseconds. LeNet-5 at batch 64 (3.8 MB of differentiated values)
#: ran 1.36x slower split; the MLP of the shim benchmark (68 KB) 1.13x faster.
SPLIT_BYTES = 1 << 20
#: fall back to eager execution when more than this many of the last 64 flushes had to
#: compile (the structure keeps changing, so compiling does not pay).
EAGER_AFTER = 32

_cache: OrderedDict[tuple, Any] = OrderedDict()
_stats: dict[str, Any] = {"hits": 0, "compiles": 0, "eager_runs": 0, "eager": False,
                          "log": []}
_history: list[tuple[tuple, list]] = []   # (key, structure summary) of each compile
_recent: deque[bool] = deque(maxlen=64)   # whether each recent flush compiled
_step_reads = [-1]  # _graph.reads at the last step (-1: before the first, read is assumed)


class _Missing:
    pass


MISSING = _Missing()


def compile_stats() -> dict[str, Any]:
    """How the compile cache has done so far.

    Returns:
        A dict with ``hits`` (flushes served by a cached compiled function),
        ``compiles`` (functions traced and compiled), ``entries`` (in the cache, at most
        ``CACHE_SIZE``), ``eager`` (whether flushes now run op by op), ``eager_runs``
        and ``log``: one dict per compile with ``reason`` (``"step"``, ``"value"`` or
        ``"partial"``), ``nodes``, ``devices`` (more than 1: run data-parallel, see
        ``nn.DataParallel``), ``programs`` (2: a step split for a loop that reads its
        loss every step, see :class:`Split`) and ``changes``, the differences from the
        nearest previously compiled structure, e.g. ``"input 0 shape (64, 784) ->
        (16, 784)"``, or ``"one program: the loss is not read every step"`` when the same
        structure is compiled again unsplit.
    """
    out = {k: (list(v) if k == "log" else v) for k, v in _stats.items()}
    out["entries"] = len(_cache)
    return out


def reset_compile_stats() -> None:
    """Zeroes the counters and empties the cache (compiled functions are dropped)."""
    _cache.clear()
    _history.clear()
    _recent.clear()
    _step_reads[0] = -1
    _stats.update(hits=0, compiles=0, eager_runs=0, eager=False, log=[])


# ----------------------------------------------------------------------------------
# Building the pure function of a tape.


def _call(node: tuple, args: list) -> list:
    out = node[0](*args, *node[1])
    # as in _graph._miss: a tuple or list is the node's outputs, even a list of one
    return list(out) if isinstance(out, (tuple, list)) else [out]


class _Plan:
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
                    stack.extend(owner[r >> 2] for r in nodes[m][2] if r >= 0)
            stack.extend(owner[r >> 2] for r in nodes[n][2] if r >= 0)
        self.inside: dict[int, int] = {}
        for n in sorted(needed):
            if n in backward:
                for m in backward[n][0]:
                    self.inside.setdefault(m, n)
        self.order = sorted(needed)
        self.sources = tuple(i for i, slot in enumerate(tp.src_slots)
                             if owner[slot] in needed)
        self.src_slots = [tp.src_slots[i] for i in self.sources]

    def function(self, eager: bool = False) -> Any:
        """``run(*values of self.sources) -> [value of each wanted slot]``: a function to
        trace, or with ``eager`` one that runs node by node (see ``_eager``)."""
        execute = _eager.execute if eager else _execute

        def run(*src_values: Any) -> list:
            env: list[Any] = [MISSING] * self.n_slots
            for slot, value in zip(self.src_slots, src_values, strict=True):
                env[slot] = value
            execute(self, env)
            return [env[s] for s in self.wanted]

        return run


def _execute(plan: _Plan, env: list) -> None:
    """Computes the needed nodes of ``plan`` into ``env`` (slot -> value)."""
    nodes, owner, backward = plan.nodes, plan.owner, plan.backward
    done: set[int] = set()

    def compute(n: int) -> None:
        # computes node n now, first computing any input still missing (a node that a
        # later backward would otherwise compute inside its vjp)
        node = nodes[n]
        args = []
        for r in node[2]:
            if r < 0:
                args.append(None)
                continue
            s = r >> 2
            if env[s] is MISSING:
                compute(owner[s])
            args.append(env[s])
        first = node[4]
        env[first:first + node[5]] = _call(node, args)
        done.add(n)

    for n in plan.order:
        if n in done or nodes[n][0] is None:
            continue
        if n in backward:
            _backward(plan, n, env, compute, done)
        elif n in plan.inside and plan.inside[n] > n:
            continue  # computed inside the backward's vjp, unless needed before
        else:
            compute(n)


def _backward(plan: _Plan, n: int, env: list, compute: Any, done: set) -> None:
    """Runs backward node ``n``: its differentiable region inside ``jax.vjp`` (the
    region's values go into ``env``), then the vjp of the cotangent (ones, or the
    ``gradient`` given to ``backward``), whose gradients are the node's outputs."""
    nodes, owner = plan.nodes, plan.owner
    region, var_slots, _ = plan.backward[n]
    loss_ref, grad_ref = nodes[n][2]
    region_set = set(region)
    for s in var_slots:
        if env[s] is MISSING:
            compute(owner[s])
    for m in region:
        for r in nodes[m][2]:
            if r >= 0 and owner[r >> 2] not in region_set and env[r >> 2] is MISSING:
                compute(owner[r >> 2])
    if grad_ref >= 0 and env[grad_ref >> 2] is MISSING:
        compute(owner[grad_ref >> 2])
    var_index = {s: i for i, s in enumerate(var_slots)}
    loss_slot = loss_ref >> 2

    def region_fn(var_values: list) -> tuple:
        local: dict[int, Any] = {}
        for m in region:
            node = nodes[m]
            args = []
            for r in node[2]:
                if r < 0:
                    args.append(None)
                    continue
                s, use = r >> 2, r & 3
                if use == VAR:
                    value = var_values[var_index[s]]
                elif s in local:
                    value = local[s] if use == RG else jax.lax.stop_gradient(local[s])
                else:
                    value = env[s]
                args.append(value)
            first = node[4]
            for i, value in enumerate(_call(node, args)):
                local[first + i] = value
        if (loss_ref & 3) == VAR:
            loss = var_values[var_index[loss_slot]]
        else:
            loss = local[loss_slot]
        return loss, local

    var_values = [env[s] for s in var_slots]
    loss, vjp_fn, local = jax.vjp(region_fn, var_values, has_aux=True)
    cotangent = jnp.ones_like(loss) if grad_ref < 0 else env[grad_ref >> 2]
    (grads,) = vjp_fn(jnp.asarray(cotangent, loss.dtype))
    for s, value in local.items():
        env[s] = value
    done.update(region)
    first = nodes[n][4]
    env[first:first + len(grads)] = grads
    done.add(n)


def build(tp: Tape, wanted: tuple[int, ...], eager: bool = False) -> Any:
    """``run(*sources) -> [value of each wanted slot]`` for the current content of ``tp``
    (with ``eager``, run node by node instead of traced)."""
    plan = _Plan(tp, wanted)
    if len(plan.sources) == len(tp.src_slots):
        return plan.function(eager)
    run = plan.function(eager)
    sources = plan.sources
    return lambda *src_values: run(*[src_values[i] for i in sources])


class Split:
    """A step run as two compiled programs, so that its forward values come early.

    ``forward`` computes the values wanted before any backward (the loss, a model's
    output, new BatchNorm statistics); ``step`` computes the whole step again and
    returns the rest (gradients, new parameters, optimizer state). Both are dispatched
    at once: ``loss.item()`` waits for ``forward`` alone, and the loop's next iteration is
    recorded while ``step`` runs, so that a training loop that reads its loss every step
    overlaps its Python with the backward pass and the update instead of waiting for
    them. The forward pass runs twice: handing the values its backward needs to the
    second program instead makes each an output of the first, and each output of a
    compiled call costs about 3.5 us of dispatch, more than the forward pass of the
    small steps that are split (see ``SPLIT_BYTES``).

    Calling a ``Split`` with all the tape's sources returns the wanted values in order,
    as one program's function does.

    Where the step donates what one program would, ``step`` is that one program
    (``whole``: it takes every source and returns every wanted value), so a loop that
    stops reading its loss (or never read it past the first step, which is split
    before the loop can show whether it reads) runs ``step`` alone without compiling
    again; the early values it returns again cost one output each.
    """

    def __init__(self, forward: Any, step: Any, forward_sources: tuple, step_sources: tuple,
                 early: tuple, n_wanted: int, whole: bool = False) -> None:
        self.forward, self.step = forward, step
        self._forward_sources, self._step_sources = forward_sources, step_sources
        self._early = early
        self.whole = whole
        self._late = tuple(range(n_wanted)) if whole else \
            tuple(i for i in range(n_wanted) if i not in set(early))
        self._n = n_wanted

    def __call__(self, *sources: Any) -> list:
        early = self.forward(*[sources[i] for i in self._forward_sources])
        late = self.step(*[sources[i] for i in self._step_sources])
        out: list[Any] = [None] * self._n
        for i, value in zip(self._late, late, strict=True):
            out[i] = value
        for i, value in zip(self._early, early, strict=True):
            out[i] = value
        return out


def build_split(tp: Tape, wanted: tuple[int, ...], donate: tuple[int, ...],
                jit: Any) -> Split | None:
    """The step of ``tp`` as a :class:`Split`, or None where splitting gains nothing:
    no backward, no wanted value computed before one (nothing to read early), more than
    ``SPLIT_BYTES`` of differentiated values, or a batch that is still a host array.

    ``jit(fn, donate_argnums)`` compiles each program; ``donate`` indexes the sources.
    """
    if not tp.backward:
        return None
    owner = tp.node_of_slot()
    late: set[int] = set()  # the backward nodes and every node that depends on one
    for n, node in enumerate(tp.nodes):
        if n in tp.backward or any(r >= 0 and owner[r >> 2] in late for r in node[2]):
            late.add(n)
    early = tuple(i for i, s in enumerate(wanted) if owner[s] not in late)
    region_bytes = sum(math.prod(tp.avals[s][0]) * tp.avals[s][1].itemsize
                       for info in tp.backward.values() for s in info[2])
    if not early or len(early) == len(wanted) or region_bytes > SPLIT_BYTES:
        return None
    forward = _Plan(tp, tuple(wanted[i] for i in early))
    step = _Plan(tp, tuple(s for s in wanted if owner[s] in late))
    if any(type(tp.srcs[i]) is np.ndarray for i in set(forward.sources) & set(step.sources)):
        # a host batch (DataLoader's, from_numpy's) would reach the device once per
        # program; handed from the first program to the second, it makes the second
        # wait for the first. Either way the split measured no faster than one program.
        return None
    # the step donates what it replaces; values the forward pass replaces (BatchNorm's
    # running statistics) are read by both programs and not donated
    replaced_late = [i for i in donate if tp.src_owner[i] is WRITEBACK or (
        tp.src_owner[i].tape is tp and owner[tp.src_owner[i].ref] in late)]
    if sorted(replaced_late) == sorted(donate):
        return Split(jit(forward.function(), ()), jit(build(tp, wanted), donate),
                     forward.sources, tuple(range(len(tp.srcs))), early, len(wanted),
                     whole=True)
    position = {i: k for k, i in enumerate(step.sources)}
    step_donate = tuple(position[i] for i in replaced_late if i in position)
    return Split(jit(forward.function(), ()), jit(step.function(), step_donate),
                 forward.sources, step.sources, early, len(wanted))


# ----------------------------------------------------------------------------------
# Flushing.


def _summary(tp: Tape) -> list:
    return [(node[0], node[1], node[2], node[3], tuple(tp.avals[node[4]:node[4] + node[5]]))
            if node[0] is not None else (None, tp.avals[node[4]]) for node in tp.nodes]


def _name(op: Any) -> str:
    return getattr(op, "__name__", type(op).__name__)


def _describe(summary: list, tp: Tape) -> list[str]:
    """Differences between ``summary`` and the nearest previously compiled structure."""
    if not _history:
        return ["first compile"]

    def distance(other: list) -> int:
        common = sum(1 for a, b in zip(summary, other, strict=False) if a == b)
        return max(len(summary), len(other)) - common

    _, nearest = min(_history, key=lambda item: distance(item[1]))
    changes = []
    input_no = {}
    counter = 0
    for i, node in enumerate(tp.nodes):
        if node[0] is None:
            input_no[i] = counter
            counter += 1
    for i, (a, b) in enumerate(zip(nearest, summary, strict=False)):
        if a == b:
            continue
        if a[0] is None and b[0] is None:
            changes.append(f"input {input_no.get(i, i)} shape {a[1][0]} -> {b[1][0]}"
                           if a[1][0] != b[1][0] else
                           f"input {input_no.get(i, i)} dtype {a[1][1]} -> {b[1][1]}")
        elif a[0] is not b[0] or a[1] != b[1]:
            changes.append(f"node {i}: {_describe_node(a)} -> {_describe_node(b)}")
        elif a[3] != b[3]:
            changes.append(f"node {i} ({_name(b[0])}): requires_grad {a[3]} -> {b[3]}")
        else:
            changes.append(f"node {i} ({_name(b[0])}): inputs changed")
        if len(changes) >= 5:
            break
    if len(nearest) != len(summary):
        changes.append(f"{len(nearest)} -> {len(summary)} recorded nodes")
    return changes or ["outputs changed"]


def _describe_node(entry: tuple) -> str:
    if entry[0] is None:
        return f"input {entry[1][0]}"
    return f"{_name(entry[0])}{entry[1] if entry[1] else ''}"


def _compiled(key: tuple, tp: Tape, wanted: tuple, donate: tuple, reason: str,
              split: bool = False) -> Any:
    """The compiled function of a structure: ``fn(*sources) -> wanted values``.

    ``split`` asks for a :class:`Split` (a step whose loss is read every step); a
    structure that cannot be split gets its one program under both modes, compiled once.
    """
    fn = _cache.get((*key, split))
    if fn is not None:
        _cache.move_to_end((*key, split))
        _stats["hits"] += 1
        _recent.append(False)
        return fn
    mesh = _sharding.mesh_of(tp.nodes)
    staged = build_split(tp, wanted, donate, _jit) \
        if split and mesh is None and not _stats["eager"] else None
    other = _cache.get((*key, not split))
    if isinstance(other, Split) and other.whole and not split:
        other = other.step  # the split's second program is the whole step
    if staged is None and other is not None and not isinstance(other, Split):
        _cache[(*key, split)] = other  # the same single program serves both modes
        _stats["hits"] += 1
        _recent.append(False)
        return other
    if _stats["eager"]:
        _stats["eager_runs"] += 1
        return build(tp, wanted, eager=mesh is None)
    run = build(tp, wanted)
    summary = _summary(tp)
    if other is not None:
        changes = ["two programs: the loss is read every step" if staged is not None else
                   "one program: the loss is not read every step"]
    else:
        changes = _describe(summary, tp)
    _stats["log"].append({"reason": reason, "nodes": len(tp.nodes),
                          "devices": 1 if mesh is None else mesh.size,
                          "programs": 1 if staged is None else 2, "changes": changes})
    _history.append((key, summary))
    del _history[:-CACHE_SIZE]
    _stats["compiles"] += 1
    _recent.append(True)
    if sum(_recent) > EAGER_AFTER:
        _stats["eager"] = True
        _cache.clear()
        warnings.warn(
            f"fnnet.torch: the recorded computation changed structure in "
            f"{sum(_recent)} of the last {len(_recent)} flushes "
            f"(see fnnet.torch.compile_stats()); from now on it runs op by op without jit",
            RuntimeWarning, stacklevel=4)
        return build(tp, wanted, eager=mesh is None)
    if staged is not None:
        fn = staged
    elif mesh is not None:
        fn = _sharding.compile_on_mesh(run, mesh, donate, XLA_OPTIONS)
    else:
        fn = _jit(run, donate)
    _cache[(*key, split)] = fn
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return fn


def _jit(fn: Any, donate: tuple[int, ...]) -> Any:
    return jax.jit(fn, donate_argnums=donate, compiler_options=XLA_OPTIONS)


def _live_cells(tp: Tape) -> list:
    """Live cells whose value is only recorded, or whose graph a flush carried here
    (each cell once): a graph kept with ``retain_graph=True`` is carried again."""
    return [c for c in map(_call_ref, tp.cells)
            if c is not None and c.tape is tp and (c.val is None or c.rg)]


def _call_ref(ref: Any) -> Any:
    return ref()


def _kept(tp: Tape, cells: list) -> list:
    """Live differentiable tensors whose graph no backward has consumed yet."""
    consumed = tp.consumed_slots
    return [c for c in cells if c.rg and c.ref not in consumed]


def can_flush(tp: Tape) -> bool:
    """Whether no live tensor still needs its recorded graph for a later backward."""
    return not _kept(tp, _live_cells(tp))


#: ops whose nodes cannot be carried into a new tape (they update state when run).
NOT_RETAINABLE: set[Any] = set()


def _retention(tp: Tape, kept: list) -> tuple[list[int], set[int], list[int]] | None:
    """What a new tape needs so that a later backward still reaches the leaves of ``kept``.

    Only the differentiable graph is carried: the nodes reached from ``kept`` through
    differentiable uses (RG), which a backward replays inside ``jax.vjp``. A value the
    graph uses as a constant or as a leaf needs no history: a source of this tape is
    carried as it is, any other value is computed by this flush and becomes a source of
    the new tape. Carrying its history instead would carry, say, the previous
    iteration's manual parameter update and backward into every later step, so that no
    two steps had the same structure.

    Returns:
        ``(carried nodes in order, their source slots, the slots this flush must compute
        for the new tape)``, or None where the graph holds a backward or a node that
        updates state (it cannot be recorded twice).
    """
    owner = tp.node_of_slot()
    nodes = tp.nodes
    needed: set[int] = set()
    boundary: set[int] = set()
    stack = [owner[c.ref] for c in kept]
    while stack:
        n = stack.pop()
        if n in needed:
            continue
        if n in tp.backward or nodes[n][0] in NOT_RETAINABLE:
            return None
        needed.add(n)
        for r in nodes[n][2]:
            if r < 0:
                continue
            m = owner[r >> 2]
            if r & 3 == RG or nodes[m][0] is None:
                stack.append(m)
            else:
                boundary.add(r >> 2)
    order = sorted(needed)
    sources = {nodes[n][4] + k for n in order if nodes[n][0] is None
               for k in range(nodes[n][5])}
    return order, sources, sorted(boundary)


def _carry(tp: Tape, order: list[int], boundary: dict[int, Any]) -> None:
    """Starts a new tape holding copies of ``order`` (the graphs of live tensors that a
    backward may still need), with ``boundary`` (slot -> value computed by this flush)
    as new sources, and points the live cells of those slots at the copies."""
    new = _graph.new_tape()
    slot_map: dict[int, int] = {}
    src_index = {slot: i for i, slot in enumerate(tp.src_slots)}
    holders: dict[int, Any] = {}  # boundary slot -> a live cell holding it, owned first
    for ref in tp.cells:
        cell = ref()
        if cell is not None and cell.tape is tp and cell.ref in boundary and (
                cell.ref not in holders or cell.owned and not holders[cell.ref].owned):
            holders[cell.ref] = cell

    def source(old: int) -> int:
        # each input becomes a source where first read, so that carrying the same graph
        # again (the next iteration's) gives the same tape, whatever its inputs' history
        if old in boundary:
            slot_map[old] = _graph.source_into(new, boundary[old], tp.avals[old],
                                               holders.get(old))
            return slot_map[old]
        i = src_index[old]
        owner = tp.src_owner[i]
        keep = owner if isinstance(owner, _graph.Cell) and owner.tape is tp \
            and owner.ref == old else None
        slot_map[old] = _graph.source_into(new, tp.srcs[i], tp.avals[old], keep)
        if keep is not None:
            keep.tape, keep.ref = new, slot_map[old]
        return slot_map[old]

    for n in order:
        op, static, ins, rg, first, n_out = tp.nodes[n]
        if op is None:
            continue
        refs = tuple(r if r < 0 else (slot_map[r >> 2] if r >> 2 in slot_map
                                      else source(r >> 2)) * 4 + (r & 3) for r in ins)
        copy, _ = _graph.record_refs(op, static, refs, rg)
        for k in range(n_out):
            slot_map[first + k] = copy + k
        if n in tp.consumed:
            new.consumed.add(len(new.nodes) - 1)
            new.consumed_slots.update(range(copy, copy + n_out))
    for old, leaf in tp.var_owner.items():
        if old in slot_map:
            new.var_owner[slot_map[old]] = leaf
    for ref in tp.cells:
        cell = ref()
        if cell is not None and cell.tape is tp and cell.ref in slot_map:
            carried = cell.ref not in boundary  # else a value, not a graph, was carried
            cell.ref = slot_map[cell.ref]
            cell.tape = new
            if carried:
                cell.listed = new
                new.cells.append(ref)
    new.carried = list(new.cells)


def _donations(tp: Tape, cells: list, carried: Any) -> tuple[tuple[int, ...], list, int]:
    """The sources to donate, and ``cells`` reordered donors first.

    A source is donated when the step replaces it: optimizer state (a writeback), or a
    parameter or buffer of fnnet.torch's own whose cell a recorded op rebound (unless
    a carried graph still reads it). The cells replacing a donated input (a parameter's
    new value) come first, in the inputs' order: jax aliases each donated input to the
    first unclaimed output of its shape and dtype, so listed first (with the optimizer's
    writebacks right after them) each new value takes its own input's buffer; a
    gradient listed before its parameter's new value would take the parameter's buffer
    instead, and XLA would copy the parameter to keep reading it (a copy of every
    weight, every step).

    Returns:
        ``(donated source indices, reordered cells, number of donor cells)``.
    """
    if not DONATE:
        return (), cells, 0
    donate = []
    donors = []
    first: set[int] = set()
    for i, own in enumerate(tp.src_owner):
        if own is None:
            continue
        slot = tp.src_slots[i]
        if own is WRITEBACK:
            if slot not in carried:
                donate.append(i)
        elif own.owned and (own.tape is not tp or own.ref != slot) and slot not in carried:
            donate.append(i)
            if own.tape is tp and own.val is None and id(own) not in first:
                donors.append(own)  # rebound here: among the live cells
                first.add(id(own))
    if not donors:
        return tuple(donate), cells, 0
    return tuple(donate), donors + [c for c in cells if id(c) not in first], len(donors)


def flush(reason: str = "value", *, force: bool = True) -> bool:
    """Computes every live value of the current tape in one call and starts a new tape.

    The graphs of live differentiable tensors that no backward consumed yet (a loss read
    before its backward, a generator's output in a GAN) are carried into the new tape,
    so a later backward still reaches their leaves. Where that is impossible (their
    graph holds a backward or an optimizer update), ``force`` frees them, as
    ``optimizer.step()`` does; without ``force`` nothing happens and False is returned.
    """
    tp = _graph.recording_tape()  # a carried graph whose tensors all died: nothing to run
    if not tp.nodes:
        return True
    cells = _live_cells(tp)
    kept = _kept(tp, cells)
    plan = _retention(tp, kept) if kept else None
    if kept and plan is None and not force:
        return False
    if tp.rng_slot >= 0:
        from fnnet.torch import _random

        first, _ = _graph.record_refs(_random.advance, (), (tp.rng_slot * 4,))
        tp.writebacks.append((_random.state, first, 1))
    donate, cells, n_donors = _donations(tp, cells, plan[1] if plan else ())
    written = [s for _, first, n in tp.writebacks for s in range(first, first + n)]
    slots = [c.ref for c in cells]
    # values a carried graph reads that no live tensor holds: computed for the new tape
    listed = set(slots)
    extra = [s for s in plan[2] if s not in listed] if plan else []
    wanted = tuple(slots[:n_donors] + written + slots[n_donors:] + extra)
    key = (tp.state, wanted, donate)
    split = False
    if reason == "step" and SPLIT:
        # split the step in two when the loop read a value since the last step
        split = _graph.reads[0] != _step_reads[0]
        _step_reads[0] = _graph.reads[0]
    fn = _compiled(key, tp, wanted, donate, reason, split)
    values = fn(*tp.srcs)
    n_cells = len(values) - len(extra)
    cell_values = values[:n_donors] + values[n_donors + len(written):n_cells]
    for cell, value in zip(cells, cell_values, strict=True):
        cell.val = value
    i = n_donors
    for holder, _, n in tp.writebacks:
        holder.write(values[i:i + n])
        i += n
    if plan:
        computed = dict(zip(wanted, values, strict=True))
        _carry(tp, plan[0], {s: computed[s] for s in plan[2]})
    else:
        _graph.new_tape()
    _graph.tape.after_backward = bool(tp.backward)
    return True


def materialize(cell: Any) -> Any:
    """The concrete value of ``cell``: a flush (keeping live graphs), else a partial
    compute of just this value."""
    tp = _graph.tape
    if cell.val is not None:
        return cell.val
    if cell.tape is not tp:
        raise RuntimeError("fnnet.torch: internal error: a tensor lost its value")
    if flush("value", force=False):
        return cell.val
    wanted = (cell.ref,)
    key = (tp.state, wanted, "partial")
    fn = _compiled(key, tp, wanted, (), "partial")
    (cell.val,) = fn(*tp.srcs)
    return cell.val


def maybe_flush() -> None:
    """Flushes if the tape holds work and nothing live still needs its graph."""
    tp = _graph.recording_tape()
    if tp.nodes and can_flush(tp):
        flush("value")
