"""``torch.multiprocessing``: Python's multiprocessing, and ``spawn`` for one process per rank.

The distributed tutorials start their ranks from the script itself::

    def train(rank, world_size):
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "localhost", "12355"
        dist.init_process_group("gloo", rank=rank, world_size=world_size)
        ...

    if __name__ == "__main__":
        mp.spawn(train, args=(2,), nprocs=2, join=True)

:func:`spawn` starts ``nprocs`` fresh Python processes (multiprocessing's ``"spawn"``
start method: each imports the script again, so JAX starts clean in each), calls
``fn(i, *args)`` in process ``i``, and waits for them. When one raises, the others are
stopped and :class:`ProcessRaisedException` carries its traceback; when one exits with a
non-zero status or a signal, :class:`ProcessExitedException` names it. Everything else
is Python's :mod:`multiprocessing`, as in PyTorch.

Tensors are not shared between processes: fnnet.torch's tensors hold JAX arrays, which
are immutable and live in each process's own runtime, so ``Module.share_memory()``
(Hogwild training) has no fnnet equivalent; the ranks of a ``spawn`` exchange values
through ``torch.distributed`` (JAX's collectives).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Callable
from multiprocessing import (  # noqa: F401 - PyTorch re-exports Python's names
    Array,
    AuthenticationError,
    Barrier,
    BoundedSemaphore,
    BufferTooShort,
    Condition,
    Event,
    JoinableQueue,
    Lock,
    Manager,
    Pipe,
    Pool,
    Process,
    ProcessError,
    Queue,
    RawArray,
    RawValue,
    RLock,
    Semaphore,
    SimpleQueue,
    TimeoutError,
    Value,
    active_children,
    allow_connection_pickling,
    cpu_count,
    current_process,
    freeze_support,
    get_all_start_methods,
    get_context,
    get_logger,
    get_start_method,
    log_to_stderr,
    parent_process,
    set_executable,
    set_forkserver_preload,
    set_start_method,
)
from typing import Any

__all__ = [
    "ProcessContext", "ProcessExitedException", "ProcessRaisedException",
    "SpawnContext", "get_all_sharing_strategies", "get_sharing_strategy",
    "set_sharing_strategy", "spawn", "start_processes",
    "Array", "AuthenticationError", "Barrier", "BoundedSemaphore", "BufferTooShort",
    "Condition", "Event", "JoinableQueue", "Lock", "Manager", "Pipe", "Pool", "Process",
    "ProcessError", "Queue", "RLock", "RawArray", "RawValue", "Semaphore", "SimpleQueue",
    "TimeoutError", "Value", "active_children", "allow_connection_pickling", "cpu_count",
    "current_process", "freeze_support", "get_all_start_methods", "get_context", "get_logger",
    "get_start_method", "log_to_stderr", "parent_process", "set_executable",
    "set_forkserver_preload", "set_start_method",
]


class _Sharing:
    """How PyTorch would pass tensors' storage between processes (a name kept for
    ``get_sharing_strategy``; JAX arrays are never shared, see the module)."""

    strategies = frozenset({"file_descriptor", "file_system"} if sys.platform != "darwin"
                           else {"file_system"})
    current = "file_descriptor" if sys.platform != "darwin" else "file_system"


def set_sharing_strategy(new_strategy: str) -> None:
    """Sets the strategy ``get_sharing_strategy`` returns.

    Args:
        new_strategy: one of :func:`get_all_sharing_strategies`.

    Raises:
        ValueError: another name.
    """
    if new_strategy not in _Sharing.strategies:
        raise ValueError(f"set_sharing_strategy: new_strategy must be one of "
                         f"{sorted(_Sharing.strategies)}, got {new_strategy!r}")
    _Sharing.current = new_strategy


def get_sharing_strategy() -> str:
    """The strategy last set (PyTorch's default for this platform at first)."""
    return _Sharing.current


def get_all_sharing_strategies() -> set[str]:
    """The strategies this platform has, as PyTorch names them."""
    return set(_Sharing.strategies)


class ProcessException(Exception):
    """A process of a :func:`spawn` failed.

    Attributes:
        error_index: the failed process's index (its ``fn``'s first argument).
        error_pid: its process id.
    """

    __slots__ = ("error_index", "error_pid")

    def __init__(self, msg: str, error_index: int, error_pid: int | None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.error_pid = error_pid

    def __reduce__(self) -> Any:
        return type(self), (self.msg, self.error_index, self.error_pid)


class ProcessRaisedException(ProcessException):
    """A process of a :func:`spawn` raised; the message ends with its traceback."""


class ProcessExitedException(ProcessException):
    """A process of a :func:`spawn` exited with a non-zero status or was killed.

    Attributes:
        exit_code: its exit status (negative: the signal's number).
        signal_name: the signal's name (``"SIGKILL"``), or None.
    """

    __slots__ = ("exit_code", "signal_name")

    def __init__(self, msg: str, error_index: int, error_pid: int | None, exit_code: int,
                 signal_name: str | None = None) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self) -> Any:
        return type(self), (self.msg, self.error_index, self.error_pid, self.exit_code,
                            self.signal_name)


def _run(fn: Callable[..., Any], index: int, args: tuple[Any, ...], errors: Any) -> None:
    """A spawned process's body: ``fn(index, *args)``, its traceback sent on failure."""
    try:
        fn(index, *args)
    except KeyboardInterrupt:
        pass  # the parent stops every process on one's failure
    except Exception:  # SystemExit keeps its status, as in PyTorch
        errors.put(traceback.format_exc())
        if _in_distributed_run():  # end now, so that the others' collectives fail now:
            sys.stdout.flush()  # JAX's shutdown at exit would wait for them, while they
            sys.stderr.flush()  # wait for this one, and their error would be reported
            os._exit(1)  # instead of this one's
        sys.exit(1)


def _in_distributed_run() -> bool:
    """Whether this process joined JAX's runtime of several processes."""
    jax = sys.modules.get("jax")
    return jax is not None and bool(jax.distributed.is_initialized())


class ProcessContext:
    """The processes of a :func:`spawn` (returned by ``spawn(..., join=False)``).

    Attributes:
        processes: the started :class:`multiprocessing.Process` objects, by index.
    """

    def __init__(self, processes: list[Any], error_queues: list[Any]) -> None:
        self.processes = processes
        self.error_queues = error_queues
        self._sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list[int | None]:
        """The processes' ids, by index."""
        return [p.pid for p in self.processes]

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """Waits up to ``timeout`` seconds (None: until one ends) for the processes.

        Args:
            timeout: seconds to wait, or None.
            grace_period: seconds the others get to stop after a failure before they
                are killed (None: stopped at once).

        Returns:
            True when every process has ended successfully, False while some still run.

        Raises:
            ProcessRaisedException: a process raised (its traceback is in the message).
            ProcessExitedException: a process exited with a non-zero status or a signal.
            The others are stopped first.
        """
        if not self._sentinels:
            return True
        ready = multiprocessing.connection.wait(list(self._sentinels), timeout=timeout)
        failed = None
        for sentinel in ready:
            index = self._sentinels.pop(sentinel)
            process = self.processes[index]
            process.join()
            if process.exitcode != 0 and failed is None:
                failed = index
        if failed is None:
            return not self._sentinels
        self._stop_others(grace_period)
        process = self.processes[failed]
        queue = self.error_queues[failed]
        if not queue.empty():
            raise ProcessRaisedException(
                f"\n\n-- Process {failed} terminated with the following error:\n"
                f"{queue.get()}", failed, process.pid)
        code = process.exitcode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"<Unknown signal {-code}>"
            raise ProcessExitedException(f"process {failed} terminated with signal {name}",
                                         failed, process.pid, code, name)
        raise ProcessExitedException(f"process {failed} terminated with exit code {code}",
                                     failed, process.pid, code)

    def _stop_others(self, grace_period: float | None) -> None:
        running = [p for p in self.processes if p.is_alive()]
        for process in running:
            process.terminate()
        for process in running:
            process.join(grace_period)
            if process.is_alive():
                process.kill()
                process.join()
        self._sentinels.clear()


#: PyTorch's older name for the context ``spawn`` returns
SpawnContext = ProcessContext


def start_processes(fn: Callable[..., Any], args: tuple[Any, ...] = (), nprocs: int = 1,
                    join: bool = True, daemon: bool = False,
                    start_method: str = "spawn") -> ProcessContext | None:
    """Starts ``nprocs`` processes running ``fn(i, *args)`` (see :func:`spawn`).

    Args:
        fn: a function importable by name (defined at a module's top level), called as
            ``fn(i, *args)`` with ``i`` in ``[0, nprocs)``.
        args: the rest of its arguments (picklable).
        nprocs: how many processes.
        join: wait for them (True), or return their :class:`ProcessContext`.
        daemon: start them as daemonic processes.
        start_method: multiprocessing's start method. ``"spawn"`` (the default) gives each
            process a fresh JAX; ``"fork"`` copies a parent that may have started JAX's
            threads, which JAX does not support.

    Returns:
        None with ``join``, else the :class:`ProcessContext`.

    Raises:
        TypeError: ``fn`` not callable, ``args`` not a tuple, ``nprocs`` not an int.
        ValueError: ``nprocs`` below 1, or an unknown ``start_method``.
        ProcessRaisedException, ProcessExitedException: with ``join``, a process failed.
    """
    if not callable(fn):
        raise TypeError(f"start_processes: fn must be callable, got {type(fn).__name__}")
    if not isinstance(args, tuple):
        raise TypeError(f"start_processes: args must be a tuple, got {type(args).__name__}")
    if isinstance(nprocs, bool) or not isinstance(nprocs, int):
        raise TypeError(f"start_processes: nprocs must be an int, got {type(nprocs).__name__}")
    if nprocs < 1:
        raise ValueError(f"start_processes: nprocs must be at least 1, got {nprocs}")
    if start_method not in multiprocessing.get_all_start_methods():
        raise ValueError(f"start_processes: start_method must be one of "
                         f"{multiprocessing.get_all_start_methods()}, got {start_method!r}")
    context: Any = multiprocessing.get_context(start_method)
    processes, queues = [], []
    for index in range(nprocs):
        queue = context.SimpleQueue()
        process = context.Process(target=_run, args=(fn, index, args, queue), daemon=daemon)
        process.start()
        processes.append(process)
        queues.append(queue)
    started = ProcessContext(processes, queues)
    if not join:
        return started
    while not started.join():
        pass
    return None


def spawn(fn: Callable[..., Any], args: tuple[Any, ...] = (), nprocs: int = 1,
          join: bool = True, daemon: bool = False,
          start_method: str = "spawn") -> ProcessContext | None:
    """Runs ``fn(i, *args)`` in ``nprocs`` new processes, ``i`` in ``[0, nprocs)``.

    Each process is a fresh Python that imports the calling script again (guard the
    script's own start with ``if __name__ == "__main__":``). With ``join`` the call
    returns when all have ended; when one fails, the others are stopped and its error
    is raised here.

    Args:
        fn: a function importable by name, called as ``fn(i, *args)``.
        args: the rest of its arguments (picklable).
        nprocs: how many processes.
        join: wait for them (True), or return their :class:`ProcessContext`.
        daemon: start them as daemonic processes.
        start_method: ignored with a FutureWarning unless ``"spawn"``, as in PyTorch
            (:func:`start_processes` takes the others).

    Returns:
        None with ``join``, else the :class:`ProcessContext`.

    Raises:
        See :func:`start_processes`.

    PyTorch equivalent: ``torch.multiprocessing.spawn``.
    """
    if start_method != "spawn":
        warnings.warn(f"spawn only supports start_method='spawn' (got {start_method!r}); "
                      f"use torch.multiprocessing.start_processes for another",
                      FutureWarning, stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, "spawn")
