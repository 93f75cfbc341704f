"""Flushing: computing the live values of the tape in one compiled call.

A flush takes the current tape and the slots whose values are wanted (live tensors,
parameters replaced by an optimizer step, gradients, optimizer state), gets the
compiled function of its structure from ``_cache``, runs it on the tape's sources and
puts the values back into their cells; the parameter and optimizer-state inputs are
donated when they are replaced. Graphs that a later backward may still need are carried
into the next tape; a later read of that tape computes only what it lacks and leaves the
tape in place (see ``_read_in_place``).
"""

from __future__ import annotations

from typing import Any

from fnnet.torch import _cache, _random
from fnnet.torch._graph import carry, record_refs, recording_tape, source_into
from fnnet.torch._interrupts import DEFERRED
from fnnet.torch._recorder import Recorder, activate, current, restore
from fnnet.torch._tape import (
    BORROWERS,
    RG,
    VAR,
    WRITEBACK,
    Cell,
    Tape,
    borrowed,
    kind_of,
    lost_value,
    ref,
    slot_of,
)
from fnnet.torch._x64 import base

#: ops whose nodes cannot be carried into a new tape (they update state when run).
NOT_RETAINABLE: set[Any] = set()


class AnomalyError(RuntimeError, FloatingPointError):
    """A NaN found by anomaly mode's checks (``torch.autograd.set_detect_anomaly``):
    a RuntimeError as PyTorch's, and the FloatingPointError of JAX's NaN checks, whose
    message names the operation that produced it."""


def _live_cells(tp: Tape) -> list[Cell]:
    """Live cells whose value is only recorded, or whose graph a flush carried here
    (each cell once): a graph kept with ``retain_graph=True`` is carried again."""
    return [c for cell_ref in tp.cells
            if (c := cell_ref()) is not None and c.tape is tp and (c.val is None or c.rg)]


def _kept(tp: Tape, cells: list[Cell]) -> list[Cell]:
    """Live differentiable tensors whose graph no backward has consumed yet."""
    consumed = tp.consumed_slots
    return [c for c in cells if c.rg and c.ref not in consumed]


def can_flush(tp: Tape) -> bool:
    """Whether no live tensor still needs its recorded graph for a later backward."""
    return not _kept(tp, _live_cells(tp))


def _retention(tp: Tape, kept: list[Cell]) -> tuple[list[int], set[int], list[int]] | None:
    """What a new tape needs so that a later backward still reaches the leaves of ``kept``.

    Only the differentiable graph is carried: the nodes reached from ``kept`` through
    differentiable uses (RG), which a backward replays inside ``jax.vjp``. A value the
    graph uses as a constant or as a leaf needs no history: a source of this tape is
    carried as it is, any other value is computed by this flush and becomes a source of
    the new tape. Carrying its history instead would carry, say, the previous
    iteration's manual parameter update and backward into every later step, so that no
    two steps had the same structure. Likewise a tensor whose graph reaches no leaf that
    requires grad except through graphs a backward has freed (a loss summed over the
    steps without ``item()``) carries no graph: it would grow by a step's forward pass at
    every step, and no backward can use it. Nor, at its second flush, does one that
    reads a leaf overwritten since (``optimizer.step()``, an update under ``no_grad``):
    its first flush carries it (a second task's loss, backpropagated after the first
    task's optimizer stepped, as PyTorch allows where the leaf was not saved), after
    which the leaf's old value is a source no tensor holds; a norm of the weights kept in
    a list every step would otherwise carry all the steps before it into each one.

    Returns:
        ``(carried nodes in order, their source slots, the slots this flush must compute
        for the new tape)``, or None where the graph holds a backward or a node that
        updates state (it cannot be recorded twice).
    """
    owner = tp.node_of_slot()
    nodes = tp.nodes
    needed: set[int] = set()
    boundary: set[int] = set()
    for cell in kept:
        mine: set[int] = set()
        mine_boundary: set[int] = set()
        live = False  # reaches a leaf that requires grad other than through a freed graph
        stale = False  # reads a leaf overwritten since
        stack = [owner[cell.ref]]
        while stack:
            n = stack.pop()
            if n in needed:
                live = True
                continue
            if n in mine:
                continue
            if n in tp.backward or base(nodes[n].op) in NOT_RETAINABLE:
                return None
            mine.add(n)
            for r in nodes[n].inputs:
                if r < 0:
                    continue
                m = owner[slot_of(r)]
                if kind_of(r) == VAR:
                    live = True
                    # a source no tensor holds (a source node's static is its index): read
                    # as a leaf, the old value of one overwritten before the last flush
                    stale = stale or (nodes[m].op is None
                                      and tp.src_owner[nodes[m].static] is None)
                if m in tp.consumed:
                    # a graph a backward has freed (``running_loss += loss``): a later
                    # backward cannot go through it, so only its value is carried
                    mine_boundary.add(slot_of(r))
                elif kind_of(r) == RG or nodes[m].op is None:
                    stack.append(m)
                else:
                    mine_boundary.add(slot_of(r))
        if live and not stale:
            needed |= mine
            boundary |= mine_boundary
    order = sorted(needed)
    sources = {s for n in order if nodes[n].op is None for s in tp.out_slots(n)}
    return order, sources, sorted(boundary)


