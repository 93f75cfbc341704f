"""Recording: how an operation on fnnet.torch's tensors becomes a node of the tape.

Every function here records on the tape of the current recorder (see ``_recorder``):
:func:`record` appends ``op(*inputs, *static)``, :func:`sources` and :func:`cell_source`
add concrete inputs, :func:`bind` points a tensor's cell at a recorded slot. Each step
advances the tape's state in the recorder's structure trie, so that a node's output
shapes are inferred (traced with ``jax.eval_shape``) once per structure. Nothing here
computes a value: see ``_flush`` for that. The data types (cells, nodes, references,
tapes) are in ``_tape`` and re-exported here.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from fnnet.core.transfer import to_device
from fnnet.torch import _complex_checks, _random
from fnnet.torch._ops import DIM_FIRST, _post_index, _window
from fnnet.torch._recorder import Hit, Recorder, current
from fnnet.torch._tape import (
    CONST,
    INT32_MAX,
    INT32_MIN,
    NO_REF,
    RG,
    VAR,
    WRITEBACK,
    Aval,
    Cell,
    Node,
    Tape,
    as_array,
    aval_of,
    canonical_dtype,
    int_overflow,
    kind_of,
    lost_value,
    ref,
    slot_of,
    spec,
    to_canonical,
    weak_aval,
)
from fnnet.torch._views import refresh
from fnnet.torch._x64 import base, narrowed

__all__ = [
    "CONST", "NO_REF", "RG", "VAR", "WRITEBACK", "Aval", "Cell", "Node", "Tape", "as_array",
    "aval_of", "bind", "canonical_dtype", "carry", "cell_source", "kind_of", "new_tape",
    "next_draw", "record", "record_refs", "recording_tape", "ref", "rng_input", "slot_of",
    "source_into", "sources", "spec", "to_canonical", "weak_aval",
]

_X64 = bool(jax.config.read("jax_enable_x64"))
_WEAK_AVALS = {kind: weak_aval(kind) for kind in (float, int, bool)}
#: jax's (numpy's) message for a dim past an array's dimensions
_AXIS_ERROR = re.compile(r"axis (-?\d+) is out of bounds for array of dimension (\d+)")
#: JAX's error for a reduction over the same axis twice (``x.amax(dim=(1, 1))``)
_DUPLICATE_AXIS = re.compile(r"duplicate value in 'axis': \(([-\d, ]*)\)")
#: output shapes remembered by ``(op, static, input avals)``; emptied past this many
SHAPES_LIMIT = 65_536
#: a window of a value whose shape changed this many times in a row is cut on the host
WINDOW_CHURN = 2
#: ... where the value has at most this many elements
WINDOW_HOST_SIZE = 1 << 16
_tuple_new = tuple.__new__  # a Node built without NamedTuple's Python __new__


def new_tape() -> Tape:
    """Starts an empty tape on the current recorder."""
    return current().new_tape()


def recording_tape(rec: Recorder | None = None) -> Tape:
    """The tape to record on (of ``rec``, else the current recorder).

    A tape that a flush started with carried graphs (see :func:`carry`) keeps only the
    graphs whose tensors are still alive when the next node is recorded: a fresh tape
    if they all died (a model output printed outside ``no_grad`` and then dropped), a
    copy of the live ones if some died (a loop's last hidden state, alive at the flush
    in ``loss.item()`` and dropped when the function returns, beside a tensor kept for
    good). Dead work so never enters, or changes the structure of, the next compiled
    step.
    """
    rec = current() if rec is None else rec
    tp = rec.tape
    if tp.carried is None:
        return tp
    live = [c for cell in tp.carried if (c := cell()) is not None]
    if not live:
        return rec.new_tape()
    if len(live) < len(tp.carried):
        tp = _without_dead_graphs(tp, live)
    tp.carried = None  # new work builds on the carried graph from now on
    return tp


def _without_dead_graphs(tp: Tape, live: list[Cell]) -> Tape:
    """A new tape holding the nodes of the carried tape ``tp`` that the ``live`` cells'
    values depend on (every input of a carried tape is a source or a carried node)."""
    owner = tp.node_of_slot()
    nodes = tp.nodes
    needed: set[int] = set()
    stack = [owner[cell.ref] for cell in live]
    while stack:
        n = stack.pop()
        if n in needed:
            continue
        needed.add(n)
        stack.extend(owner[slot_of(r)] for r in nodes[n].inputs if r >= 0)
    after_backward = tp.after_backward
    carry(tp, sorted(needed), {})
    new = current().tape
    new.after_backward = after_backward
    return new


def source_into(tp: Tape, value: Any, aval: Aval, owner: Any) -> int:
    """Adds a concrete input to ``tp`` (any tape of the current recorder); returns its
    slot. ``owner`` is the cell holding ``value``, :data:`WRITEBACK` or None."""
    return _source(current(), tp, value, aval, owner)


def _source(rec: Recorder, tp: Tape, value: Any, aval: Aval, owner: Any) -> int:
    slot = len(tp.avals)
    key = (tp.state, (None, aval))
    hit = rec.trie.get(key)
    if hit is None:
        # the structure so far fixes the slot and the source's index, so the node is
        # kept with it (a source has no other extra) and made once
        hit = rec.advance(key, (aval,),
                          _tuple_new(Node, (None, len(tp.srcs), (), False, slot, 1)))
    tp.state = hit[0]
    tp.nodes.append(hit[2])
    tp.srcs.append(value)
    tp.src_slots.append(slot)
    tp.src_owner.append(owner)
    tp.avals.append(aval)
    return slot


def carry(tp: Tape, order: list[int], boundary: dict[int, Any]) -> None:
    """Starts a new tape holding copies of ``order`` (the graphs of live tensors that a
    backward may still need), with ``boundary`` (slot -> value computed by this flush)
    as new sources, and points the live cells of those slots at the copies."""
    new = current().new_tape()
    slot_map: dict[int, int] = {}
    src_index = {slot: i for i, slot in enumerate(tp.src_slots)}
    holders: dict[int, Cell] = {}  # boundary slot -> a live cell holding it, owned first
    for cell_ref in tp.cells:
        cell = cell_ref()
        if cell is not None and cell.tape is tp and cell.ref in boundary and (
                cell.ref not in holders or cell.owned and not holders[cell.ref].owned):
            holders[cell.ref] = cell

    def source(old: int) -> int:
        # each input becomes a source where first read, so that carrying the same graph
        # again (the next iteration's) gives the same tape, whatever its inputs' history
        if old in boundary:
            slot_map[old] = source_into(new, boundary[old], tp.avals[old], holders.get(old))
            return slot_map[old]
        i = src_index[old]
        owner = tp.src_owner[i]
        keep = owner if isinstance(owner, Cell) and owner.tape is tp \
            and owner.ref == old else None
        slot_map[old] = source_into(new, tp.srcs[i], tp.avals[old], keep)
        if keep is not None:
            keep.tape, keep.ref = new, slot_map[old]
        return slot_map[old]

    def moved(r: int) -> int:
        if r < 0:
            return r
        old = slot_of(r)
        return ref(slot_map[old] if old in slot_map else source(old), kind_of(r))

    for n in order:
        node = tp.nodes[n]
        if node.op is None:
            continue
        copy, _ = record_refs(node.op, node.static, tuple(moved(r) for r in node.inputs),
                              node.rg)
        for k in range(node.n_out):
            slot_map[node.first + k] = copy + k
        if n in tp.consumed:
            new.consumed.add(len(new.nodes) - 1)
            new.consumed_slots.update(range(copy, copy + node.n_out))
    for old, leaf in tp.var_owner.items():
        if old in slot_map:
            new.var_owner[slot_map[old]] = leaf
    for old, mark in tp.overwritten.items():  # what in-place ops wrote over, for _saved
        if old in slot_map:
            cell, counter, version, result = mark
            new.overwritten[slot_map[old]] = (cell, counter, version, slot_map.get(result, -1))
    # slots a carried node computes: a tensor there keeps its graph even where another
    # carried node reads it as a constant (a GAN's fake.detach() beside fake itself)
    produced = {s for n in order if tp.nodes[n].op is not None for s in tp.out_slots(n)}
    for cell_ref in tp.cells:
        cell = cell_ref()
        if cell is not None and cell.tape is tp and cell.ref in slot_map:
            # else a value, not a graph, was carried
            carried = cell.ref not in boundary or cell.ref in produced
            cell.ref = slot_map[cell.ref]
            cell.tape = new
            if carried:
                cell.listed = new
                new.cells.append(cell_ref)
                if cell.val is not None:
                    new.values[cell.ref] = cell.val
    new.carried = list(new.cells)


def cell_source(tp: Tape, cell: Cell) -> int:
    """Makes the concrete value of ``cell`` an input of ``tp``; returns its slot.

    A host (numpy) value goes to the compiled call as it is the first time, which copies
    it to the device as part of the call (a batch, read by one step); read by a second
    step, it is a tensor kept across steps (a dataset sliced into batches) and becomes
    a device array once, instead of being copied at every call.
    """
    value = cell.val
    if value is None:
        raise lost_value(cell)
    if type(value) is np.ndarray:
        if getattr(cell, "sourced", False):
            value = cell.val = to_device(value)
        else:
            cell.sourced = True
    slot = _source(current(), tp, value, cell.aval, cell)
    cell.tape = tp
    cell.ref = slot
    return slot


def sources(values: Sequence[Any], avals: tuple[Aval, ...], owner: Any = None) -> int:
    """Adds several concrete inputs as one node; returns the first slot."""
    rec = current()
    tp = recording_tape(rec)
    slot = len(tp.avals)
    desc = (None, avals)
    key = (tp.state, desc)
    hit = rec.trie.get(key)
    if hit is None:
        hit = rec.advance(key, avals)
    tp.state = hit[0]
    n = len(avals)
    tp.nodes.append(Node(None, len(tp.srcs), (), False, slot, n))
    tp.srcs.extend(values)
    tp.src_slots.extend(range(slot, slot + n))
    tp.src_owner.extend([owner] * n)
    tp.avals.extend(avals)
    return slot


class _Input:
    """A tensor-like handle on a tape slot that is no tensor (the step's PRNG key)."""

    __slots__ = ("_cell", "_kind")
    _view = None  # never a view (record() asks every tensor input)

    def __init__(self, cell: Cell) -> None:
        self._cell = cell
        self._kind = CONST


def rng_input() -> _Input:
    """The current tape's PRNG key as a record() input (fed from the global key)."""
    tp = recording_tape()
    if tp.rng_slot < 0:
        tp.rng_slot = source_into(tp, _random.state.key, _random.state.aval, None)
        cell = Cell(_random.state.key, _random.state.aval)
        cell.tape = tp
        cell.ref = tp.rng_slot
        tp.rng_input = _Input(cell)
    handle: _Input = tp.rng_input
    return handle


def next_draw() -> int:
    """A fresh fold-in index for one random draw in the current tape."""
    tp = current().tape
    tp.draws += 1
    return tp.draws


def check_dims(dims: Any, ndim: int) -> None:
    """PyTorch's IndexError for a dim (an int, or each of a tuple; None for all) outside
    ``[-ndim, ndim)`` (``[-1, 0]`` for a scalar)."""
    limit = max(ndim, 1)
    seen: set[int] = set()
    for dim in dims if isinstance(dims, tuple) else (dims,):
        if isinstance(dim, int) and not -limit <= dim < limit:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-limit}, {limit - 1}], but got {dim})")
        if isinstance(dim, int):
            if dim % limit in seen:
                raise RuntimeError(repeated_dim(dim % limit))
            seen.add(dim % limit)


