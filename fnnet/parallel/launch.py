"""Starting several processes of one script on this machine, connected as one run.

:func:`launch_local` gives each process the ``FNNET_COORDINATOR``,
``FNNET_NUM_PROCESSES`` and ``FNNET_PROCESS_ID`` that :func:`fnnet.parallel.initialize`
reads, with a coordinator on a free localhost port, waits for all of them, and kills
them all when one fails or the time runs out, so no process is left behind. It is how
a multi-process run is tried out on one machine (each process with its own simulated
CPU devices) and how the tests run one.
"""

from __future__ import annotations

import numbers
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence

from fnnet.parallel.distributed import ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID

#: lines of a failed process's captured output quoted in the LaunchError message
OUTPUT_LINES = 20


class LaunchError(RuntimeError):
    """A launched process failed or ran out of time; ``results`` holds every process's
    ``subprocess.CompletedProcess`` (return code, and output where captured)."""

    def __init__(self, message: str, results: list[subprocess.CompletedProcess[str]]) -> None:
        super().__init__(message)
        self.results = results


def free_port() -> int:
    """A TCP port on localhost that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kills the process and everything it started (its own process group)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    proc.wait()


def launch_local(
    command: Sequence[str],
    num_processes: int = 2,
    *,
    cpu_devices_per_process: int | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
) -> list[subprocess.CompletedProcess[str]]:
    """Runs ``command`` as ``num_processes`` connected processes on this machine.

    Args:
        command: the command line, e.g. ``[sys.executable, "train.py", "--epochs", "1"]``;
            the script calls :func:`fnnet.parallel.initialize`.
        num_processes: how many processes.
        cpu_devices_per_process: run on the CPU with this many simulated devices per
            process (``--xla_force_host_platform_device_count`` added to the
            environment's ``XLA_FLAGS``, whose other flags are kept); None keeps the
            environment's platform.
        timeout: seconds for the whole run; then every process is killed.
        env: extra environment variables for every process.
        capture: collect each process's output (stdout and stderr together) into its
            ``CompletedProcess.stdout``; else the processes write to this one's.

    Returns:
        One ``CompletedProcess`` per process, in process order, all with return code 0.

    Raises:
        TypeError: ``command`` is not a list of strings (a str is refused: it would not
            be split into arguments), a count not an int, ``timeout`` not a number or
            ``env`` not a mapping.
        ValueError: ``command`` is empty, ``num_processes`` or
            ``cpu_devices_per_process`` below 1, or ``timeout`` not positive.
        LaunchError: a process exited with a non-zero code (the others are killed; the
            message quotes the last lines of its captured output) or the timeout passed
            (all are killed).

    PyTorch equivalent: ``torchrun --standalone --nproc-per-node=N script.py``.
    """
    _check_command(command)
    _check_count("num_processes", num_processes)
    if cpu_devices_per_process is not None:
        _check_count("cpu_devices_per_process", cpu_devices_per_process)
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
            raise TypeError(f"launch_local: timeout must be a number of seconds or None, "
                            f"got {timeout!r}")
        if not timeout > 0:
            raise ValueError(f"launch_local: timeout must be positive, got {timeout!r}")
    if env is not None and not isinstance(env, Mapping):
        raise TypeError(f"launch_local: env must be a mapping of variable names to values "
                        f"or None, got {type(env).__name__}")
    base = dict(os.environ)
    base.update(env or {})
    base[ENV_COORDINATOR] = f"127.0.0.1:{free_port()}"
    base[ENV_NUM_PROCESSES] = str(num_processes)
    if cpu_devices_per_process is not None:
        base["JAX_PLATFORMS"] = "cpu"
        # after the environment's own XLA flags, which are kept (XLA takes a flag's last value)
        base["XLA_FLAGS"] = (f"{base.get('XLA_FLAGS', '')} --xla_force_host_platform_"
                             f"device_count={cpu_devices_per_process}").strip()
    deadline = None if timeout is None else time.monotonic() + timeout
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for index in range(num_processes):
            log = tempfile.TemporaryFile() if capture else None
            logs.append(log)
            procs.append(subprocess.Popen(
                list(command), env={**base, ENV_PROCESS_ID: str(index)}, stdout=log,
                stderr=subprocess.STDOUT if capture else None, start_new_session=True))
        failure, failed = _wait(procs, deadline)
    finally:
        for proc in procs:
            _kill(proc)  # no-op for the ones that exited
    results = []
    for proc, log in zip(procs, logs, strict=True):
        output = None
        if log is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            log.close()
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, output))
    if failure:
        output = results[failed].stdout if failed is not None else None
        if output:  # what the failing process printed last: its traceback
            tail = "\n".join(output.rstrip().splitlines()[-OUTPUT_LINES:])
            failure += f"; the last lines process {failed} printed:\n{tail}"
        raise LaunchError(failure, results)
    return results


def _check_command(command: object) -> None:
    """Raises unless ``command`` is a non-empty sequence of str (or path) arguments."""
    if isinstance(command, str | bytes) or not isinstance(command, Sequence):
        hint = " (pass the program and its arguments as a list, e.g. " \
               "[sys.executable, 'train.py'])" if isinstance(command, str | bytes) else ""
        raise TypeError(f"launch_local: command must be a list of strings, got "
                        f"{type(command).__name__}{hint}")
    if not command:
        raise ValueError("launch_local: command must name a program, got an empty list")
    for index, argument in enumerate(command):
        if not isinstance(argument, str | os.PathLike):
            raise TypeError(f"launch_local: command[{index}] must be a str, got "
                            f"{argument!r}")


def _check_count(name: str, value: object) -> None:
    """Raises unless ``value`` is an int of at least 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"launch_local: {name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"launch_local: {name} must be at least 1, got {value}")


def _wait(procs: list[subprocess.Popen[bytes]], deadline: float | None
          ) -> tuple[str | None, int | None]:
    """Waits for every process; returns why the run failed (or None) and the index of
    the process that failed (None when none did, or the time ran out)."""
    while True:
        codes = [proc.poll() for proc in procs]
        for index, code in enumerate(codes):
            if code not in (None, 0):
                return f"process {index} exited with code {code}; the others were stopped", index
        if all(code == 0 for code in codes):
            return None, None
        if deadline is not None and time.monotonic() > deadline:
            running = [i for i, code in enumerate(codes) if code is None]
            return f"timed out; processes {running} were still running and were killed", None
        time.sleep(0.05)
