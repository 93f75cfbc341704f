"""Waiting for a device's work, and timing it with events (``torch.cuda.synchronize``,
``torch.cuda.Event``).

JAX dispatches programs asynchronously and fnnet.torch records ops before it compiles
them, so a wait first computes what has been recorded, then waits for every array JAX
holds: the programs that make them have all finished.
"""

from __future__ import annotations

import time
from typing import Any

import jax

from fnnet.torch._flush import maybe_flush
from fnnet.torch._gpus import gpus


def wait_for_device() -> None:
    """Computes the recorded work and waits until every live array is ready."""
    maybe_flush()
    jax.effects_barrier()
    jax.block_until_ready(jax.live_arrays())


class Event:
    """``torch.cuda.Event`` on JAX's GPU: ``record()`` waits for the work queued before it
    (see :func:`wait_for_device`) and reads the host's clock, so ``elapsed_time`` is the
    wall time between two records, in milliseconds. The tutorials' timing idiom (record,
    run, record, ``torch.cuda.synchronize()``, ``start.elapsed_time(end)``) measures the
    work between the records, as PyTorch's events do on the GPU's stream.

    Args:
        enable_timing: whether ``elapsed_time`` may be asked of this event.
        blocking, interprocess: PyTorch's options; a record waits either way.

    Raises:
        RuntimeError: JAX has no GPU (PyTorch's CPU build's words).
    """

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False) -> None:
        del blocking, interprocess
        if not gpus():
            raise RuntimeError("Tried to instantiate dummy base class Event")
        self.enable_timing = bool(enable_timing)
        self._at: float | None = None

    def record(self, stream: Any = None) -> None:
        del stream
        wait_for_device()
        self._at = time.perf_counter()

    def query(self) -> bool:
        """True: a recorded event's work is done once ``record`` returns."""
        return True

    def synchronize(self) -> None:
        """Nothing left to wait for (``record`` waited)."""

    def wait(self, stream: Any = None) -> None:
        """JAX runs a device's programs in order: no stream waits for another."""
        del stream

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds from this event's record to ``end_event``'s.

        Raises:
            RuntimeError: an event made without ``enable_timing``, or not recorded yet
                (PyTorch's words).
        """
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument "
                               "'enable_timing=True'.")
        if self._at is None or end_event._at is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed "
                               "time.")
        return (end_event._at - self._at) * 1000.0

    def __repr__(self) -> str:
        return f"<torch.cuda.Event {id(self):#x}>"
