"""What fnnet.torch records: cells, nodes, references and tapes (data only).

A tensor's value lives in a :class:`Cell`. A cell holds either a concrete array
(``val``) or a reference to a slot of a :class:`Tape`, the list of operations recorded
since the last flush. Each operation is a :class:`Node`: ``op`` is a pure jax function
called as ``op(*input_values, *static)``, ``static`` its hashable non-array arguments,
``inputs`` its input references, ``rg`` whether it is differentiable, and its outputs
fill the slots ``first .. first + n_out - 1``. A node with ``op`` None is a source: its
``static`` is the index of its first concrete value in ``Tape.srcs``.

A reference names a slot and how the node uses it: :data:`CONST` (as a constant: the
gradient stops there), :data:`RG` (a differentiable intermediate) or :data:`VAR` (a
leaf that requires grad, a parameter); :data:`NO_REF` stands for ``None``. References
are ints, built by :func:`ref` and read by :func:`slot_of` and :func:`kind_of`, so that
they hash and compare as fast as the structure keys they are part of.
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

#: ``(shape, dtype, weak_type)`` of a value.
Aval = tuple[tuple[int, ...], np.dtype[Any], bool]

#: kinds of uses of a value in a node's inputs (see the module docstring)
CONST, RG, VAR = 0, 1, 2
#: the reference standing for a ``None`` input
NO_REF = -1


def ref(slot: int, kind: int = CONST) -> int:
    """The reference to ``slot`` used as ``kind`` (:data:`CONST`, :data:`RG`, :data:`VAR`)."""
    return slot << 2 | kind


def slot_of(reference: int) -> int:
    """The slot a (non-negative) reference names."""
    return reference >> 2


def kind_of(reference: int) -> int:
    """How a (non-negative) reference uses its slot."""
    return reference & 3


class Node(NamedTuple):
    """One recorded operation (see the module docstring)."""

    op: Any
    static: Any
    inputs: tuple[int, ...]
    rg: bool
    first: int
    n_out: int


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
        listed: the tape whose ``cells`` list holds this cell.
        sourced: a host (numpy) value that a recorded step has read (see
            ``_graph.cell_source``).
        host: a host copy of a value still only recorded, set where it is known before
            the step runs (a DataLoader batch's labels), for checks that must not wait
            for the device; unset otherwise.
        version: how many in-place writes the storage has seen, those through ``.data``
            included (a view compares it to tell that its values are stale); unset (read
            as 0, see :func:`version_of`) until the first one, so that making a cell costs
            nothing more.
        data_writes: how many of those went through ``.data``, which PyTorch's version
            counter (``Tensor._version``, :func:`version_of`) does not count; unset until
            the first one.
        overlap: whether the tensor is an expanded one (``x.expand(3, 4)``), whose
            elements share memory in PyTorch, where most in-place ops refuse it: a class
            attribute, True on :class:`ExpandedCell`.
    """

    __slots__ = ("val", "ref", "tape", "aval", "rg", "owned", "listed", "sourced", "host",
                 "version", "data_writes", "__weakref__")
    overlap = False

    val: Any
    ref: int
    tape: Tape | None
    aval: Aval
    rg: bool
    owned: bool
    listed: Tape | None
    host: Any
    version: int  # unset until the first in-place write: read it with version_of
    data_writes: int  # unset until the first write through .data

    def __init__(self, val: Any = None, aval: Aval | None = None, owned: bool = False) -> None:
        self.val = val
        self.ref = -1
        self.tape = None
        if aval is None:
            if val is None:
                raise ValueError("Cell: give a value or its aval")
            aval = aval_of(val)
        self.aval = aval
        self.rg = False
        self.owned = owned
        self.listed = None
        self.sourced = False


#: cells holding the array of another tensor's cell: a second leaf made from a parameter
#: by ``p.detach().requires_grad_()`` (as ``torch.func.grad`` makes) shares its array, so
#: a step that replaces the parameter must not donate the array while one of them holds it
BORROWERS: weakref.WeakSet[Cell] = weakref.WeakSet()


