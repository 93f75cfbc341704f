"""A step whose loss is read every step, run as two compiled programs (:class:`Split`)."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fnnet.core.transfer import copy_to_device
from fnnet.torch._replay import Plan, build
from fnnet.torch._tape import WRITEBACK, Tape, slot_of

#: calls a split runs as one program before its forward program is first run
#: (and compiled): a loop of a few steps never compiles it
DEFER_CALLS = 10
#: calls of a split in two programs (the first compiles the forward one)
#: before either way is timed
WARMUP_CALLS = 3
#: timed calls each way before a split keeps the faster (by their lower
#: quartile: a shared machine's noise only ever lengthens an interval)
TRIAL_CALLS = 12
#: calls in a row each way while timing; only the intervals between two calls of a block
#: are timed, never one that starts or ends at a switch: its first call waits for work
#: the other way left on the device, and a split's last call leaves its step behind
BLOCK = 5
#: calls in the kept way before a split times both again; doubled each time the
#: same way wins again (up to :data:`MAX_RETRIAL_AFTER`), reset when the other wins
RETRIAL_AFTER = 64
MAX_RETRIAL_AFTER = 4096


def trial_length() -> int:
    """Calls of a split from its first until it has decided its way (under
    steady timings)."""
    return DEFER_CALLS + WARMUP_CALLS + 2 * BLOCK * -(-TRIAL_CALLS // (BLOCK - 2)) + 1

#: ``jit(fn, donate_argnums)``: how a program is compiled
Jit = Callable[[Callable[..., list[Any]], tuple[int, ...]], Callable[..., list[Any]]]


class Split:
    """A step run as two compiled programs, so that its forward values come early.

    ``forward`` computes the values wanted before any backward (the loss, a model's
    output, new BatchNorm statistics); ``step`` computes the whole step again and
    returns the rest (gradients, new parameters, optimizer state). ``loss.item()`` waits
    for ``forward`` alone, and the loop's next iteration is recorded while ``step``
    runs, so that a training loop that reads its loss every step overlaps its Python
    with the backward pass and the update instead of waiting for them. The forward pass
    is computed twice: handing the second program the values its backward needs (each
    backward's vjp) instead was measured no faster at the sizes that are split, its
    values becoming outputs of the first (benchmarks/RESULTS.md).

    Where ``forward`` reads only what is recorded before the step's first
    ``backward()`` (:attr:`starts_at`), the flush leaves the recorder a note, and the next
    step's ``backward()`` from the same structure calls :meth:`start`, which runs
    ``forward`` there: the loss is computed while Python records the backward pass and
    the optimizer's update, and the flush then dispatches ``step`` alone.

    Calling a ``Split`` with all the tape's sources returns the wanted values in order,
    as one program's function does.

    ``step`` is the whole step as one program (it takes every source and returns every
    wanted value), so a loop that stops reading its loss (or never read it past the
    first step, which is split before the loop can show whether it reads) runs ``step``
    alone without compiling again; the early values it returns again cost one output
    each.

    Whether the split pays depends on the machine: the forward pass computed twice
    against the Python it lets run beside the step. So a split runs ``step``
    alone for its first :data:`DEFER_CALLS` calls (a short loop never compiles
    ``forward``), then times the loop's iterations both ways (the time from one call to
    the next) after :data:`WARMUP_CALLS`, in alternating blocks of :data:`BLOCK` calls
    each way, leaving out the intervals that start or end at a switch, until each way has
    :data:`TRIAL_CALLS` times, and then keeps the faster by the lower quartile of
    its times (``mode``: True for two programs, False for ``step`` alone). The
    answer changes with the load beside the loop (the split needs a core for the step
    while Python records the next one), so the kept way is timed against the other
    again after :data:`RETRIAL_AFTER` calls, then at doubling intervals while it keeps
    winning.
    """

    def __init__(self, forward: Callable[..., list[Any]], step: Callable[..., list[Any]],
                 forward_sources: tuple[int, ...], early: tuple[int, ...], n_wanted: int,
                 starts_at: int | None = None) -> None:
        self.forward, self.step = forward, step
        self._forward_sources = forward_sources
        #: the trie state at the step's first ``backward()``, where ``forward`` reads
        #: nothing recorded after it (``start`` can run it from there), else None
        self.starts_at = starts_at
        # set by ``start``: (the forward sources, this call's mode, early values or None,
        # host sources copied to the device: forward-source position -> array)
        self._started: tuple[list[Any], bool, list[Any] | None, dict[int, Any]] | None = None
        self.mode: bool | None = None  # None: still timing both
        self._calls = 0
        # the last call's mode and time, and whether its interval to this call counts
        self._last: tuple[bool, float, bool] | None = None
        self._times: tuple[list[float], list[float]] = ([], [])  # (whole, split)
        self._kept = 0  # calls since the last decision
        self._previous: bool | None = None  # the decision before the current trial
        self._retrial_after = RETRIAL_AFTER
        # wanted value i is item order[i] of the step's values followed by the early ones
        position = {i: i for i in range(n_wanted)}
        position.update({i: n_wanted + k for k, i in enumerate(early)})
        self._order = [position[i] for i in range(n_wanted)]

    def start(self, sources: list[Any]) -> None:
        """Runs the forward program now, at the step's first ``backward()``, from the
        sources recorded so far (``sources``: the tape's, up to its first backward), so
        that the loss is computed while Python records the backward pass and the
        optimizer's update; the call that follows with the same forward sources uses its
        values. Decides this call's mode (see ``__call__``) first: one program runs
        nothing here."""
        forward_sources = [sources[i] for i in self._forward_sources]
        split = self._mode()
        early, on_device = None, {}
        if split:
            on_device = self._on_device(forward_sources)
            early = self.forward(*[on_device.get(k, v) for k, v in enumerate(forward_sources)])
        self._started = (forward_sources, split, early, on_device)

    def __call__(self, *sources: Any) -> list[Any]:
        started, self._started = self._started, None
        if started is not None and all(
                sources[i] is v for i, v in zip(self._forward_sources, started[0], strict=True)):
            split, early, on_device = started[1], started[2], started[3]
        else:
            split, early, on_device = self._mode(), None, None
        if not split:
            return self.step(*sources)
        # a host batch (read by both programs) reaches the device once, before them
        if on_device is None:
            on_device = self._on_device([sources[i] for i in self._forward_sources])
        if on_device:
            moved = {self._forward_sources[k]: v for k, v in on_device.items()}
            sources = tuple(moved.get(i, v) for i, v in enumerate(sources))
        if early is None:
            early = self.forward(*[sources[i] for i in self._forward_sources])
        values = [*self.step(*sources), *early]
        return [values[k] for k in self._order]

    def _mode(self) -> bool:
        """This call's mode: True for two programs (see the class docstring)."""
        if self.mode is not None:
            self._kept += 1
            if self._kept > self._retrial_after:
                self._retrial()
        return self.mode if self.mode is not None else self._trial()

    def _on_device(self, forward_sources: list[Any]) -> dict[int, Any]:
        """The host (numpy) arrays among ``forward_sources`` copied to the device, by
        position (the step reads them too)."""
        host = [k for k, v in enumerate(forward_sources) if type(v) is np.ndarray]
        if not host:
            return {}
        return dict(zip(host, copy_to_device([forward_sources[k] for k in host]), strict=True))

    def _retrial(self) -> None:
        """Starts timing both ways again (both programs are compiled: no warm-up)."""
        self._previous, self.mode = self.mode, None
        self._calls = DEFER_CALLS + WARMUP_CALLS
        self._last = None
        self._times = ([], [])

    def _trial(self) -> bool:
        """The mode of this call while both are timed; decides once both have
        :data:`TRIAL_CALLS` times."""
        now = time.perf_counter()
        whole, split = self._times
        if len(whole) >= TRIAL_CALLS and len(split) >= TRIAL_CALLS:
            self.mode = _lower_quartile(split) < _lower_quartile(whole)
            if self.mode is self._previous:
                self._retrial_after = min(2 * self._retrial_after, MAX_RETRIAL_AFTER)
            else:
                self._retrial_after = RETRIAL_AFTER
            self._kept = 0
            return self.mode
        self._calls += 1
        if self._calls <= DEFER_CALLS + WARMUP_CALLS:  # not timed
            self._last = None
            return self._calls > DEFER_CALLS
        k = self._calls - DEFER_CALLS - WARMUP_CALLS - 1
        mode = k // BLOCK % 2 == 0
        # the interval from the last call counts where both are of this block
        if self._last is not None and self._last[2] and self._last[0] is mode:
            self._times[mode].append(now - self._last[1])
        self._last = (mode, now, k % BLOCK != 0)
        return mode


def _lower_quartile(times: list[float]) -> float:
    return statistics.quantiles(times, n=4)[0]


def build_split(tp: Tape, wanted: tuple[int, ...], donate: tuple[int, ...], jit: Jit,
                split_bytes: int) -> Split | None:
    """The step of ``tp`` as a :class:`Split`, or None where splitting gains nothing:
    no backward, no wanted value computed before one (nothing to read early), more than
    ``split_bytes`` of differentiated values, or a batch that is still a host array.

    ``jit(fn, donate_argnums)`` compiles each program; ``donate`` indexes the sources.
    """
    if not tp.backward:
        return None
    owner = tp.node_of_slot()
    late: set[int] = set()  # the backward nodes and every node that depends on one
    for n, node in enumerate(tp.nodes):
        if n in tp.backward or any(r >= 0 and owner[slot_of(r)] in late
                                   for r in node.inputs):
            late.add(n)
    early = tuple(i for i, s in enumerate(wanted) if owner[s] not in late)
    # a multi-output op's left-out output (None: attention's weights) holds no bytes
    region_bytes = sum(math.prod(aval[0]) * aval[1].itemsize
                       for info in tp.backward.values() for s in info[2]
                       if (aval := tp.avals[s]) is not None)
    if not early or len(early) == len(wanted) or region_bytes > split_bytes:
        return None
    forward = Plan(tp, tuple(wanted[i] for i in early))
    # the state at the first backward, if the forward program reads nothing after it
    before = tp.before_backward
    starts_at = before[0] if before is not None and max(forward.order) < before[2] and \
        max(forward.sources, default=-1) < before[1] else None
    # the step donates what it replaces; values the forward pass replaces (BatchNorm's
    # running statistics) are read by both programs and not donated, by the whole step
    # either: it can then run alone, so a short loop never compiles the forward program
    replaced_late = tuple(i for i in donate if tp.src_owner[i] is WRITEBACK or (
        tp.src_owner[i].tape is tp and owner[tp.src_owner[i].ref] in late))
    return Split(jit(forward.function(), ()), jit(build(tp, wanted), replaced_late),
                 forward.sources, early, len(wanted), starts_at=starts_at)
