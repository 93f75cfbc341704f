"""Cross-process programs that give up after the process group's timeout.

A program whose collectives span processes (``torch.distributed``'s collectives,
DistributedDataParallel's step) blocks in JAX's runtime until every process has joined
it: a rank that has stopped, hangs, or runs other collectives would hold the others
forever. PyTorch's ``init_process_group(timeout=...)`` bounds that wait, and its gloo
backend raises ``RuntimeError`` (``Timed out waiting 8000ms for recv operation to
complete``, or ``Connection closed by peer`` where a rank crashed). So such a program
runs on one worker thread here while the caller waits at most the timeout; the clock
starts again after each trace or compilation of this process, so only the wait for the
other processes counts. After a failure JAX's collectives are out of step (the stuck
program still waits in the worker), so every later one raises at once, and the
process ends at exit with status 1 without waiting for the others.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import jax

#: words of a program's error (JAX's, from gloo or the coordinator) that mean that a
#: process was lost
_LOST = ("Gloo", "Connection closed", "connection closed", "coordination service",
         "Socket closed", "Connection reset")


class Limit:
    """The process's collective timeout, and the failure that broke its collectives.

    Attributes:
        seconds: the longest wait, in seconds, for the other processes (None: no limit,
            the programs run on the calling thread).
        failed: the message of the first timeout or lost connection, or None.
        clock: ``time.monotonic()`` at the end of the worker's last trace or
            compilation (the wait for the other processes starts there).
    """

    seconds: float | None = None
    failed: str | None = None
    clock = 0.0


class _Job:
    __slots__ = ("args", "call", "context", "done", "error", "result", "settle")

    def __init__(self, call: Callable[..., Any], args: tuple[Any, ...], settle: bool) -> None:
        self.call, self.args, self.settle = call, args, settle
        self.context = contextvars.copy_context()  # autocast and the recorder, as the caller's
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class _Worker:
    """The one daemon thread that runs the programs, started at the first one."""

    jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
    thread: threading.Thread | None = None


def _serve() -> None:
    while True:
        job = _Worker.jobs.get()
        try:
            job.result = job.context.run(job.call, *job.args)
            if job.settle:
                jax.block_until_ready(job.result)
        except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
            job.error = error
        job.done.set()
        del job


def _progress(event: str, *args: Any, **kwargs: Any) -> None:
    """A JAX trace, lowering or compilation ended: on the worker, the clock restarts."""
    del event, args, kwargs
    if threading.current_thread() is _Worker.thread:
        Limit.clock = time.monotonic()


def _start() -> None:
    jax.monitoring.register_event_duration_secs_listener(_progress)
    _Worker.thread = threading.Thread(target=_serve, name="fnnet-collectives", daemon=True)
    _Worker.thread.start()


def set_timeout(seconds: float | None) -> None:
    """Sets the limit of every later cross-process program (None: no limit) and forgets
    an earlier failure (a new process group)."""
    Limit.seconds, Limit.failed = seconds, None


#: the coordinator's keys under which processes that left the run are named, with why
_LEFT = "fnnet_left/"
#: the coordinator's keys under which each process names its machine and process id
_WHERE = "fnnet_process/"
#: seconds a program may still take to complete after one of its processes left: it
#: completes at once where that process had joined it before leaving
_LEFT_GRACE_SECONDS = 2.0
#: seconds between a waiting program's looks for a process that left the run: how
#: late a collective notices a peer that crashed or left
_LOOK_SECONDS = 0.1
#: why a process left, where destroy_process_group ended its part in the run
LEFT_CLEANLY = "left the run (destroy_process_group)"
#: the end of an error whose cause is another process's end (the launcher reads it)
CRASHED = "This is typically caused by another rank crashing; check its output"


def peer_gone(gone: tuple[int, str], before: str, cleanly: str = "") -> str:
    """gloo's words for a peer that closed its connections, with the rank and why
    (``gone``, from :func:`left_rank`), what it left undone (``before``), and what to
    do: ``cleanly`` where it left cleanly, else to look at its output."""
    rank, why = gone
    words = f"Connection closed by peer: rank {rank} {why} {before}"
    return f"{words}{cleanly}" if why == LEFT_CLEANLY else f"{words}. {CRASHED}"


def coordinator_client() -> Any:
    """JAX's coordination client of this process (its key-value store), or None outside
    a distributed run."""
    from jax._src import distributed

    return distributed.global_state.client


def announce_leaving(rank: int, why: str = LEFT_CLEANLY) -> None:
    """Tells the other processes, through JAX's coordinator, that this process left
    the run (``destroy_process_group``, or an uncaught exception: ``why``, in words
    after the rank): their programs and messages waiting for it then fail, as
    PyTorch's do when a peer closes its connections, instead of waiting for it."""
    client = coordinator_client()
    if client is not None:
        client.key_value_set(f"{_LEFT}{rank}", why)


