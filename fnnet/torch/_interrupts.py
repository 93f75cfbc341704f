"""Ctrl-C held back while a step that donated its inputs stores its results.

A compiled step donates the parameters and optimizer state it replaces: once it has run,
their old buffers are gone, and only its results hold the values. A ``KeyboardInterrupt``
raised between the step's return and the storing of its results (Python raises it at the
first bytecode after the step's C++ call returns, which is where a long step is
interrupted) would leave every parameter reading a deleted buffer, the model lost. Inside
``with DEFERRED:`` the interrupt waits until the block ends.

The first such block in the main thread puts :func:`_on_sigint` in front of Python's own
SIGINT handler, once: installing a handler per step would cost more than the step's
other bookkeeping. Outside a block it hands the signal straight to Python's handler; a
program that installed its own handler first keeps it, unguarded.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

_MAIN = threading.main_thread().ident


class _Deferred:
    """The context manager ``DEFERRED`` (reentrant; a no-op outside the main thread)."""

    __slots__ = ("depth", "pending", "previous", "tried")

    def __init__(self) -> None:
        self.depth = 0  # blocks open in the main thread
        self.pending = False  # a SIGINT came inside one
        self.previous: Any = None  # Python's handler, once ours is in front of it
        self.tried = False

    def __enter__(self) -> None:
        if threading.get_ident() != _MAIN:
            return
        if not self.tried:
            self.tried = True
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self.previous = signal.signal(signal.SIGINT, _on_sigint)
        self.depth += 1

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if threading.get_ident() != _MAIN:
            return
        self.depth -= 1
        if self.pending and not self.depth:
            self.pending = False
            if kind is None:
                raise KeyboardInterrupt


DEFERRED = _Deferred()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if DEFERRED.depth:
        DEFERRED.pending = True
    else:
        DEFERRED.previous(signum, frame)