def borrowed() -> set[int]:
    """The ids of the arrays that :data:`BORROWERS` still hold."""
    return {id(cell.val) for cell in BORROWERS if cell.val is not None}


class ExpandedCell(Cell):
    """The cell of an expanded tensor (see ``Cell.overlap``)."""

    __slots__ = ()
    overlap = True


def version_of(cell: Cell) -> int:
    """PyTorch's version counter of ``cell`` (0 before its first in-place write): its
    writes but those through ``.data``."""
    version: int = getattr(cell, "version", 0) - getattr(cell, "data_writes", 0)
    return version


#: a slot whose storage an in-place op wrote after it held the slot's value (see
#: ``_saved``): ``(cell, counter, version, result)``, the tensor's cell, the cell whose
#: version counter counts its writes (the view's root's for a view), the counter's value
#: while the cell held the slot, and the slot of the new value. A plain tuple: one is
#: made per in-place op.
Overwritten = tuple["Cell", "Cell", int, int]


class Tape:
    """Operations recorded since the last flush (see the module docstring).

    ``recorder`` is the recorder that records on the tape, if any (see ``_recorder``).
    """

    def __init__(self, recorder: Any = None) -> None:
        self.recorder = recorder
        self.nodes: list[Node] = []
        self.avals: list[Aval] = []
        self.srcs: list[Any] = []          # concrete source values, in slot order
        self.src_slots: list[int] = []
        self.src_owner: list[Any] = []     # Cell, WRITEBACK or None per source value
        self.state = 0                     # the structure so far: see ``_recorder``
        self.cells: list[weakref.ref[Cell]] = []  # cells whose value may need to come back
        self.var_owner: dict[int, Any] = {}  # slot -> leaf tensor whose .grad it feeds
        self.writebacks: list[tuple[Any, int, int]] = []  # (holder, first slot, count)
        # node index -> (region nodes, leaf slots, region slots) of a backward node
        self.backward: dict[int, tuple[list[int], list[int], tuple[int, ...]]] = {}
        self.consumed: set[int] = set()       # nodes whose graph a backward freed
        self.consumed_slots: set[int] = set()  # and their slots
        # a leaf that requires grad was read after an in-place update recorded here (a
        # manual parameter update): the next backward starts a new step (see _autograd)
        self.leaf_updated = False
        self.leaf_written = False  # an in-place update of a leaf that requires grad
        self.after_backward = False  # the flush that started this tape ran a backward
        # (trie state, sources, nodes) where the first backward was recorded
        self.before_backward: tuple[int, int, int] | None = None
        self.rng_slot = -1
        self.rng_input: Any = None
        self.draws = 0
        # cells carried over from the previous tape by a flush (see _graph.carry),
        # while nothing new has been recorded on top of their graph
        self.carried: list[weakref.ref[Cell]] | None = None
        # slot -> value of a carried graph's tensor, computed by the flush that carried
        # it: a later flush without a backward starts from it (see _flush._from_values)
        self.values: dict[int, Any] = {}
        # node_of_slot() for the first nodes, extended as the tape grows (see _flush)
        self.owner_cache: tuple[list[int], int] = ([], 0)
        # slot -> how an in-place op overwrote it (PyTorch's saved-tensor version check)
        self.overwritten: dict[int, Overwritten] = {}
        # the error that stopped this tape's program (see ``_flush``): its recorded
        # values were never computed
        self.failure: Exception | None = None

    def __len__(self) -> int:
        return len(self.nodes)

    def node_of_slot(self) -> list[int]:
        """Maps each slot to the index of the node that produced it."""
        owner: list[int] = []
        for index, node in enumerate(self.nodes):
            owner.extend([index] * node.n_out)
        return owner

    def out_slots(self, index: int) -> range:
        """The slots node ``index`` fills."""
        node = self.nodes[index]
        return range(node.first, node.first + node.n_out)