def _empty_dim(message: str, static: tuple[Any, ...], specs: Sequence[Any]) -> int | None:
    """The dim of size 0 (as given) that a reduction with no identity (max, argmax) failed
    over, from JAX's error for it, or None for another error."""
    if not ("zero-size array to reduction operation" in message or
            "of an empty sequence" in message) or not specs or specs[0] is None:
        return None
    shape = tuple(specs[0].shape)
    dims = static[0] if static and isinstance(static[0], tuple) else \
        (static[0],) if static and isinstance(static[0], int) else range(len(shape))
    for dim in dims:
        if isinstance(dim, int) and shape and shape[dim] == 0:
            return dim
    return None


def repeated_dim(dim: int) -> str:
    """PyTorch's message for a reduction given ``dim`` twice."""
    return f"dim {dim} appears multiple times in the list of dims"


def broadcast_mismatch(shapes: Sequence[tuple[int, ...]]) -> str | None:
    """PyTorch's message for the first of ``shapes`` that does not broadcast with those
    before it ("The size of tensor a (3) must match the size of tensor b (4) at
    non-singleton dimension 0"), or None when they all broadcast."""
    shape: tuple[int, ...] = ()
    for ours in shapes:
        for i in range(1, min(len(ours), len(shape)) + 1):
            if shape[-i] != ours[-i] and 1 not in (shape[-i], ours[-i]):
                return (f"The size of tensor a ({shape[-i]}) must match the size of tensor "
                        f"b ({ours[-i]}) at non-singleton dimension "
                        f"{max(len(ours), len(shape)) - i}")
        shape = tuple(np.broadcast_shapes(shape, ours))
    return None