def announce_raised(rank: int) -> None:
    """:func:`announce_leaving` for a process that ends at an uncaught exception (its
    exception hook), where the coordinator may be gone already."""
    try:
        announce_leaving(rank, "ended at an uncaught exception")
    except Exception:  # noqa: BLE001, S110 - the others then wait for their timeout
        pass


def _machine() -> str:
    """This machine's name and process-id namespace (containers of one machine may
    share its name, not their process ids)."""
    try:
        space = os.readlink("/proc/self/ns/pid")
    except OSError:
        space = ""
    return f"{socket.gethostname()}/{space}"


def announce_process(rank: int) -> None:
    """Names this process's machine and id in the coordinator's store, so that a peer
    on the same machine sees at once when it is killed (it cannot announce that)."""
    client = coordinator_client()
    if client is not None:
        client.key_value_set(f"{_WHERE}{rank}", f"{_machine()} {os.getpid()}")


class _Peers:
    """Where each peer runs, once read from the store: ``(machine, process id)``."""

    where: dict[int, tuple[str, int]] = {}


def _killed(client: Any, rank: int) -> bool:
    """Whether process ``rank`` ran on this machine and has ended (or is a zombie).
    Peers on other machines are not watched: a killed one fails the collectives through
    their connections, and a message's wait at its timeout."""
    where = _Peers.where.get(rank)
    if where is None:
        try:
            machine, _, pid = client.key_value_try_get(f"{_WHERE}{rank}").rpartition(" ")
        except Exception:  # noqa: BLE001 - not announced (yet): not watched
            return False
        where = _Peers.where[rank] = (machine, int(pid))
    machine, pid = where
    if machine != _machine():
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:  # Linux: a zombie's state is Z
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False


def left_rank(processes: frozenset[int]) -> tuple[int, str] | None:
    """The first of ``processes`` (other than this one) that left the run or was killed
    on this machine, with why in words, or None."""
    client = coordinator_client()
    if client is None or len(processes) < 2:
        return None
    try:
        named = client.key_value_dir_get(_LEFT)
    except Exception:  # noqa: BLE001 - a lost coordinator fails the program itself
        return None
    others = processes - {jax.process_index()}
    gone = {int(key.rpartition("/")[2]): why for key, why in named}
    gone = {rank: why for rank, why in gone.items() if rank in others}
    for rank in sorted(others - set(gone)):
        if _killed(client, rank):
            gone[rank] = "ended without leaving the run (killed?)"
    return min(gone.items()) if gone else None


def broken(message: str) -> RuntimeError:
    """Records the first failure, makes this process end without waiting for the others
    at exit, and returns the error to raise."""
    if Limit.failed is None:
        Limit.failed = message
        atexit.register(_end_now)
    return RuntimeError(message)


def _end_now() -> None:
    """The first exit handler to run (registered after JAX's): ends the process with
    status 1, the run having failed, before JAX's shutdown waits for processes that
    wait for this one."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


def run(call: Callable[..., Any], args: tuple[Any, ...], what: str, settle: bool,
        processes: frozenset[int] = frozenset()) -> Any:
    """``call(*args)``, a program whose collectives span ``processes``, waited for at
    most :attr:`Limit.seconds` beyond this process's own tracing and compilation, and
    not past one of ``processes`` leaving the run; ``settle``: until its results are
    computed too (on CPUs, where PyTorch's gloo collectives complete before they
    return; JAX may return before, and a read of the result would then wait without
    limit).

    Raises:
        RuntimeError: the wait timed out (PyTorch's gloo words: ``Timed out waiting
            {ms}ms for ...``), a process was lost or left, or an earlier one of these
            broke the collectives.
    """
    seconds = Limit.seconds
    if Limit.failed is not None:
        raise RuntimeError(f"{what}: the collectives of this process stopped at an earlier "
                           f"failure ({Limit.failed}); end the run and start it again")
    if seconds is None or threading.current_thread() is _Worker.thread:
        return call(*args)  # no limit, or a program started by one that runs (waited for)
    if _Worker.thread is None:
        _start()
    job = _Job(call, args, settle)
    Limit.clock = time.monotonic()
    _Worker.jobs.put(job)
    while not job.done.wait(min(_LOOK_SECONDS,
                                 max(0.0, Limit.clock + seconds - time.monotonic()))):
        if time.monotonic() >= Limit.clock + seconds:
            raise broken(
                f"Timed out waiting {round(seconds * 1000)}ms for {what} to complete: "
                "another rank has not reached it (it stopped, hangs, or runs other "
                "collectives); init_process_group(timeout=...) sets the limit")
        gone = left_rank(processes)
        if gone is not None and not job.done.wait(_LEFT_GRACE_SECONDS):
            raise broken(f"{what} failed: " + peer_gone(
                gone, "without joining it", "; every rank must call the same collectives"))
    if job.error is not None:
        error = job.error
        job.error = None
        if isinstance(error, (ValueError, RuntimeError)) and \
                any(word in str(error) for word in _LOST):
            raise broken(f"{what} failed: {error}. {CRASHED}") from None
        raise error
    return job.result
