"""The recorder: all the state behind fnnet.torch's lazy tensors, in one object.

A :class:`Recorder` owns the tape being recorded, the structure trie that names each
tape's structure with one int, the grad mode (``torch.no_grad``), the count of values
Python has read, the compile cache with its statistics, and the options that steer
compiling (:class:`Options`). The recorder in use is held in a context variable with
one default instance: :func:`current` returns it, and ``_compiler.fresh()`` runs a
block with a fresh one (each test of the shim runs so).

The trie: ``(state, node description) -> (next state, output avals, extra)``. Two tapes
recorded by the same code on same-shaped inputs end in the same state, so a single int
keys the compile cache and the output shapes of a node are looked up once per
structure, never traced again.
"""

from __future__ import annotations

import contextvars
import dataclasses
import weakref
from collections import OrderedDict, deque
from typing import Any

from fnnet.torch._scalars import Scalars
from fnnet.torch._tape import Aval, Tape

#: the trie is emptied when it holds more entries than this (a program whose structure
#: never repeats would otherwise grow it forever)
TRIE_LIMIT = 200_000
#: how many recent flushes :attr:`Recorder.recent` remembers
RECENT_FLUSHES = 64

#: ``(next state, output avals, extra)``: one entry of the trie.
Hit = tuple[int, tuple[Aval | None, ...], Any]


@dataclasses.dataclass
class Options:
    """How a recorder compiles what it records.

    Attributes:
        cache_size: compiled functions kept (least recently used dropped first).
        donate: donate replaced parameters and optimizer state to the compiled step
            (buffer reuse).
        split: run a step whose forward values are read (the loss) as two programs
            where that measures faster in the loop: see ``_split.Split``.
        split_bytes: ... unless its differentiated values take more bytes than this:
            the split runs the forward pass twice, which costs more than the Python time
            it overlaps once a step computes for milliseconds (LeNet-5 at batch 64, 3.8 MB
            of differentiated values, ran slower split; the MLP of the shim benchmark,
            68 KB, faster).
        eager_after: fall back to running op by op when more than this many of the last
            64 flushes had to compile (the structure keeps changing, so compiling does
            not pay).
        eager_after_steps: ... or once more than this many training steps in a row
            (flushes holding a backward or an optimizer's step) each compiled a structure
            not met before: a loop that branches on a random draw every step (teacher
            forcing chosen per token) reads its values between steps, so its cache hits
            on those reads keep the share of ``eager_after`` from ever being reached,
            while each step pays a whole compile.
        compile_again: ... and compile again once at most this many (and at most a
            quarter of ``eager_after``) of the last 64 flushes run op by op met a
            structure not met before: the loop settled (a steady training loop after an
            evaluation pass over sequences of many lengths); -1: never.
    """

    cache_size: int = 64
    donate: bool = True
    split: bool = True
    split_bytes: int = 1 << 20
    eager_after: int = 32
    eager_after_steps: int = 8
    compile_again: int = 8


@dataclasses.dataclass
class CompileStats:
    """Counters of the compile cache (``compile_stats()`` reports them)."""

    hits: int = 0
    compiles: int = 0
    eager_runs: int = 0
    eager: bool = False
    log: list[dict[str, Any]] = dataclasses.field(default_factory=list)