def _miss(rec: Recorder, tp: Tape, key: tuple[Any, ...], desc: tuple[Any, ...],
          inputs: Sequence[Any], check: Callable[..., None] | None, who: Any) -> Hit:
    """Infers the output shapes of a new node (once per structure)."""
    op, static, ins, _ = desc
    in_avals = tuple(None if r < 0 else tp.avals[slot_of(r)] for r in ins)
    for value, aval in zip(inputs, in_avals, strict=False):
        # PyTorch's error for an op with no complex kernel (a PRNG key's dtype has no kind)
        if aval is not None and getattr(aval[1], "kind", None) == "c":
            _complex_checks.check(base(op), static, getattr(value, "dtype", aval[1]))
            break
    if check is not None:
        check(*inputs, *static)
    if base(op) in DIM_FIRST and static and in_avals and in_avals[0] is not None:
        check_dims(static[0], len(in_avals[0][0]))
    # the same op on the same shapes met at another place of a tape (a long tape whose
    # states are all new): its output shapes are known without tracing it again
    shape_key = (op, static, in_avals)
    known = rec.shapes.get(shape_key)
    if known is not None:
        return rec.advance(key, known)
    specs = [None if a is None else spec(a) for a in in_avals]
    try:
        out = jax.eval_shape(lambda *args: op(*args, *static), *specs)
    except (ValueError, TypeError) as error:
        if "shapes for broadcasting" in str(error).lower():
            mismatch = broadcast_mismatch([s.shape for s in specs if s is not None])
            if mismatch is not None:
                raise RuntimeError(mismatch) from error
        axis = _AXIS_ERROR.search(str(error))
        if axis is not None:  # a reduction's or a shape op's dim: PyTorch's IndexError
            got, ndim = int(axis[1]), max(int(axis[2]), 1)
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {got})") from error
        empty = _empty_dim(str(error), static, specs)
        if empty is not None and isinstance(who, str):  # max(1) of a [3, 0] tensor
            # amax and amin (of a list of dims) name the dim as given, the rest wrapped
            if who not in ("amax", "amin"):
                empty %= len(in_avals[0][0]) if in_avals[0] is not None else 1
            raise IndexError(f"{who}(): Expected reduction dim {empty} to have non-zero "
                             f"size.") from error
        repeated = _DUPLICATE_AXIS.search(str(error))
        if repeated is not None and specs and specs[0] is not None:
            rank, seen = max(len(specs[0].shape), 1), set()
            for dim in (int(d) % rank for d in repeated[1].split(",") if d.strip()):
                if dim in seen:
                    raise RuntimeError(repeated_dim(dim)) from error
                seen.add(dim)
        if who is None:
            raise
        name = who if isinstance(who, str) else repr(who).split("\n")[0]
        if str(error).startswith(f"{name}:"):
            raise
        raise type(error)(f"{name}: {error}") from error
    outs = out if isinstance(out, (tuple, list)) else (out,)
    avals = tuple(
        None if o is None else (tuple(o.shape), o.dtype, bool(o.weak_type)) for o in outs
    )
    if len(rec.shapes) > SHAPES_LIMIT:
        rec.shapes.clear()
    rec.shapes[shape_key] = avals
    hit: Hit = rec.advance(key, avals)
    return hit