def _from_values(tp: Tape, cells: list[Cell], plan: tuple[list[int], set[int], list[int]],
                 reason: str) -> None:
    """Flushes a tape that holds a carried graph (see :func:`~fnnet.torch._graph.carry`)
    from the values its tensors had when carried (``tp.values``) instead of from the
    graph's sources.

    A loop that reads a value (``.item()``, ``print``) at every iteration while it keeps
    the graph for a later backward carries a longer graph into each flush; run from its
    sources, every flush would be a new structure to compile that replays all the
    iterations before it. Only the nodes recorded since, with the carried values as
    their inputs where they read them, are computed here, so that the loop's flushes
    share one structure: both where an iteration reads the graph kept so far (a
    recurrent state) and where it only adds to it (REINFORCE's log-probabilities, one
    per action read with ``.item()``). The carried graph itself is kept for the
    backward, as by :func:`flush`.
    """
    todo = [c for c in cells if c.val is None]
    listed = {c.ref for c in todo}
    extra = [s for s in plan[2] if s not in listed and s not in tp.values]
    computed = _compute_from_values(tp, [c.ref for c in todo] + extra, reason,
                                    advance_key=True)
    for cell in todo:
        cell.val = computed[cell.ref]
    have = dict(tp.values)
    have.update((c.ref, c.val) for c in cells)
    have.update(computed)
    carry(tp, plan[0], {s: have[s] for s in plan[2]})
    current().tape.after_backward = False


#: the most nodes a tape holding a kept graph grows to while its values are read in place
#: (:func:`_read_in_place`); a longer one is carried, which leaves its dead work behind
READ_IN_PLACE_NODES = 20_000


def _reads_in_place(tp: Tape) -> bool:
    """Whether a read of a tape that a flush carried a graph into (``tp.values``) can
    compute its values and leave the tape as it is (:func:`_read_in_place`): no backward,
    optimizer update or rebound parameter or buffer is recorded on it (their flush
    stores state), nor an in-place write to a leaf, and it is not past
    :data:`READ_IN_PLACE_NODES`."""
    if not tp.values or tp.backward or tp.writebacks or tp.leaf_written or \
            tp.leaf_updated or len(tp.nodes) > READ_IN_PLACE_NODES:
        return False
    for i, own in enumerate(tp.src_owner):
        if own is WRITEBACK or (own is not None and _rebound(tp, own, tp.src_slots[i])):
            return False
    return True


