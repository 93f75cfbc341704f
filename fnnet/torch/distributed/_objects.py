"""Collectives of picklable Python objects: ``all_gather_object``,
``broadcast_object_list``, ``gather_object`` and ``scatter_object_list``, and their
messages ``send_object_list`` and ``recv_object_list`` (through ``send`` and ``recv``).

As PyTorch's, each object is pickled into bytes, the bytes travel as a tensor (here a
``uint8`` array through the tensor collectives' programs), and the receiving processes
unpickle them: the objects must be picklable, and unpickling runs code of the sending
process's choosing, as in PyTorch (only exchange objects with processes you trust, the
ranks of your own run). Every process must call the same object collectives in the same
order.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from fnnet.torch.distributed._collectives import _rank, _run, members_only
from fnnet.torch.distributed._group import ProcessGroup, default_group
from fnnet.torch.distributed._p2p import recv, send


def _padded(data: bytes, size: int) -> Any:
    """``data`` as a ``uint8`` array of ``size`` bytes, zeros after it."""
    array = np.zeros(size, np.uint8)
    array[:len(data)] = np.frombuffer(data, np.uint8)
    return jnp.asarray(array)


def _bucket(size: int) -> int:
    """The array size that carries ``size`` bytes: a power of two (at least 256), so
    that objects of similar sizes share one compiled program."""
    return max(256, 1 << (max(size, 1) - 1).bit_length())


def _all_gathered_bytes(world: ProcessGroup, data: bytes) -> list[bytes]:
    """Every process's ``data``, in rank order."""
    sizes = np.asarray(_run(world, "all_gather", None, jnp.asarray([len(data)], jnp.int32)))
    sizes = sizes.reshape(world.size)
    gathered = np.asarray(_run(world, "all_gather", None,
                               _padded(data, _bucket(int(sizes.max())))))
    return [gathered[r, :int(sizes[r])].tobytes() for r in range(world.size)]


def _broadcast_bytes(world: ProcessGroup, data: bytes, src: int) -> bytes:
    """Rank ``src``'s ``data``, in every process (the others' ``data`` is ignored)."""
    size = np.asarray(_run(world, "broadcast", src, jnp.asarray([len(data)], jnp.int32)))
    length = int(size.reshape(-1)[0])
    sent = _padded(data if world.rank == src else b"", _bucket(length))
    return np.asarray(_run(world, "broadcast", src, sent))[:length].tobytes()


@members_only
def all_gather_object(object_list: list[Any], obj: Any, group: Any = None) -> None:
    """Sets ``object_list[r]`` to rank ``r``'s ``obj``, in every process.

    Args:
        object_list: one slot per process (``[None] * world_size``), filled in place.
        obj: this process's picklable object.
        group: None or ``group.WORLD``.

    PyTorch equivalent: ``torch.distributed.all_gather_object``.
    """
    world = default_group(group, "all_gather_object")
    data = pickle.dumps(obj)
    for rank, sent in enumerate(_all_gathered_bytes(world, data)):
        object_list[rank] = pickle.loads(sent)  # noqa: S301 - the run's own processes


@members_only
def gather_object(obj: Any, object_gather_list: list[Any] | None = None, dst: int = 0,
                  group: Any = None) -> None:
    """Sets rank ``dst``'s ``object_gather_list[r]`` to rank ``r``'s ``obj`` (the other
    ranks pass None). PyTorch equivalent: ``torch.distributed.gather_object``."""
    world = default_group(group, "gather_object")
    dst = _rank(dst, world, "gather_object", "dst")
    if world.rank == dst and not object_gather_list:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    received = _all_gathered_bytes(world, pickle.dumps(obj))
    if world.rank == dst:
        assert object_gather_list is not None  # checked above
        for rank, sent in enumerate(received):
            object_gather_list[rank] = pickle.loads(sent)  # noqa: S301 - as above