def record(op: Callable[..., Any], static: tuple[Any, ...], inputs: Sequence[Any],
           check: Callable[..., None] | None = None,
           who: Any = None) -> tuple[int, tuple[Aval, ...], bool]:
    """Appends ``op(*inputs, *static)`` to the tape.

    Args:
        op: a pure jax function (a stable, module-level object: it is part of the key).
        static: hashable non-array arguments, passed after the inputs.
        inputs: Tensors, Python scalars or None.
        check: called with ``inputs`` the first time this structure is seen, to raise a
            clear error for bad shapes before jax does.
        who: the layer or op name prefixed to shape errors raised while tracing.

    Returns:
        ``(first output slot, output avals, rg)``.
    """
    # the hot path of recording: references are built inline as ``ref(slot, kind)``
    rec = current()
    tp = rec.tape
    if tp.carried is not None:
        tp = recording_tape(rec)
    if op is _window:
        cut = _window_of_value(rec, tp, inputs, static)
        if cut is not None:
            return cut
    if _X64:
        op = narrowed(op)
    ins = []
    rg = False
    for t in inputs:
        if t is None:
            ins.append(NO_REF)
            continue
        kind = type(t)
        if kind is float or kind is int:
            if kind is int and not INT32_MIN <= t <= INT32_MAX and not _X64:
                t, kind = _wide_int(t, inputs), float
            ins.append(_source(rec, tp, rec.scalars.recorded(t), _WEAK_AVALS[kind], None) << 2)
            continue
        if kind is bool:
            ins.append(_source(rec, tp, t, _WEAK_AVALS[kind], None) << 2)
            continue
        link = t._view
        if link is not None:  # a view, whose root may have been written in place since
            root = link.cell()
            if root is not None and root.version != link.version:
                refresh(t)
                tp = rec.tape
        cell = t._cell
        slot = cell.ref if cell.tape is tp else cell_source(tp, cell)
        use = t._kind
        if use:
            rg = True
            if use == VAR:
                if slot not in tp.var_owner:
                    tp.var_owner[slot] = t
                if cell.val is None:
                    tp.leaf_updated = True
        ins.append(slot << 2 | use)
    rg = rg and rec.grad_enabled
    refs = tuple(ins)
    key = (tp.state, (op, static, refs, rg))
    hit = rec.trie.get(key)
    if hit is None:
        hit = _miss(rec, tp, key, key[1], inputs, check, who)
    tp.state = hit[0]
    first = len(tp.avals)
    # an op may leave an output out (None): only multi-output ops do, and their callers
    # check (see tensor._op_multi); every other aval is a real one
    avals: tuple[Aval, ...] = hit[1]  # type: ignore[assignment]
    tp.nodes.append(_tuple_new(Node, (op, static, refs, rg, first, len(avals))))
    tp.avals.extend(avals)
    return first, avals, rg


