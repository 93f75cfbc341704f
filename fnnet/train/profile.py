"""Where a run's time goes: fnnet's own phase timers, and ``jax.profiler`` traces.

:class:`PhaseTimer` adds up wall-clock seconds per phase of ``fit``'s loop;
:class:`StepProfiler` records a trace of a few steady-state steps that TensorBoard's
profile plugin or Perfetto opens.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import time
from typing import Any

import jax

#: the phases of a run, in the order the summary prints them
PHASES = ("compile", "data", "step", "host sync", "evaluation", "checkpoint", "logging")
#: steps run before a trace starts, so that it shows the steady state (not compilation)
PROFILE_WARMUP_STEPS = 5
#: the name of each traced step (``jax.profiler.StepTraceAnnotation``)
STEP_NAME = "train_step"


class PhaseTimer:
    """Seconds spent in each phase of :data:`PHASES`.

    ``step`` is the time to hand a step to XLA (the first step's, its compilation, is
    ``compile``): steps run asynchronously, so their computation is mostly seen as
    ``host sync``, the wait for their metrics.
    """

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.start = time.perf_counter()

    def add(self, phase: str, since: float) -> float:
        """Adds the time from ``since`` to now to ``phase``; returns now."""
        now = time.perf_counter()
        self.seconds[phase] += now - since
        return now

    def summary(self) -> str:
        """One line: ``time: compile 0.61 s, data 0.02 s, ... of 3.40 s``."""
        total = time.perf_counter() - self.start
        parts = [f"{phase} {seconds:.2f} s" for phase, seconds in self.seconds.items()]
        return f"time: {', '.join(parts)} (of {total:.2f} s)"


class StepProfiler:
    """Traces ``steps`` training steps with ``jax.profiler`` into ``logdir``.

    The trace starts after :data:`PROFILE_WARMUP_STEPS` steps of the run (or at once
    if the run is shorter) and covers ``steps`` steps, each marked as a
    :data:`STEP_NAME` step; it lands in ``logdir/plugins/profile/<time>/`` as
    ``<host>.xplane.pb`` (TensorBoard's profile plugin) and ``<host>.trace.json.gz``
    (Perfetto, ``chrome://tracing``).

    Args:
        logdir: the run's folder.
        steps: how many steps to trace.
        first_step: steps taken before the run (a resumed run's).
        total_steps: the run's last step, when known (to start early in a short run).
    """

    def __init__(self, logdir: str | os.PathLike[str], steps: int, first_step: int,
                 total_steps: int | None = None) -> None:
        self.logdir = pathlib.Path(logdir)
        self.steps = steps
        start = first_step + PROFILE_WARMUP_STEPS
        if total_steps is not None:
            start = max(first_step, min(start, total_steps - steps))
        self.start = start
        self.active = False
        self.done = False
        self.traced = 0

    def before(self, step: int, state: Any) -> contextlib.AbstractContextManager[Any]:
        """Called before the step that follows ``step`` steps; starts the trace when due
        and returns the context to run the step in."""
        if not self.done and not self.active and step >= self.start:
            jax.block_until_ready(state)  # the trace holds these steps alone
            self.logdir.mkdir(parents=True, exist_ok=True)
            jax.profiler.start_trace(str(self.logdir))
            self.active = True
        if self.active:
            return jax.profiler.StepTraceAnnotation(STEP_NAME, step_num=step)
        return contextlib.nullcontext()

    def after(self, steps: int, state: Any) -> None:
        """Called after a call that ran ``steps`` steps; stops the trace when complete."""
        if self.active:
            self.traced += steps
            if self.traced >= self.steps:
                self.stop(state)

    def stop(self, state: Any) -> None:
        """Ends the trace once the traced steps have run (at the run's end, too)."""
        if self.active:
            jax.block_until_ready(state)
            jax.profiler.stop_trace()
            self.active = False
            self.done = True