def lost_value(cell: Cell) -> RuntimeError:
    """The error for reading ``cell``, whose value is neither known nor recorded on the
    current tape: the program of the tape that recorded it failed, or (a bug) nothing
    computes it."""
    failure = None if cell.tape is None else cell.tape.failure
    if failure is None:
        return RuntimeError("fnnet.torch: internal error: a tensor lost its value")
    error = RuntimeError(f"fnnet.torch: this tensor's value was never computed: the step "
                         f"that computes it failed ({type(failure).__name__}: {failure})")
    error.__cause__ = failure
    return error


class _Writeback:
    """The owner of sources that a writeback replaces (optimizer state)."""

    def __repr__(self) -> str:
        return "WRITEBACK"


#: sentinel owner of sources that a writeback replaces (optimizer state).
WRITEBACK = _Writeback()

_WEAK = {float: np.dtype("float32"), int: np.dtype("int32"), bool: np.dtype("bool")}


def weak_aval(kind: type) -> Aval:
    """The aval of a Python ``float``, ``int`` or ``bool`` (weakly typed but bools)."""
    return ((), _WEAK[kind], kind is not bool)


def aval_of(value: Any) -> Aval:
    """``(shape, dtype, weak_type)`` of an array or Python scalar."""
    kind = type(value)
    if kind in _WEAK:
        return weak_aval(kind)
    return (tuple(value.shape), value.dtype, bool(getattr(value, "weak_type", False)))


def spec(aval: Aval) -> jax.ShapeDtypeStruct:
    """The ``jax.ShapeDtypeStruct`` of ``aval``."""
    return jax.ShapeDtypeStruct(aval[0], aval[1], weak_type=aval[2])


def canonical_dtype(dtype: Any) -> np.dtype[Any]:
    """The dtype jax will use (int64 -> int32 and float64 -> float32 without x64)."""
    return np.dtype(jax.dtypes.canonicalize_dtype(np.dtype(dtype)))


#: the integers a 32-bit ``torch.int64`` holds (without jax's x64 mode)
INT32_MIN, INT32_MAX = int(np.iinfo(np.int32).min), int(np.iinfo(np.int32).max)


def int_overflow(value: Any) -> OverflowError:
    """The error for an integer that ``torch.int64`` cannot hold in 32 bits."""
    return OverflowError(
        f"fnnet.torch: the value {value} does not fit torch.int64, which fnnet.torch holds "
        f"in 32 bits ({INT32_MIN} to {INT32_MAX}) unless jax's x64 mode is on; call "
        f"jax.config.update('jax_enable_x64', True) before importing fnnet.torch to hold "
        f"64-bit integers")


def check_int32(*values: Any) -> None:
    """Raises :func:`int_overflow` for a Python int that a 32-bit ``torch.int64`` (without
    x64) cannot hold, where jax would wrap it silently."""
    for value in values:
        if isinstance(value, int) and not INT32_MIN <= value <= INT32_MAX:
            raise int_overflow(value)


def to_canonical(host: np.ndarray, dtype: Any = None) -> np.ndarray:
    """A copy of ``host`` in the dtype jax will use for ``dtype`` (default: ``host``'s own).

    Raises:
        OverflowError: an integer or float that the 32-bit integer type (``torch.int64``
            without x64) cannot hold, where numpy's cast would wrap it silently.
    """
    target = canonical_dtype(host.dtype if dtype is None else dtype)
    if target == np.int32 and host.dtype.kind in "iuf" and host.size and \
            host.dtype != np.int32 and np.dtype(host.dtype).itemsize >= 4:
        low, high = host.min(), host.max()
        if high > INT32_MAX or low < INT32_MIN:
            raise int_overflow(high if high > INT32_MAX else low)
    return host.astype(target, copy=True)


def as_array(value: Any, dtype: Any = None) -> jax.Array:
    """A jax array of the canonical dtype (copies numpy input; see :func:`to_canonical`
    for integers 32 bits cannot hold)."""
    if not isinstance(value, jax.Array):
        value = to_canonical(np.asarray(value), dtype)
    if dtype is not None:
        dtype = canonical_dtype(dtype)
    array = jnp.asarray(value, dtype=dtype)
    if array.weak_type:
        array = jnp.asarray(array, dtype=array.dtype)
    return array