def _wide_int(value: int, inputs: Sequence[Any]) -> float:
    """A Python int beyond 32 bits beside tensors: PyTorch's value where a float tensor
    takes it (``x * 2**40``); an integer result would not fit ``torch.int64``."""
    if any(getattr(t, "_cell", None) is not None and
           jax.numpy.issubdtype(t._cell.aval[1], jax.numpy.inexact) for t in inputs):
        return float(value)
    raise int_overflow(value)


def _window_of_value(rec: Recorder, tp: Tape, inputs: Sequence[Any],
                     static: tuple[Any, ...]) -> tuple[int, tuple[Aval, ...], bool] | None:
    """``value[index]`` (a ``_window`` of a tensor that is a value, without grad) as a
    source of its own, cut on the host, once the same window has been taken of a value
    of another shape :data:`WINDOW_CHURN` times in a row: the context of a sampling loop
    (``idx[:, -block_size:]`` of a sequence one token longer each time), which as an
    input of the step would make every step a new program. From then on that window is
    always cut, also of a value of the last shape (a name one letter long after two of
    other lengths), so that its steps do not have two structures for one shape. Else
    None, and the window is recorded (a dataset sliced into batches keeps one shape)."""
    t = inputs[0]
    cell = t._cell
    value = cell.val
    if value is None or t._kind != CONST or cell.tape is tp:
        return None
    shape = cell.aval[0]
    last = rec.window_shapes.get(static)
    if last is None or last[0] == shape and last[1] < WINDOW_CHURN:
        if last is None and len(rec.window_shapes) > SHAPES_LIMIT:
            rec.window_shapes.clear()
        rec.window_shapes[static] = (shape, 0)
        return None
    churn = last[1] + (last[0] != shape)
    rec.window_shapes[static] = (shape, churn)
    if churn < WINDOW_CHURN or math.prod(shape) > WINDOW_HOST_SIZE:
        return None
    sizes, dims, post = static[0]
    index = [slice(None)] * len(shape)
    for dim, start in zip(dims, inputs[1:], strict=True):
        index[dim] = slice(start, start + sizes[dim])
    # np.array, not ascontiguousarray, which makes an element (x[0] of a vector) 1-D
    block = np.array(np.asarray(value)[tuple(index)][_post_index(post)], dtype=cell.aval[1],
                     order="C")
    aval = (tuple(block.shape), cell.aval[1], cell.aval[2])
    return _source(rec, tp, block, aval, None), (aval,), False