def _rebound(tp: Tape, own: Cell, slot: int) -> bool:
    """Whether the source in ``slot`` is a parameter or buffer of fnnet.torch's own
    (``own``) whose cell a recorded op of ``tp`` rebound to a new value."""
    return own.owned and (own.tape is not tp or own.ref != slot)


def _read_in_place(tp: Tape, cells: list[Cell], reason: str) -> None:
    """Computes the pending live values of ``tp`` from the values known so far, and keeps
    recording on ``tp``.

    Carrying the kept graph into a new tape at every read copies it whole, so a loop
    that reads a value at each of its n iterations while it keeps every iteration's graph
    for one backward at the end (REINFORCE's ``action.item()``, a CRF's Viterbi argmax)
    cost time in n squared. Here a read computes only what it lacks, from the values
    earlier reads computed (kept in ``tp.values``), and the step that ends the loop runs
    the whole tape from its sources, as a step with no reads would.
    """
    todo = [c for c in cells if c.val is None]
    computed = _compute_from_values(tp, [c.ref for c in todo], reason, advance_key=False)
    for cell in todo:
        cell.val = computed[cell.ref]
    tp.values.update(computed)
    tp.after_backward = False  # as on the tape a flush without a backward starts


def _compute_from_values(tp: Tape, wanted_old: list[int], reason: str, *,
                         advance_key: bool) -> dict[int, Any]:
    """The values of ``tp``'s slots ``wanted_old``, computed by one compiled call of just
    the nodes they need that ``tp.values`` does not hold, with the known values and
    ``tp``'s sources as inputs. ``advance_key`` also advances the global PRNG key, as a
    flush that replaces the tape does."""
    known = tp.values
    owner = _owner(tp)
    nodes = tp.nodes
    needed: set[int] = set()
    stack = [owner[s] for s in wanted_old if s not in known]
    while stack:
        n = stack.pop()
        if n in needed:
            continue
        needed.add(n)
        for r in nodes[n].inputs:
            if r >= 0 and slot_of(r) not in known:
                stack.append(owner[slot_of(r)])
    rec = current()
    small = Tape(rec)
    src_index = {slot: i for i, slot in enumerate(tp.src_slots)}
    slot_map: dict[int, int] = {}

    def slot(old: int) -> int:
        # a carried value or a source of ``tp``: a source of the small tape, once
        if old not in slot_map:
            value = known[old] if old in known else tp.srcs[src_index[old]]
            slot_map[old] = source_into(small, value, tp.avals[old], None)
        return slot_map[old]

    rec.tape = small  # record_refs records on the current tape
    try:
        for n in sorted(needed):
            node = nodes[n]
            if node.op is None:
                continue
            ins = tuple(r if r < 0 else ref(slot(slot_of(r)), kind_of(r)) for r in node.inputs)
            first, _ = record_refs(node.op, node.static, ins, node.rg)
            for k in range(node.n_out):
                slot_map[node.first + k] = first + k
        wanted = tuple(slot(s) for s in wanted_old)
        advance = advance_key and tp.rng_slot >= 0
        if advance:  # the key advances as at any flush that drew from it
            advanced, _ = record_refs(_random.advance, (), (ref(slot(tp.rng_slot)),))
            wanted += (advanced,)
    finally:
        rec.tape = tp
    fn = _cache.compiled((small.state, wanted, ()), small, wanted, (), reason)
    values = fn(*small.srcs)
    if advance:
        _random.state.write(values[-1:])
    return dict(zip(wanted_old, values[:len(wanted_old)], strict=True))


def _owner(tp: Tape) -> list[int]:
    """``tp.node_of_slot()``, kept on the tape and extended by the nodes recorded since
    (a tape read in place is read many times as it grows)."""
    owner, seen = tp.owner_cache
    for index in range(seen, len(tp.nodes)):
        owner.extend([index] * tp.nodes[index].n_out)
    tp.owner_cache = (owner, len(tp.nodes))
    return owner


