"""Joining a distributed run at ``import fnnet.torch``, when a launcher started us.

JAX's distributed runtime must start before JAX computes anything, and importing
fnnet.torch already does (parameters' initial values, the PRNG state). A PyTorch
script imports torch first and calls ``init_process_group`` later, so under a launcher
(torchrun's environment: ``WORLD_SIZE`` above 1, ``RANK``, ``MASTER_ADDR``,
``MASTER_PORT``) the runtime is started here, at import, from those settings;
``init_process_group`` then finds it started.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from types import TracebackType


class Started:
    """Whether (and with which settings) this module started ``jax.distributed``."""

    settings: tuple[str, int, int] | None = None  # (coordinator, world size, rank)


def start_if_launched() -> None:
    """Starts ``jax.distributed`` from torchrun's environment variables, if present.

    Does nothing for a single process, an incomplete environment, or a JAX whose
    backend already started (then ``init_process_group`` reports the problem).
    """
    env = os.environ
    try:
        size, rank = int(env.get("WORLD_SIZE", "1")), int(env.get("RANK", ""))
    except ValueError:
        return
    addr, port = env.get("MASTER_ADDR", "").strip(), env.get("MASTER_PORT", "").strip()
    if size <= 1 or not addr or not port.isdigit() or not 0 <= rank < size:
        return
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        return
    from fnnet.parallel.distributed import initialize

    local = None
    if int(env.get("LOCAL_WORLD_SIZE", "1") or 1) > 1 and env.get("LOCAL_RANK", "").isdigit():
        local = [int(env["LOCAL_RANK"])]  # one GPU per process (ignored on CPUs)
    coordinator = f"{addr}:{port}"
    _die_with_launcher()
    initialize(coordinator, size, rank, local_device_ids=local)
    Started.settings = (coordinator, size, rank)
    sys.excepthook = _exit_at_once


def _die_with_launcher() -> None:
    """Under fnnet's launcher (``FNNET_LAUNCHER_PID``), on Linux: this process gets a
    SIGKILL when the launcher dies, so a launcher killed outright leaves nothing behind."""
    launcher = os.environ.get("FNNET_LAUNCHER_PID", "")
    if not launcher.isdigit() or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(launcher):  # it died before the request took effect
        os._exit(1)


def _exit_at_once(kind: type[BaseException], error: BaseException,
                  tb: TracebackType | None) -> None:
    """An uncaught exception ends a process of a distributed run at once, with status
    1: JAX's orderly shutdown at exit would wait for the other processes, which may be
    waiting for this one, and the launcher would see a hang instead of a failure."""
    traceback.print_exception(kind, error, tb)
    sys.stderr.flush()
    if Started.settings is not None:
        from fnnet.torch import _waiting

        _waiting.announce_raised(Started.settings[2])
    sys.stdout.flush()
    os._exit(1)
