"""``monitored_barrier``: a barrier whose rank 0 names the ranks that did not arrive.

Every other rank names itself in the key-value store of JAX's coordinator, then waits
for rank 0's answer; rank 0 waits for each of them until the timeout, then answers
(an empty answer lets them go on). A rank missing at the timeout makes rank 0 raise
PyTorch's ``RuntimeError('[Rank 0]: Rank 1 failed to pass monitoredBarrier in 1000
ms')``, and the ranks that did arrive raise too, in PyTorch's words; the collectives of
every rank that raised then stop, as after a timeout.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from fnnet.torch import _waiting
from fnnet.torch.distributed._collectives import members_only
from fnnet.torch.distributed._group import ProcessGroup, default_group

_PREFIX = "fnnet_monitored"
#: the answer's key, beside the ranks' arrival keys
_ANSWER = "answer"
#: seconds the other ranks wait for rank 0's answer beyond the timeout
_GRACE = 2.0


class _Count:
    """The monitored barriers passed so far, per group (their keys' numbers)."""

    done: dict[tuple[int, ...], int] = {}


def _seconds(timeout: Any) -> float:
    """``timeout`` in seconds; None: the group's (inf: none)."""
    if timeout is None:
        return float("inf") if _waiting.Limit.seconds is None else _waiting.Limit.seconds
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"monitored_barrier: timeout must be a datetime.timedelta or None, "
                        f"got {type(timeout).__name__} {timeout!r}")
    return max(0.0, timeout.total_seconds())


def _wait(client: Any, key: str, deadline: float) -> str | None:
    """The store's value of ``key``, waited for until ``deadline``, or None."""
    while True:
        left = deadline - time.monotonic()
        try:  # in chunks, so that an infinite deadline still waits
            return str(client.blocking_key_value_get(key, max(1, round(min(left, 60) * 1000))))
        except RuntimeError as error:
            if "DEADLINE_EXCEEDED" not in str(error) and "NOT_FOUND" not in str(error):
                raise
        if time.monotonic() >= deadline:
            return None


def monitor(world: ProcessGroup, seconds: float, wait_all_ranks: bool) -> None:
    """The monitored barrier of ``world``'s processes, rank 0 waiting at most
    ``seconds`` for the others (see the module's docstring).

    Raises:
        RuntimeError: a rank did not arrive in time (in rank 0, PyTorch's words), or,
            in the others, rank 0 reported one.
    """
    if world.size < 2:
        return
    ranks = tuple(world.ranks)
    number = _Count.done.get(ranks, 0)
    _Count.done[ranks] = number + 1
    base = f"{_PREFIX}/{'-'.join(str(r) for r in ranks)}/{number}"
    client = _waiting.coordinator_client()
    ms = round(seconds * 1000) if seconds != float("inf") else -1
    if world.rank != 0:
        client.key_value_set(f"{base}/{world.rank}", "")
        answer = _wait(client, f"{base}/{_ANSWER}", time.monotonic() + seconds + _GRACE)
        if answer is not None and client.key_value_increment(f"{base}/read", 1) == \
                world.size - 1:
            client.key_value_delete(f"{base}/{_ANSWER}")  # every other rank has read it
            client.key_value_delete(f"{base}/read")
        if answer != "":  # PyTorch's words
            raise _waiting.broken(
                f"Rank {ranks[world.rank]} successfully reached monitoredBarrier, but "
                f"received errors while waiting for send/recv from rank {ranks[0]}. "
                f"Please check rank {ranks[0]} logs for faulty rank.")
        return
    deadline = time.monotonic() + seconds
    missing: list[int] = []
    for rank in range(1, world.size):
        if missing and not wait_all_ranks:
            break
        if _wait(client, f"{base}/{rank}", deadline) is None:
            missing.append(ranks[rank])
        else:
            client.key_value_delete(f"{base}/{rank}")
    failure = ""
    if missing:
        named = ", ".join(str(r) for r in missing)
        failure = (f"[Rank {ranks[0]}]: Rank{'s' if wait_all_ranks else ''} {named} failed "
                   f"to pass monitoredBarrier in {ms} ms")
    client.key_value_set(f"{base}/{_ANSWER}", failure)
    if failure:
        raise _waiting.broken(failure)


@members_only
def monitored_barrier(group: Any = None, timeout: Any = None,
                      wait_all_ranks: bool = False) -> None:
    """A barrier in which rank 0 waits at most ``timeout`` (a ``timedelta``; default the
    group's) for the others, and raises naming the first rank that did not arrive
    (``wait_all_ranks``: every one).

    Raises:
        RuntimeError: a rank did not arrive in time (PyTorch's words, in rank 0; the
            others raise too).
        TypeError: ``timeout`` is not a ``timedelta``.

    PyTorch equivalent: ``torch.distributed.monitored_barrier``.
    """
    world = default_group(group, "monitored_barrier")
    monitor(world, _seconds(timeout), bool(wait_all_ranks))
