"""TensorBoard event files, written with tensorboardX.

tensorboardX is the writer: it needs only numpy and protobuf (no TensorFlow, no
``tensorboard`` server package), so it is a core dependency and ``fnnet train`` writes
event files on a plain install. :mod:`fnnet.train.callbacks`, the shim's
``SummaryWriter`` and ``fnnet compare`` all write through it.
"""

from __future__ import annotations

import collections
import importlib
import logging
import os
import pathlib
import re
import sys
import threading
import time
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np

#: the names of the files TensorBoard reads in a run folder
EVENT_FILE_GLOB = "events.out.tfevents.*"


class _Sequence:
    """The last sequence number this process put in an event file's name, and its lock:
    two threads' names differ, and a file that replaces a deleted one in the same second
    never takes its name (a running TensorBoard would go on reading the new file from
    the old one's length)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = -1


_SEQUENCE = _Sequence()
#: seconds between two wake-ups of an event file's thread
WAKE_SECONDS = 1.0


class _CalledByFnnet(logging.Filter):
    """Drops tensorboardX's warning "NaN or Inf found in input tensor." where fnnet's
    code made the call: PyTorch's writer takes such values without a word (a histogram
    counts them apart), and a diverged run's histograms would print it at every call.
    Other callers of tensorboardX keep it."""

    def filter(self, record: logging.LogRecord) -> bool:
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_globals.get("__name__", "").startswith("fnnet."):
                return False
            frame = frame.f_back  # type: ignore[assignment]
        return True


def tensorboardx() -> ModuleType:
    """The ``tensorboardX`` module, imported without PyTorch.

    tensorboardX imports ``torch`` (when it is installed) only to accept its tensors,
    which fnnet never passes; that import takes seconds, so unless the program has
    already imported PyTorch, it is hidden while tensorboardX loads.
    """
    nan_check = logging.getLogger("tensorboardX.x2num")
    if not any(isinstance(f, _CalledByFnnet) for f in nan_check.filters):
        nan_check.addFilter(_CalledByFnnet())
    if "tensorboardX" in sys.modules or "torch" in sys.modules:
        return importlib.import_module("tensorboardX")
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` then fails
    try:
        return importlib.import_module("tensorboardX")
    finally:
        del sys.modules["torch"]


def _new_suffix(logdir: str | os.PathLike[str]) -> str:
    """The end of a new event file's name, ``.<sequence>.<pid>``, whose name sorts after
    every file fnnet wrote in ``logdir`` before (whatever ``filename_suffix`` follows
    it there).

    TensorBoard reads a folder's files in the order of their names, which begin with
    the second they were opened: two files opened in one second (a run that crashed
    and was resumed at once, or two writers of one process) would otherwise be read in
    the order of their process ids and counters, and a resumed run's events be dropped
    as those of a session that an earlier one restarted.
    """
    # events.out.tfevents.<second>.<host>.<sequence>.<pid><the writer's filename_suffix>
    pattern = re.compile(r"^events\.out\.tfevents\.\d+\..+?\.(\d{6})\.\d+")
    found = (pattern.match(path.name) for path in pathlib.Path(logdir).glob(EVENT_FILE_GLOB))
    after = max((int(match.group(1)) for match in found if match), default=-1)
    with _SEQUENCE.lock:
        _SEQUENCE.last = max(after, _SEQUENCE.last) + 1
        return f".{_SEQUENCE.last:06d}.{os.getpid()}"


def check_flush_secs(flush_secs: Any) -> float:
    """``flush_secs`` once it is a positive number of seconds.

    Raises:
        ValueError: anything else (0 would write to disk at every wake-up, a string or
            NaN fail only in the writing thread, at the next call).
    """
    if not isinstance(flush_secs, int | float) or isinstance(flush_secs, bool) \
            or not flush_secs > 0 or flush_secs == float("inf"):
        raise ValueError(f"flush_secs must be a positive number of seconds, got "
                         f"{flush_secs!r}")
    return float(flush_secs)


def file_writer(logdir: str | os.PathLike[str], *, flush_secs: float = 10.0) -> EventFileThread:
    """An :class:`EventFileThread` writing a new event file in ``logdir``."""
    return EventFileThread(logdir, flush_secs=flush_secs)


class EventFileThread:
    """Appends events to a new event file in ``logdir`` from a thread of its own.

    :meth:`add_scalars`, :meth:`add_histogram` and :meth:`add_summary` only append their
    values to a queue: building each event, its checksums and the writes (tens of
    microseconds an event in Python) happen in the thread, which wakes every
    :data:`WAKE_SECONDS` (not at every event, which would hand it the GIL in the middle
    of the training loop's work), on :meth:`flush` and on :meth:`close`. The file is
    written to disk every ``flush_secs`` and by :meth:`flush`; an error in the thread is
    raised by the next call.

    Args:
        logdir: the folder (created if needed).
        flush_secs: seconds between writes to disk.
    """

    def __init__(self, logdir: str | os.PathLike[str], *, flush_secs: float = 10.0) -> None:
        flush_secs = check_flush_secs(flush_secs)
        tensorboardx()
        from tensorboardX.event_file_writer import EventsWriter

        pathlib.Path(logdir).mkdir(parents=True, exist_ok=True)
        self._file = EventsWriter(os.path.join(str(logdir), "events"), _new_suffix(logdir))
        self.path = pathlib.Path(getattr(self._file, "_file_name", logdir))
        self._queue: collections.deque[Any] = collections.deque()  # appends are thread-safe
        self._wake = threading.Event()
        self._flush_secs = flush_secs
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fnnet-events", daemon=True)
        self._thread.start()

    def add_scalars(self, scalars: Mapping[str, float], global_step: int) -> None:
        """Queues ``{tag: value}`` to be written as one event at ``global_step``."""
        self._raise()
        self._queue.append((scalars, global_step, time.time()))

    def add_histogram(self, tag: str, values: Any, global_step: int, bins: int) -> None:
        """Queues a histogram of the numpy array ``values`` in ``bins`` buckets (computed
        in the thread)."""
        self._raise()

        def summary() -> Any:
            from tensorboardX.summary import histogram

            return histogram(tag, values.astype(np.float64), bins)

        self._queue.append((summary, global_step, time.time()))

    def add_summary(self, summary: Any, global_step: int, walltime: float | None = None) -> None:
        """Queues a ``Summary`` protobuf to be written at ``global_step``."""
        self._raise()
        self._queue.append((summary, global_step, time.time() if walltime is None else walltime))

    def purge_from(self, step: int) -> None:
        """Marks a session's start at ``step``: the ``SessionLog.START`` event that
        PyTorch's ``SummaryWriter(purge_step=...)`` writes. TensorBoard takes a run's
        first one for its start and each later one for a restart, and drops the events
        of the run's earlier files from that step on."""
        self._raise()
        self._queue.append(("start", step, time.time()))

    def flush(self) -> None:
        """Returns once everything queued so far is on disk."""
        done = threading.Event()
        self._queue.append(done)
        self._wake.set()
        while not done.wait(1.0):
            if not self._thread.is_alive():
                break
        self._raise()

    def close(self) -> None:
        """Writes what is queued and closes the file."""
        if self._thread.is_alive():
            self._queue.append(None)
            self._wake.set()
            self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"writing {self.path} failed: {error}") from error

    def _run(self) -> None:
        from tensorboardX.proto.event_pb2 import Event, SessionLog

        last_flush = time.monotonic()
        try:
            while True:
                self._wake.wait(WAKE_SECONDS)
                self._wake.clear()
                while self._queue:
                    item = self._queue.popleft()
                    if item is None:
                        return
                    if isinstance(item, threading.Event):
                        self._file.flush()
                        last_flush = time.monotonic()
                        item.set()
                        continue
                    summary, step, walltime = item
                    event = Event(wall_time=walltime, step=step)
                    if summary == "start":
                        event.session_log.status = SessionLog.START
                        self._file.write_event(event)
                        continue
                    if callable(summary):
                        summary = summary()
                    if isinstance(summary, Mapping):
                        for tag, value in summary.items():
                            event.summary.value.add(tag=tag, simple_value=value)
                    else:
                        event.summary.CopyFrom(summary)
                    self._file.write_event(event)
                if time.monotonic() - last_flush > self._flush_secs:
                    self._file.flush()
                    last_flush = time.monotonic()
        except BaseException as error:  # handed to the caller's next call
            self._error = error
            for item in self._queue:  # release flush() callers
                if isinstance(item, threading.Event):
                    item.set()
        finally:
            try:
                self._file.close()
            except OSError as error:
                self._error = self._error or error


def scalars_summary(scalars: Mapping[str, float]) -> object:
    """One ``Summary`` protobuf holding every ``tag: value`` (one event for all)."""
    tensorboardx()
    from tensorboardX.proto.summary_pb2 import Summary

    return Summary(value=[Summary.Value(tag=tag, simple_value=float(value))
                          for tag, value in scalars.items()])


def remove_event_files(folder: str | os.PathLike[str]) -> int:
    """Deletes the event files directly in ``folder`` (not in subfolders), so that a new
    run written there is not mixed with an earlier one; returns how many it deleted."""
    path = pathlib.Path(folder)
    if not path.is_dir():
        return 0
    removed = 0
    for file in path.glob(EVENT_FILE_GLOB):
        if file.is_file():
            file.unlink()
            removed += 1
    return removed