@members_only
def broadcast_object_list(object_list: list[Any], src: int = 0, group: Any = None,
                          device: Any = None) -> None:
    """Replaces the items of ``object_list`` in every process by rank ``src``'s (the
    others pass a list of the same length, of placeholders).

    PyTorch equivalent: ``torch.distributed.broadcast_object_list``.
    """
    del device
    world = default_group(group, "broadcast_object_list")
    src = _rank(src, world, "broadcast_object_list", "src")
    data = pickle.dumps(list(object_list)) if world.rank == src else b""
    sent = pickle.loads(_broadcast_bytes(world, data, src))  # noqa: S301 - as above
    if world.rank != src:
        for i, value in enumerate(sent[:len(object_list)]):
            object_list[i] = value


@members_only
def scatter_object_list(scatter_object_output_list: list[Any],
                        scatter_object_input_list: Sequence[Any] | None = None,
                        src: int = 0, group: Any = None) -> None:
    """Sets ``scatter_object_output_list[0]`` in rank ``r`` to rank ``src``'s
    ``scatter_object_input_list[r]`` (the other ranks pass None).

    PyTorch equivalent: ``torch.distributed.scatter_object_list``.
    """
    world = default_group(group, "scatter_object_list")
    src = _rank(src, world, "scatter_object_list", "src")
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of "
                         "size at least 1.")
    if world.rank == src and scatter_object_input_list is None:
        raise ValueError("source rank must provide non-None scatter_object_input_list")
    data = pickle.dumps(list(scatter_object_input_list or ())) if world.rank == src else b""
    sent = pickle.loads(_broadcast_bytes(world, data, src))  # noqa: S301 - as above
    scatter_object_output_list[0] = sent[world.rank]


def send_object_list(object_list: list[Any], dst: int | None = None, group: Any = None,
                     device: Any = None, group_dst: int | None = None,
                     use_batch: bool = False) -> None:
    """Sends the picklable objects of ``object_list`` to rank ``dst``, which receives
    them with :func:`recv_object_list` into a list of the same length: as PyTorch's, the
    pickles' sizes travel as one message, then their bytes as another.

    PyTorch equivalent: ``torch.distributed.send_object_list``.
    """
    import fnnet.torch as shim  # the shim's factories (it imports this module)

    del device, use_batch
    pickles = [pickle.dumps(obj) for obj in object_list]
    send(shim.tensor([len(p) for p in pickles], dtype=shim.int64), dst, group,
         group_dst=group_dst)
    data = np.frombuffer(b"".join(pickles), np.uint8).copy()
    send(shim.tensor(data), dst, group, group_dst=group_dst)


def recv_object_list(object_list: list[Any], src: int | None = None, group: Any = None,
                     device: Any = None, group_src: int | None = None,
                     use_batch: bool = False) -> int:
    """Replaces the items of ``object_list`` by the objects that rank ``src`` (None:
    any rank) sent with :func:`send_object_list`.

    Returns:
        The sender's rank.

    Raises:
        RuntimeError: the sender sent another number of objects (the message of their
            sizes has another size).

    PyTorch equivalent: ``torch.distributed.recv_object_list``.
    """
    import fnnet.torch as shim

    del device, use_batch
    sizes = shim.empty(len(object_list), dtype=shim.int64)
    sender = recv(sizes, src, group, group_src=group_src)
    counts = [int(n) for n in sizes.tolist()]
    if any(n < 0 for n in counts):
        raise RuntimeError(f"recv_object_list: the sender's sizes {counts} are not sizes of "
                           "pickles; send with send_object_list")
    data = shim.empty(sum(counts), dtype=shim.uint8)
    recv(data, sender if src is None and group_src is None else src, group,
         group_src=group_src)
    raw = np.asarray(data.numpy()).tobytes()
    start = 0
    for i, count in enumerate(counts):
        object_list[i] = pickle.loads(raw[start:start + count])  # noqa: S301 - as above
        start += count
    return sender
