"""Timing helpers shared by every benchmark script: same inputs, steady state, medians.

A step function is timed by running it ``warmup`` times (the first call's time is kept
apart as the compile time), then ``steps`` times, each ended by ``block_until_ready``
(or the framework's equivalent, passed as ``sync``); the median of those is reported.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# The first calls' times are compiles, as in a first run: fnnet.torch's cache of compiled
# programs on disk (fnnet.core.disk_cache) would load them from an earlier run instead.
os.environ.setdefault("FNNET_COMPILATION_CACHE", "0")


@dataclass
class Timing:
    """Steady-state milliseconds per step (median and spread) and first-call seconds."""

    name: str
    median_ms: float
    p10_ms: float
    p90_ms: float
    first_call_s: float

    def ratio_to(self, baseline: Timing) -> float:
        """How many times faster than ``baseline`` (> 1 means faster)."""
        return baseline.median_ms / self.median_ms


#: seconds of quiet before each round of a case's steps
SETTLE_S = 0.05


def settle() -> None:
    """Waits for the last case's background threads to go idle before the next is timed.

    PyTorch's OpenMP workers spin for milliseconds after their last parallel region
    (that is what makes its next op start fast), and a jax step may still be running
    when its loop returns. Timed at once, the next case would share the cores with them:
    a step that overlaps its Python with its compute (fnnet.torch) loses most.
    """
    time.sleep(SETTLE_S)


def time_steps(cases: dict[str, tuple[Callable[[int], object], Callable[[object], object]]],
               *, warmup: int = 20, steps: int = 200, rounds: int = 5) -> list[Timing]:
    """Times several implementations of the same step, interleaved.

    Each case is ``name -> (step, sync)``: ``step(i)`` runs step ``i`` and returns
    something that ``sync`` waits on (``jax.block_until_ready``; for PyTorch on the CPU,
    ``lambda r: r``). Every case is warmed up first (its first call is reported as the
    compile time); then ``rounds`` rounds each time ``steps / rounds`` calls of every
    case in turn, so that a change in the machine's load hits all cases alike.

    Returns:
        One :class:`Timing` per case, in the order given.
    """
    first: dict[str, float] = {}
    for name, (step, sync) in cases.items():
        start = time.perf_counter()
        sync(step(0))
        first[name] = time.perf_counter() - start
        for i in range(1, warmup):
            sync(step(i))
    samples: dict[str, list[float]] = {name: [] for name in cases}
    per_round = max(1, steps // rounds)
    for r in range(rounds):
        for name, (step, sync) in cases.items():
            settle()
            for i in range(r * per_round, (r + 1) * per_round):
                t0 = time.perf_counter()
                sync(step(warmup + i))
                samples[name].append((time.perf_counter() - t0) * 1e3)
    timings = []
    for name, values in samples.items():
        q = np.percentile(values, [10, 90])
        timings.append(Timing(name, statistics.median(values), float(q[0]), float(q[1]),
                              first[name]))
    return timings


def versions() -> str:
    """One line of the versions that matter for the figures."""
    parts = [f"python {platform.python_version()}"]
    for module in ("jax", "jaxlib", "optax", "flax", "torch"):
        try:
            parts.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            pass
    return ", ".join(parts)


def machine() -> str:
    """A short description of the machine the figures come from."""
    import jax

    device = jax.devices()[0]
    cpu = platform.processor() or platform.machine()
    return (f"{os.cpu_count()} CPU cores ({cpu}), "
            f"JAX backend {device.platform} ({device.device_kind})")


def print_table(title: str, rows: Sequence[Timing], baseline: str,
                extra: Iterable[str] = ()) -> None:
    """Prints a Markdown table of ms/step, ratio to ``baseline`` and compile time."""
    base = next(r for r in rows if r.name == baseline)
    print(f"\n### {title}\n")
    print("| implementation | ms/step (median) | p10-p90 | speed vs " + baseline +
          " | first call (s) |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.name} | {r.median_ms:.3f} | {r.p10_ms:.3f}-{r.p90_ms:.3f} | "
              f"{r.ratio_to(base):.2f}x | {r.first_call_s:.2f} |")
    for line in extra:
        print(line)
