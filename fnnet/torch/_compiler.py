"""Turning what fnnet.torch records into computed values: the entry points.

The work is split by job: ``_replay`` builds the pure function of a tape, ``_split``
runs a step whose loss is read every step as two programs, ``_cache`` compiles and
caches one function per structure (``compile_stats``), ``_flush`` computes the live
values of the tape and starts the next one. Their state (the tape, the cache, its
statistics and options) lives in the current :class:`~fnnet.torch._recorder.Recorder`;
:func:`fresh` runs a block with a recorder of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from fnnet.torch._cache import compile_stats, reset_compile_stats
from fnnet.torch._flush import NOT_RETAINABLE, can_flush, flush, materialize, maybe_flush
from fnnet.torch._recorder import Options, Recorder, activate, current, restore
from fnnet.torch._replay import build
from fnnet.torch._split import Split

__all__ = ["NOT_RETAINABLE", "Options", "Recorder", "Split", "build", "can_flush",
           "compile_stats", "current", "flush", "fresh", "materialize", "maybe_flush",
           "reset_compile_stats"]


@contextlib.contextmanager
def fresh(**options: Any) -> Iterator[Recorder]:
    """Runs the block with a fresh recorder: an empty tape, trie and compile cache.

    Args:
        **options: fields of :class:`~fnnet.torch._recorder.Options` to change, e.g.
            ``eager_after=3`` or ``split=False``.

    Yields:
        The new recorder. On leaving the block its pending work is computed, so that
        tensors recorded inside keep their values, and the previous recorder is back.

    Raises:
        TypeError: an option that :class:`~fnnet.torch._recorder.Options` does not have.
    """
    recorder = Recorder(Options(**options))
    token = activate(recorder)
    try:
        yield recorder
        if recorder.tape.nodes:
            flush("value")
    finally:
        restore(token)