def record_refs(op: Callable[..., Any], static: tuple[Any, ...], ins: tuple[int, ...],
                rg: bool = False, extra: Callable[[Tape], tuple[Any, Any]] | None = None
                ) -> tuple[int, tuple[Aval, ...]]:
    """Like :func:`record` for internal nodes whose inputs are already references.

    ``extra(tape)``, if given, computes ``(output avals, info)`` on a trie miss instead
    of tracing ``op``; ``info`` is cached with the structure and stored in
    ``tape.backward`` for the new node (backward nodes keep their region there).

    Returns:
        ``(first output slot, output avals)``.
    """
    rec = current()
    tp = recording_tape(rec)
    desc = (op, static, ins, rg)
    key = (tp.state, desc)
    hit = rec.trie.get(key)
    if hit is None:
        if extra is not None:
            out_avals, info = extra(tp)
            hit = rec.advance(key, out_avals, info)
        else:
            hit = _miss(rec, tp, key, desc, [None] * len(ins), None, None)
    tp.state = hit[0]
    first = len(tp.avals)
    # an op may leave an output out (None): only multi-output ops do, and their callers
    # check (see tensor._op_multi); every other aval is a real one
    avals: tuple[Aval, ...] = hit[1]  # type: ignore[assignment]
    tp.nodes.append(Node(op, static, ins, rg, first, len(avals)))
    tp.avals.extend(avals)
    if hit[2] is not None:
        tp.backward[len(tp.nodes) - 1] = hit[2]
    return first, avals


def bind(cell: Cell, slot: int, aval: Aval, rg: bool) -> None:
    """Points ``cell`` at a recorded slot (its value now comes from the tape)."""
    tp = current().tape
    cell.val = cell.host = None
    cell.ref = slot
    cell.tape = tp
    cell.aval = aval
    cell.rg = rg
    if cell.listed is not tp:
        cell.listed = tp
        tp.cells.append(weakref.ref(cell))
