"""At most one multi-device program in flight at a time on CPU devices.

XLA's CPU runtime can deadlock when two programs with collectives run at once on several
CPU devices of one process (simulated with ``--xla_force_host_platform_device_count``):
the per-device parts of the later program take the worker threads and wait at its
all-reduce while parts of the earlier one, starved of threads, never reach theirs. The
run then aborts after XLA's 40 s rendezvous timeout. It shows with jax 0.10 on a
machine with fewer cores than simulated devices, after tens to hundreds of
back-to-back steps, with ``pmap`` and ``shard_map`` alike; waiting for each step before
launching the next avoids it. GPUs and TPUs are unaffected and never wait here.

So the data-parallel steps of :mod:`fnnet.parallel` on CPU devices wait for the
previous one (any of them) to finish before launching, which still lets the host
prepare the next batch while a step runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jax

_pending: list[Any] = []


def needs_serializing(devices: Iterable[jax.Device]) -> bool:
    """True for several CPU devices (where overlapping collectives can deadlock)."""
    devices = list(devices)
    return len(devices) > 1 and any(d.platform == "cpu" for d in devices)


def wait_for_previous() -> None:
    """Blocks until the last program launched through :func:`serialized` is done."""
    leaves = [x for x in jax.tree.leaves(_pending)
              if isinstance(x, jax.Array) and not x.is_deleted()]
    _pending.clear()
    if leaves:
        jax.block_until_ready(leaves)


def serialized(fn: Callable[..., Any], devices: Iterable[jax.Device]) -> Callable[..., Any]:
    """``fn`` itself, or on several CPU devices ``fn`` launched only once the previous
    serialized program has finished."""
    if not needs_serializing(devices):
        return fn

    def run(*args: Any, **kwargs: Any) -> Any:
        wait_for_previous()
        out = fn(*args, **kwargs)
        _pending.append(out)
        return out

    return run