class Recorder:
    """The state of fnnet.torch's recording and compiling (see the module docstring).

    Attributes:
        options: the :class:`Options` in force.
        tape: the tape being recorded; replaced (never cleared) at each flush.
        trie: the structure trie; ``next_state`` is the last state it handed out.
        grad_enabled: False inside ``torch.no_grad()``.
        reads: how many tensor values Python has read (``item()``, ``numpy()``,
            printing...): a loop that reads one between steps gets its steps split (see
            ``_split``); ``step_reads`` is its value at the last step (-1 before the
            first, where a read is assumed).
        cache: compiled functions by structure key (see ``_cache``).
        stats: the cache's :class:`CompileStats`.
        history: ``(key, structure summary)`` of recent compiles, to explain the next.
        recent: whether each recent flush compiled (op by op: met a structure not in
            ``eager_seen``, the structures run op by op so far).
        scalars: repeated Python scalars as device arrays (see ``_scalars``).
        layers: one fnnet layer per configuration, shared by the modules built alike
            (see ``nn.modules._layer.shared``).
        exit_flushed: the trie state at which the last ``no_grad`` block's exit flushed
            a tape holding no backward, until the next flush (see ``_autograd.no_grad``).
        warned: the messages of PyTorch's warnings given once per process
            (``TORCH_WARN_ONCE``) that this recorder has given.
        taking_rows: True while a kept ``x[mask]`` records the gather of its rows
            (``_selection.Selected``): indexing by the mask then takes its plain path.
        step_follows: trie states at which a ``no_grad`` block's exit was followed by
            the flush of a backward: its work waits for that step's program there.
        early: the split step (``_split.Split``) last flushed from each trie state at
            which a step's first backward was recorded, where its forward program reads
            only what comes before: the next ``backward()`` from that state starts it.
    """

    def __init__(self, options: Options | None = None) -> None:
        self.options = Options() if options is None else options
        self.tape = Tape(self)
        self.trie: dict[tuple[Any, ...], Hit] = {}
        # (op, static, input avals) -> output avals: a node's shapes wherever it is met
        self.shapes: dict[tuple[Any, ...], tuple[Aval | None, ...]] = {}
        # a window's static part -> (the shape of the value it was last taken of, how
        # many times in a row that shape changed): see ``_graph._window_of_value``
        self.window_shapes: dict[tuple[Any, ...], tuple[tuple[int, ...], int]] = {}
        self.next_state = 1
        self.grad_enabled = True
        self.reads = 0
        self.step_reads = -1
        self.cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.stats = CompileStats()
        self.history: list[tuple[tuple[Any, ...], list[Any]]] = []
        self.recent: deque[bool] = deque(maxlen=RECENT_FLUSHES)
        self.new_steps = 0  # training steps in a row that compiled a new structure
        self.eager_steps: list[bool] = []  # whether each recent step run op by op was new
        self.eager_for_steps = False  # the fallback came from eager_after_steps
        self.eager_seen: set[tuple[Any, ...]] = set()
        self.windows: Any = None  # op-by-op windows compiled so far (see ``_eager``)
        self.scalars = Scalars()
        self.early: dict[int, Any] = {}
        self.long_seen: set[tuple[Any, ...]] = set()  # structures run as windows once
        self.layers: dict[tuple[Any, ...], Any] = {}
        # (structure, loss reference) -> the slots its backward saves (see ``_saved``)
        self.saved: dict[tuple[int, int], frozenset[int]] = {}
        # (structure, create_graph node) -> which of its inputs its gradients read and
        # which of them require grad (see ``autograd.higher``)
        self.grads_needed: dict[tuple[Any, ...],
                                tuple[tuple[bool, ...], tuple[bool, ...]]] = {}
        self.exit_flushed: int | None = None
        self.step_follows: set[int] = set()
        self.warned: set[str] = set()
        self.taking_rows = False
        # storage -> the arrays its ``numpy()`` handed out (see ``_numpy_views``), and
        # whether any was: in-place writes look the storage up only then
        self.numpy_views: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self.numpy_handed = False

    def new_tape(self) -> Tape:
        """Starts an empty tape and makes it the current one."""
        self.tape = Tape(self)
        return self.tape

    def advance(self, key: tuple[Any, ...], avals: tuple[Aval | None, ...],
                extra: Any = None) -> Hit:
        """Adds a new structure to the trie: ``key`` leads to a fresh state whose node
        has output ``avals`` (and ``extra``, kept with the structure)."""
        if len(self.trie) > TRIE_LIMIT:
            self.trie.clear()
        self.next_state += 1
        hit = (self.next_state, avals, extra)
        self.trie[key] = hit
        return hit

    def reset_compile_stats(self) -> None:
        """Zeroes the counters and empties the cache (compiled functions are dropped)."""
        self.cache.clear()
        self.early.clear()
        self.long_seen.clear()
        self.step_follows.clear()
        self.exit_flushed = None
        self.history.clear()
        self.recent.clear()
        self.new_steps = 0
        self.eager_steps.clear()
        self.eager_for_steps = False
        self.eager_seen.clear()
        self.step_reads = -1
        self.stats = CompileStats()
        self.windows = None


# the default is one shared recorder on purpose: every thread and context that did not
# set its own records on it, so that a tensor made in one thread is usable in another
_current: contextvars.ContextVar[Recorder] = contextvars.ContextVar(
    "fnnet_torch_recorder", default=Recorder())  # noqa: B039

#: the recorder in use (a fast bound method: recording calls it for every op)
current = _current.get


def activate(recorder: Recorder) -> contextvars.Token[Recorder]:
    """Makes ``recorder`` the one in use; returns the token :func:`restore` takes."""
    return _current.set(recorder)


def restore(token: contextvars.Token[Recorder]) -> None:
    """Puts back the recorder that was in use before :func:`activate` gave ``token``."""
    _current.reset(token)
