"""The recorder behind fnnet.torch's lazy tensors.

A tensor's value lives in a :class:`Cell`. A cell holds either a concrete array
(``val``) or a reference to a slot of the current :class:`Tape`, the list of operations
recorded since the last flush. Recording an operation appends a node
``(op, static, inputs, rg, first_slot, n_out)``: ``op`` is a pure jax function called as
``op(*input_values, *static)``, ``static`` its hashable non-array arguments, ``inputs``
encoded slot references, ``rg`` whether the node is differentiable. Each input reference
is ``slot * 4 + kind`` where kind 0 means "use as a constant" (stop the gradient), 1
"differentiable intermediate" and 2 "leaf that requires grad" (a parameter); -1 stands
for ``None``.

The structure of a tape is summarised incrementally by a state of a global trie:
``(state, node description) -> (next state, output shapes)``. Two tapes recorded by the
same code on same-shaped inputs end in the same state, so a single int keys the compile
cache and the output shapes of a node are looked up once per structure, never traced
again. Nothing here computes a value: see ``_compiler`` for that.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Aval = tuple  # (shape, dtype, weak_type)

#: kinds of uses of a value in a node's inputs
CONST, RG, VAR = 0, 1, 2

_TRIE: dict[tuple, tuple] = {}
_TRIE_LIMIT = 200_000
_next_state = [1]

#: ``grad_enabled[0]`` is False inside ``torch.no_grad()``.
grad_enabled = [True]

#: how many tensor values Python has read (``item()``, ``numpy()``, printing...): the
#: compiler splits the steps of a loop that reads one between steps (see ``_compiler``).
reads = [0]


class Cell:
    """The storage of one tensor value, shared by a tensor and its aliases (``detach``).

    Attributes:
        val: the concrete array, or None while the value is only recorded.
        ref: the slot of ``tape`` holding the value (valid only while ``tape`` is the
            current tape).
        tape: the tape ``ref`` belongs to.
        aval: ``(shape, dtype, weak_type)``.
        rg: produced by a differentiable node (its graph may still be backpropagated).
        owned: the array belongs to fnnet.torch alone (parameters, buffers), so a
            compiled step may donate it once it is replaced.
    """

    __slots__ = ("val", "ref", "tape", "aval", "rg", "owned", "listed", "__weakref__")

    def __init__(self, val: Any = None, aval: Aval | None = None, owned: bool = False) -> None:
        self.val = val
        self.ref = -1
        self.tape: Tape | None = None
        self.aval = aval if aval is not None or val is None else aval_of(val)
        self.rg = False
        self.owned = owned
        self.listed: Tape | None = None  # the tape whose ``cells`` list holds this cell


class Tape:
    """Operations recorded since the last flush (see the module docstring)."""

    def __init__(self) -> None:
        self.nodes: list[tuple] = []
        self.avals: list[Aval] = []
        self.srcs: list[Any] = []          # concrete source values, in slot order
        self.src_slots: list[int] = []
        self.src_owner: list[Any] = []     # Cell, WRITEBACK or None per source value
        self.state = 0
        self.cells: list[weakref.ref] = []   # cells whose value may need to come back
        self.var_owner: dict[int, Any] = {}  # slot -> leaf tensor whose .grad it feeds
        self.writebacks: list[tuple[Any, int, int]] = []  # (holder, first slot, count)
        self.backward: dict[int, tuple] = {}  # node index -> (region, var slots)
        self.consumed: set[int] = set()       # nodes whose graph a backward freed
        self.consumed_slots: set[int] = set()  # and their slots
        # a leaf that requires grad was read after an in-place update recorded here (a
        # manual parameter update): the next backward starts a new step (see _autograd)
        self.leaf_updated = False
        self.leaf_written = False  # an in-place update of a leaf that requires grad
        self.after_backward = False  # the flush that started this tape ran a backward
        self.rng_slot = -1
        self.rng_input: Any = None
        self.draws = 0
        # cells carried over from the previous tape by a flush (see _compiler._carry),
        # while nothing new has been recorded on top of their graph
        self.carried: list[weakref.ref] | None = None

    def __len__(self) -> int:
        return len(self.nodes)

    def node_of_slot(self) -> list[int]:
        """Maps each slot to the index of the node that produced it."""
        owner: list[int] = []
        for index, node in enumerate(self.nodes):
            owner.extend([index] * node[5])
        return owner


#: the current tape; replaced (never cleared) at each flush.
tape = Tape()

#: sentinel owner of sources that a writeback replaces (optimizer state).
WRITEBACK = object()


def new_tape() -> Tape:
    global tape
    tape = Tape()
    return tape


def recording_tape() -> Tape:
    """The tape to record on: a fresh one if the current tape holds only a carried graph
    whose tensors have all died (a model output printed outside ``no_grad`` and then
    dropped), so that dead work never enters, or changes the structure of, the next
    compiled step."""
    tp = tape
    if tp.carried is not None:
        if not any(ref() is not None for ref in tp.carried):
            return new_tape()
        tp.carried = None  # live: new work builds on the carried graph from now on
    return tp


_WEAK = {float: np.dtype("float32"), int: np.dtype("int32"), bool: np.dtype("bool")}


def aval_of(value: Any) -> Aval:
    """``(shape, dtype, weak_type)`` of an array or Python scalar."""
    kind = type(value)
    if kind in _WEAK:
        return ((), _WEAK[kind], kind is not bool)
    return (tuple(value.shape), value.dtype, bool(getattr(value, "weak_type", False)))


def spec(aval: Aval) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(aval[0], aval[1], weak_type=aval[2])


def _advance(key: tuple, desc: tuple, avals: tuple, extra: Any = None) -> tuple:
    if len(_TRIE) > _TRIE_LIMIT:
        _TRIE.clear()
    _next_state[0] += 1
    hit = (_next_state[0], avals, extra)
    _TRIE[key] = hit
    return hit


def source_into(tp: Tape, value: Any, aval: Aval, owner: Any) -> int:
    """Adds a concrete input to ``tp`` (any tape); returns its slot."""
    return _source(tp, value, aval, owner)


def _source(tp: Tape, value: Any, aval: Aval, owner: Any) -> int:
    slot = len(tp.avals)
    key = (tp.state, (None, aval))
    hit = _TRIE.get(key)
    if hit is None:
        hit = _advance(key, (None, aval), (aval,))
    tp.state = hit[0]
    tp.nodes.append((None, len(tp.srcs), (), False, slot, 1))
    tp.srcs.append(value)
    tp.src_slots.append(slot)
    tp.src_owner.append(owner)
    tp.avals.append(aval)
    return slot


def cell_source(tp: Tape, cell: Cell) -> int:
    """Makes the concrete value of ``cell`` an input of ``tp``; returns its slot."""
    if cell.val is None:
        raise RuntimeError("fnnet.torch: internal error: a tensor lost its value")
    slot = _source(tp, cell.val, cell.aval, cell)
    cell.tape = tp
    cell.ref = slot
    return slot


def sources(values: Sequence[Any], avals: tuple, owner: Any = None) -> int:
    """Adds several concrete inputs as one node; returns the first slot."""
    tp = recording_tape()
    slot = len(tp.avals)
    desc = (None, avals)
    key = (tp.state, desc)
    hit = _TRIE.get(key)
    if hit is None:
        hit = _advance(key, desc, avals)
    tp.state = hit[0]
    n = len(avals)
    tp.nodes.append((None, len(tp.srcs), (), False, slot, n))
    tp.srcs.extend(values)
    tp.src_slots.extend(range(slot, slot + n))
    tp.src_owner.extend([owner] * n)
    tp.avals.extend(avals)
    return slot


class _Input:
    """A tensor-like handle on a tape slot that is no tensor (the step's PRNG key)."""

    __slots__ = ("_cell", "_kind")


def rng_input() -> _Input:
    """The current tape's PRNG key as a record() input (fed from the global key)."""
    tp = recording_tape()
    if tp.rng_slot < 0:
        from fnnet.torch import _random

        tp.rng_slot = _source(tp, _random.state.key, _random.state.aval, None)
        handle = _Input()
        handle._cell = Cell(_random.state.key, _random.state.aval)
        handle._cell.tape = tp
        handle._cell.ref = tp.rng_slot
        handle._kind = CONST
        tp.rng_input = handle
    return tp.rng_input


def next_draw() -> int:
    """A fresh fold-in index for one random draw in the current tape."""
    tape.draws += 1
    return tape.draws


def _miss(tp: Tape, key: tuple, desc: tuple, inputs: Sequence[Any],
          check: Callable[..., None] | None, who: Any) -> tuple:
    """Infers the output shapes of a new node (once per structure)."""
    op, static, ins, rg = desc
    if check is not None:
        check(*inputs, *static)
    specs = [None if r < 0 else spec(tp.avals[r >> 2]) for r in ins]
    try:
        out = jax.eval_shape(lambda *args: op(*args, *static), *specs)
    except (ValueError, TypeError) as error:
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
    return _advance(key, desc, avals)


def record(op: Callable[..., Any], static: tuple, inputs: Sequence[Any],
           check: Callable[..., None] | None = None, who: Any = None) -> tuple[int, tuple, bool]:
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
    tp = recording_tape()
    ins = []
    rg = False
    for t in inputs:
        if t is None:
            ins.append(-1)
            continue
        kind = type(t)
        if kind is float or kind is int or kind is bool:
            ins.append(_source(tp, t, ((), _WEAK[kind], kind is not bool), None) * 4)
            continue
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
        ins.append(slot * 4 + use)
    rg = rg and grad_enabled[0]
    desc = (op, static, tuple(ins), rg)
    key = (tp.state, desc)
    hit = _TRIE.get(key)
    if hit is None:
        hit = _miss(tp, key, desc, inputs, check, who)
    tp.state = hit[0]
    first = len(tp.avals)
    avals = hit[1]
    tp.nodes.append((op, static, desc[2], rg, first, len(avals)))
    tp.avals.extend(avals)
    return first, avals, rg


def record_refs(op: Callable[..., Any], static: tuple, ins: tuple, rg: bool = False,
                extra: Callable[[Tape], tuple] | None = None) -> tuple[int, tuple]:
    """Like :func:`record` for internal nodes whose inputs are already encoded refs.

    ``extra(tape)``, if given, computes ``(output avals, info)`` on a trie miss instead
    of tracing ``op``; ``info`` is cached with the structure and stored in
    ``tape.backward`` for the new node (backward nodes keep their region there).

    Returns:
        ``(first output slot, output avals)``.
    """
    tp = recording_tape()
    desc = (op, static, ins, rg)
    key = (tp.state, desc)
    hit = _TRIE.get(key)
    if hit is None:
        if extra is not None:
            avals, info = extra(tp)
            hit = _advance(key, desc, avals, info)
        else:
            hit = _miss(tp, key, desc, [None] * len(ins), None, None)
    tp.state = hit[0]
    first = len(tp.avals)
    avals = hit[1]
    tp.nodes.append((op, static, ins, rg, first, len(avals)))
    tp.avals.extend(avals)
    if hit[2] is not None:
        tp.backward[len(tp.nodes) - 1] = hit[2]
    return first, avals


def bind(cell: Cell, slot: int, aval: Aval, rg: bool) -> None:
    """Points ``cell`` at a recorded slot (its value now comes from the tape)."""
    tp = tape
    cell.val = None
    cell.ref = slot
    cell.tape = tp
    cell.aval = aval
    cell.rg = rg
    if cell.listed is not tp:
        cell.listed = tp
        tp.cells.append(weakref.ref(cell))


def canonical_dtype(dtype: Any) -> np.dtype:
    """The dtype jax will use (int64 -> int32 and float64 -> float32 without x64)."""
    return jax.dtypes.canonicalize_dtype(np.dtype(dtype))


def as_array(value: Any, dtype: Any = None) -> Any:
    """A jax array of the canonical dtype (copies numpy input)."""
    if dtype is not None:
        dtype = canonical_dtype(dtype)
    array = jnp.asarray(value, dtype=dtype)
    if array.weak_type:
        array = jnp.asarray(array, dtype=array.dtype)
    return array