def _donations(tp: Tape, cells: list[Cell], carried: Any,
               donate_on: bool) -> tuple[tuple[int, ...], list[Cell], int]:
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
    if not donate_on:
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
        elif _rebound(tp, own, slot) and slot not in carried:
            donate.append(i)
            if own.tape is tp and own.val is None and id(own) not in first:
                donors.append(own)  # rebound here: among the live cells
                first.add(id(own))
    if donate and BORROWERS:
        donate, donors = _unlent(tp, donate, donors)
    if not donors:
        return tuple(donate), cells, 0
    first = {id(c) for c in donors}
    return tuple(donate), donors + [c for c in cells if id(c) not in first], len(donors)


def _unlent(tp: Tape, donate: list[int], donors: list[Cell]) -> tuple[list[int], list[Cell]]:
    """``donate`` and ``donors`` less the sources whose array a live leaf made from them
    still holds (:data:`~fnnet.torch._tape.BORROWERS`): donated, it would be deleted
    under that leaf, and XLA refuses a call that also reads it."""
    lent = borrowed()
    kept = [i for i in donate if id(tp.srcs[i]) not in lent]
    shared = {id(tp.src_owner[i]) for i in donate if id(tp.srcs[i]) in lent}
    return kept, [c for c in donors if id(c) not in shared]


def flush(reason: str = "value", *, force: bool = True) -> bool:
    """Computes every live value of the current tape in one call and starts a new tape.

    The graphs of live differentiable tensors that no backward consumed yet (a loss read
    before its backward, a generator's output in a GAN) are carried into the new tape,
    so a later backward still reaches their leaves. Where that is impossible (their
    graph holds a backward or an optimizer update), ``force`` frees them, as
    ``optimizer.step()`` does; without ``force`` nothing happens and False is returned.
    """
    rec = current()
    tp = recording_tape(rec)  # a carried graph whose tensors all died: nothing to run
    if not tp.nodes:
        return True
    if rec.exit_flushed is not None:
        _learn_exit(rec, tp, rec.exit_flushed)
    cells = _live_cells(tp)
    kept = _kept(tp, cells)
    if kept and _reads_in_place(tp):
        _read_in_place(tp, cells, reason)
        return True
    plan = _retention(tp, kept) if kept else None
    if kept and plan is None and not force:
        return False
    # (the PRNG's advance recorded below reads an existing source: donations unchanged)
    donate, donors_first, n_donors = _donations(tp, cells, plan[1] if plan else (),
                                                rec.options.donate)
    if plan and tp.values and not tp.backward and not tp.writebacks and not donate:
        _from_values(tp, cells, plan, reason)
        return True
    cells = donors_first
    if tp.rng_slot >= 0:
        first, _ = record_refs(_random.advance, (), (ref(tp.rng_slot),))
        tp.writebacks.append((_random.state, first, 1))
    written = [s for _, first, n in tp.writebacks for s in range(first, first + n)]
    slots = [c.ref for c in cells]
    # values a carried graph reads that no live tensor holds: computed for the new tape
    listed = set(slots)
    extra = [s for s in plan[2] if s not in listed] if plan else []
    wanted = tuple(slots[:n_donors] + written + slots[n_donors:] + extra)
    key = (tp.state, wanted, donate)
    split = False
    if reason == "step" and rec.options.split:
        # split the step in two when the loop read a value since the last step
        split = rec.reads != rec.step_reads
        rec.step_reads = rec.reads
    try:
        fn = _cache.compiled(key, tp, wanted, donate, reason, split)
        if tp.before_backward is not None:
            _cache.remember_early(rec, tp.before_backward[0], fn)
        if donate:
            with DEFERRED:  # the donated buffers are gone once ``fn`` ran
                _run_and_store(fn, tp, cells, n_donors, written, extra, wanted, plan, rec)
        else:
            _run_and_store(fn, tp, cells, n_donors, written, extra, wanted, plan, rec)
    except Exception as error:
        _abandon(rec, tp, error)
        raise
    return True


