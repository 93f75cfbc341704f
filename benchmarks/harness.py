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


def time_step(name: str, step: Callable[[int], object], sync: Callable[[object], object],
              *, warmup: int = 20, steps: int = 200, repeats: int = 1) -> Timing:
    """Times ``step(i)``; ``sync(result)`` waits for the result to be computed.

    Args:
        name: label in the table.
        step: runs step ``i`` and returns something ``sync`` can wait on.
        sync: e.g. ``jax.block_until_ready``; for PyTorch on the CPU, ``lambda r: r``.
        warmup: calls before timing; the first is reported as the compile time.
        steps: timed calls.
        repeats: steps are timed one by one this many rounds; medians over all.
    """
    start = time.perf_counter()
    sync(step(0))
    first = time.perf_counter() - start
    for i in range(1, warmup):
        sync(step(i))
    samples = []
    for _ in range(repeats):
        for i in range(steps):
            t0 = time.perf_counter()
            sync(step(i))
            samples.append((time.perf_counter() - t0) * 1e3)
    q = np.percentile(samples, [10, 90])
    return Timing(name, statistics.median(samples), float(q[0]), float(q[1]), first)


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
