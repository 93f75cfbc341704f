"""Collectives of picklable Python objects: ``all_gather_object``,
``broadcast_object_list``, ``gather_object`` and ``scatter_object_list``.

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