def _abandon(rec: Recorder, tp: Tape, error: Exception) -> None:
    """After ``tp``'s program failed to compile or run (a gradient JAX does not
    implement, a NaN under anomaly detection): every cell that the tape read as a source
    takes that value back (the parameters as before the step; the optimizer's state was
    never written back), a gradient the step's backward made is dropped, the values only
    recorded keep ``error`` for whoever reads them (see ``lost_value``), and a new tape
    starts, so that the failure does not spoil the work recorded after it, as a failed
    backward in PyTorch leaves the rest alone."""
    for i, owner in enumerate(tp.src_owner):
        if isinstance(owner, Cell) and owner.val is None and owner.tape is tp:
            value = tp.srcs[i]
            if not getattr(value, "is_deleted", bool)():  # a donated buffer is gone
                slot = tp.src_slots[i]
                owner.val, owner.ref, owner.aval = value, slot, tp.avals[slot]
    for leaf in tp.var_owner.values():  # a gradient this step's backward made: none, as
        grad = leaf._grad               # before it (one it added to is restored above)
        if grad is not None and grad._cell.val is None and grad._cell.tape is tp:
            leaf._grad = None
    tp.failure = error
    if rec.tape is tp:
        rec.new_tape()


def _run_and_store(fn: Any, tp: Tape, cells: list[Cell], n_donors: int, written: list[int],
                   extra: list[int], wanted: tuple[int, ...],
                   plan: tuple[list[int], set[int], list[int]] | None,
                   rec: Recorder) -> None:
    """Runs the compiled ``fn`` of ``tp`` and stores its values: the live cells', the
    writebacks', the carried graph's; starts the next tape."""
    try:
        values = fn(*tp.srcs)
    except FloatingPointError as error:
        if type(error) is not FloatingPointError:
            raise
        # anomaly mode's NaN check: caught by ``except RuntimeError`` as PyTorch's is
        raise AnomalyError(f"anomaly detection: {error}") from error
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
        carry(tp, plan[0], {s: computed[s] for s in plan[2]})
    else:
        rec.new_tape()
    rec.tape.after_backward = bool(tp.backward)


def _learn_exit(rec: Recorder, tp: Tape, state: int) -> None:
    """Notes ``state``, where the last ``no_grad`` exit flushed, if this flush, the
    next, runs a backward: the exit leaves its work to the step from then on (see
    ``_autograd.no_grad``)."""
    if tp.backward:
        if len(rec.step_follows) >= rec.options.cache_size:
            rec.step_follows.clear()
        rec.step_follows.add(state)
    rec.exit_flushed = None


def materialize(cell: Cell) -> Any:
    """The concrete value of ``cell``: a flush (keeping live graphs), else a partial
    compute of just this value. A value still pending on another recorder's tape
    (another thread's) is computed by that recorder."""
    if cell.val is not None:
        return cell.val
    rec = current()
    tp = rec.tape
    if cell.tape is not tp:
        owner = None if cell.tape is None else cell.tape.recorder
        if owner is None or owner is rec or cell.tape is not owner.tape:
            raise lost_value(cell)
        token = activate(owner)
        try:
            return materialize(cell)
        finally:
            restore(token)
    if flush("value", force=False):
        return cell.val
    wanted = (cell.ref,)
    key = (tp.state, wanted, "partial")
    try:
        fn = _cache.compiled(key, tp, wanted, (), "partial")
        (cell.val,) = fn(*tp.srcs)
    except Exception as error:
        _abandon(rec, tp, error)
        raise
    return cell.val


def maybe_flush() -> bool:
    """Flushes if the tape holds work and nothing live still needs its graph; returns
    whether it flushed."""
    tp = recording_tape()
    return bool(tp.nodes) and can_flush(tp) and flush("value")
