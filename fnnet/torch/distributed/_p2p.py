"""Point-to-point messages: ``send``, ``recv``, ``isend``, ``irecv``, ``P2POp`` and
``batch_isend_irecv``, through the key-value store of JAX's coordinator.

The collectives are programs that every process runs together; a message concerns two
processes only, so it travels through the store that ``jax.distributed`` keeps on
process 0 instead. The ``n``-th message from rank ``s`` to rank ``d`` with tag ``t`` is
the key ``fnnet_p2p/<group>/<s>-<d>/<t>/<n>``: the messages of a pair and tag arrive in
the order sent, and tags select them, as with PyTorch's gloo backend.

As gloo's, a send completes once the receiver has posted the matching receive (an
``irecv`` counts as soon as it is made; it leaves the notice ``<key>.posted``), and a
receive copies the message's bytes into the tensor, which must hold as many bytes (gloo
reinterprets bytes of another dtype or shape the same way). A send or receive that
waits longer than the process group's timeout raises gloo's ``RuntimeError`` (``Timed
out waiting 3000ms for recv operation to complete``), and later messages with that rank
raise at once, as gloo closes the pair. The receiver deletes each message it reads; the
notice counts three events (the receive posted, the message taken, the sender's seeing
it or dropping its handle), and the third deletes it, so the store holds only messages
under way. Messages pass
through process 0's coordinator: they suit small tensors (parameters of a pipeline
stage, results, control values), not bulk data.
"""

from __future__ import annotations

import datetime
import math
import time
from typing import Any

import jax.numpy as jnp
import numpy as np

from fnnet.torch import _waiting
from fnnet.torch.distributed._collectives import Work, _write, members_only
from fnnet.torch.distributed._group import NotMember, ProcessGroup, default_group
from fnnet.torch.tensor import Tensor

_PREFIX = "fnnet_p2p"
#: seconds of one blocking read of the store: a wait checks its deadline and looks for
#: a peer that left the run in between
_CHUNK_SECONDS = _waiting._LOOK_SECONDS
#: the longest pause between a receive-from-any's looks at its peers' messages
_POLL_SECONDS = 0.05


class _Channels:
    """The messages counted so far, per ``(group ranks, peer, tag)``, and the peers
    whose pair a timeout closed (global rank: the error's words)."""

    sent: dict[tuple[tuple[int, ...], int, int], int] = {}
    received: dict[tuple[tuple[int, ...], int, int], int] = {}
    closed: dict[int, str] = {}


def _key(world: ProcessGroup, src: int, dst: int, tag: int, number: int) -> str:
    """The store's key of message ``number`` from global rank ``src`` to ``dst``."""
    ranks = "-".join(str(r) for r in world.ranks)
    return f"{_PREFIX}/{ranks}/{src}-{dst}/{tag}/{number}"


def _claim(counts: dict[tuple[tuple[int, ...], int, int], int], world: ProcessGroup,
           peer: int, tag: int) -> int:
    """The number of the next message with ``peer`` and ``tag`` (counted)."""
    key = (tuple(world.ranks), peer, tag)
    number = counts.get(key, 0)
    counts[key] = number + 1
    return number


def _read(key: str, seconds: float) -> bytes | None:
    """The store's value of ``key``, waited for at most ``seconds`` (0: at once), or
    None where it is not there."""
    client = _waiting.coordinator_client()
    try:
        if seconds <= 0:
            return bytes(client.key_value_try_get_bytes(key))
        return bytes(client.blocking_key_value_get_bytes(key, max(1, round(seconds * 1000))))
    except RuntimeError as error:  # JAX's error for a key that is missing (yet)
        if "NOT_FOUND" in str(error) or "DEADLINE_EXCEEDED" in str(error):
            return None
        raise


#: a notice's count once its receive was posted, its message taken and its sender done
_SETTLED = 3


def _settle(notice: str, events: int) -> None:
    """Counts ``events`` of the three that a message's notice awaits; the last deletes
    it (whichever process that is: a sender that dropped its handle is done early)."""
    client = _waiting.coordinator_client()
    if client.key_value_increment(notice, events) >= _SETTLED:
        client.key_value_delete(notice)


def _group(group: Any, who: str) -> ProcessGroup:
    """``group`` (None: the default group); PyTorch's error for a group this process
    is not in, where an isend or a P2POp names one."""
    try:
        return default_group(group, who)
    except NotMember:
        raise ValueError(f"Group {group} is not registered, please create group with "
                         "torch.distributed.new_group API") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _peer(world: ProcessGroup, rank: Any, group_rank: Any, who: str, name: str) -> int:
    """The group rank of the peer named by ``rank`` (a global rank) or ``group_rank``.

    Raises:
        ValueError: both or neither given, or a rank outside the group (PyTorch's words).
        TypeError: a rank that is not an int.
    """
    if group_rank is not None:
        if rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        if not _is_int(group_rank):
            raise TypeError(f"{who}: group_{name} must be an int, got "
                            f"{type(group_rank).__name__} {group_rank!r}")
        if not 0 <= group_rank < world.size:
            raise ValueError(f"Group rank {group_rank} is not part of group {world!r}")
        return int(group_rank)
    if rank is None:
        raise ValueError("Must specify global_rank or group_rank")
    if not _is_int(rank):
        raise TypeError(f"{who}: {name} must be an int, got {type(rank).__name__} {rank!r}")
    if rank not in world.ranks:
        if world.within is not None:
            raise ValueError(f"Global rank {rank} is not part of group {world!r}")
        raise ValueError(f"{who}: {name} must be a rank in [0, {world.size}), got {rank}")
    return world.ranks.index(rank)


def _check_tensor(tensor: Any) -> Tensor:
    """PyTorch's check that ``tensor`` is one tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError("Invalid function argument. Expected parameter `tensor` of type "
                        f"torch.Tensor\n             but got {type(tensor)} instead.")
    return tensor


def _check_message(tensor: Tensor, tag: Any, peer: int | None, world: ProcessGroup,
                   who: str, name: str) -> None:
    """Gloo's checks of a message's tensor and tag, and of the pair with ``peer`` (None:
    any rank)."""
    if not tensor.is_contiguous():
        raise RuntimeError("input tensor has to be contiguous")
    if not _is_int(tag):
        raise TypeError(f"{who}: tag must be an int, got {type(tag).__name__} {tag!r}")
    if tag < 0:
        raise RuntimeError("Tag must be nonnegative")
    if peer is None:
        return
    if peer == world.rank:  # gloo connects each process to the others only
        raise RuntimeError(f"{who}: {name} {world.ranks[peer]} is this process's own rank, "
                           "and a process has no connection to itself (gloo: Pair is not "
                           "connected)")
    closed = _Channels.closed.get(world.ranks[peer])
    if closed is not None:
        raise RuntimeError(f"Application timeout caused pair closure: {who} with rank "
                           f"{world.ranks[peer]}, whose messages are out of step since: "
                           f"{closed}")


def _timeout_seconds(timeout: Any) -> float:
    """A wait's limit in seconds: ``timeout``, else the process group's (inf: none)."""
    if timeout is None:
        seconds = _waiting.Limit.seconds
        return math.inf if seconds is None else seconds
    if isinstance(timeout, datetime.timedelta):
        return max(0.0, timeout.total_seconds())
    raise TypeError(f"wait: timeout must be a datetime.timedelta or None, got "
                    f"{type(timeout).__name__} {timeout!r}")


class _Message(Work):
    """The handle of a send or receive (``isend``, ``irecv``): complete once the peer
    has taken part; ``wait()`` returns True then, or raises gloo's timeout error.

    PyTorch equivalent: the ``torch.distributed.Work`` of ``isend``/``irecv``.
    """

    operation = "send"

    def __init__(self, world: ProcessGroup, peer: int | None, tag: int) -> None:
        super().__init__()
        self._world, self._peer, self._tag = world, peer, tag
        self._done = False

    def _peer_rank(self) -> int:
        """The global rank of the peer (known, or the message came)."""
        assert self._peer is not None
        return self._world.ranks[self._peer]

    def _poll(self, seconds: float) -> bool:
        """Whether the message has completed, waiting at most about ``seconds``."""
        raise NotImplementedError

    def _late(self) -> str:
        """Why the wait timed out, in words."""
        raise NotImplementedError

    def wait(self, timeout: Any = None) -> bool:
        """Waits for the message (at most ``timeout``, default the process group's).

        Raises:
            RuntimeError: the time ran out (gloo's words; later messages with that
                rank raise too), or the peer left the run.
        """
        seconds = _timeout_seconds(timeout)
        deadline = time.monotonic() + seconds
        while not self._done:
            left = deadline - time.monotonic()
            if left <= 0:
                message = (f"Timed out waiting {round(seconds * 1000)}ms for "
                           f"{self.operation} operation to complete: {self._late()}")
                if self._peer is not None:
                    _Channels.closed[self._peer_rank()] = message
                self._give_up()
                raise RuntimeError(message + "; init_process_group(timeout=...) sets the "
                                   "limit")
            self._done = self._poll(min(_CHUNK_SECONDS, left))
            pair = frozenset({self._world.ranks[self._world.rank], self._peer_rank()}) \
                if self._peer is not None else frozenset()
            gone = None if self._done else _waiting.left_rank(pair)
            if gone is not None:  # as gloo's, whose peer closed the connection
                self._give_up()
                raise RuntimeError(_waiting.peer_gone(
                    gone, f"before this {self.operation} completed"))
        return True

    def _give_up(self) -> None:
        """Forgets what the message left in the store, after a timeout."""

    def is_completed(self) -> bool:
        """Whether the message has completed (a receive's tensor holds it then)."""
        if not self._done:
            self._done = self._poll(0.0)
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def result(self) -> list[Tensor]:
        raise RuntimeError("result() not implemented.")

    def get_future(self) -> Any:
        raise RuntimeError("Work::getFuture not implemented.")

    def source_rank(self) -> int:
        raise RuntimeError("sourceRank() may only be called on work objects that "
                           "correspond to a recv or recv-from-any call.")


class _Sent(_Message):
    """A sent message: complete once the receiver posted its receive (its notice
    ``<key>.posted``)."""

    def __init__(self, world: ProcessGroup, peer: int, tag: int, key: str) -> None:
        super().__init__(world, peer, tag)
        self._notice = key + ".posted"

    def _poll(self, seconds: float) -> bool:
        if _read(self._notice, seconds) is None:
            return False
        _settle(self._notice, 1)
        return True

    def __del__(self) -> None:
        if not self._done:  # a send never waited for: done with its notice all the same
            try:
                _settle(self._notice, 1)
            except Exception:  # noqa: BLE001, S110 - the run may have ended
                pass

    def _late(self) -> str:
        return f"rank {self._peer_rank()} has not received it (tag {self._tag})"


class _Received(_Message):
    """A posted receive: complete once the message is in its tensor."""

    operation = "recv"

    def __init__(self, world: ProcessGroup, peer: int | None, tag: int, tensor: Tensor,
                 key: str | None) -> None:
        super().__init__(world, peer, tag)
        self._tensor, self._key = tensor, key
        self._pause = 0.001

    def _poll(self, seconds: float) -> bool:
        if self._key is not None:
            data = _read(self._key, seconds)
            if data is None:
                return False
            self._take(self._key, data)
            return True
        deadline = time.monotonic() + seconds
        while True:  # from any rank: each peer's next message, in rank order
            for peer in range(self._world.size):
                if peer == self._world.rank:
                    continue
                src = self._world.ranks[peer]
                counted = (tuple(self._world.ranks), peer, self._tag)
                number = _Channels.received.get(counted, 0)
                key = _key(self._world, src, self._world.ranks[self._world.rank],
                           self._tag, number)
                data = _read(key, 0.0)
                if data is not None:
                    _Channels.received[counted] = number + 1
                    self._peer = peer
                    self._take(key, data)
                    return True
            pause = min(self._pause, deadline - time.monotonic())
            if pause <= 0:
                return False
            time.sleep(pause)
            self._pause = min(2 * self._pause, _POLL_SECONDS)

    def _give_up(self) -> None:
        if self._key is not None:
            _waiting.coordinator_client().key_value_delete(self._key + ".posted")

    def _take(self, key: str, data: bytes) -> None:
        """Deletes the message from the store, completes a receive-from-any's sender,
        and copies the message into the tensor."""
        _waiting.coordinator_client().key_value_delete(key)
        _settle(key + ".posted", 1 if self._key is not None else 2)  # any rank: posted now
        _write(self._tensor, jnp.asarray(self._unpacked(data)))

    def _unpacked(self, data: bytes) -> np.ndarray:
        """The message's bytes as the tensor's dtype and shape, checked first."""
        header, _, payload = data.partition(b"\n")
        shape, dtype = self._tensor._cell.aval[0], np.dtype(self._tensor._cell.aval[1])
        size = math.prod(shape) * dtype.itemsize
        if len(payload) != size:
            sent_dtype, _, sent_shape = header.decode().partition(" ")
            raise RuntimeError(
                f"recv: the message from rank {self._peer_rank()} (tag "
                f"{self._tag}) is a {sent_dtype} tensor of shape [{sent_shape}] "
                f"({len(payload)} bytes), the tensor receiving it a {dtype} tensor of "
                f"shape {list(shape)} ({size} bytes): they must hold as many bytes")
        return np.frombuffer(payload, dtype).reshape(shape)

    def _late(self) -> str:
        if self._key is None:
            return f"no rank sent this process a message with tag {self._tag}"
        return f"rank {self._peer_rank()} sent no message with tag {self._tag}"

    def source_rank(self) -> int:
        """The group rank of the message's sender (a receive from any rank completes
        first)."""
        self.wait()
        assert self._peer is not None  # known once received
        return self._peer


def isend(tensor: Tensor, dst: int | None = None, group: Any = None, tag: int = 0,
          group_dst: int | None = None) -> Work:
    """Sends ``tensor`` to rank ``dst`` without waiting: the returned handle's
    ``wait()`` returns once ``dst`` has posted the matching receive.

    Args:
        tensor: the tensor to send (contiguous); its value is taken now.
        dst: the receiver's global rank (or ``group_dst``, its rank in ``group``).
        group: None (the default group) or a group of ``new_group``.
        tag: a non-negative int that the receive must name too.

    Raises:
        ValueError, TypeError, RuntimeError: a bad argument, in PyTorch's words where
            PyTorch has them.

    PyTorch equivalent: ``torch.distributed.isend`` (gloo).
    """
    world = _group(group, "isend")
    peer = _peer(world, dst, group_dst, "isend", "dst")
    _check_message(_check_tensor(tensor), tag, peer, world, "isend", "dst")
    value = np.ascontiguousarray(np.asarray(tensor._value()))
    header = f"{value.dtype} {','.join(str(n) for n in value.shape)}\n".encode()
    key = _key(world, world.ranks[world.rank], world.ranks[peer], tag,
               _claim(_Channels.sent, world, peer, tag))
    _waiting.coordinator_client().key_value_set_bytes(key, header + value.tobytes())
    return _Sent(world, peer, tag, key)


def send(tensor: Tensor, dst: int | None = None, group: Any = None, tag: int = 0,
         group_dst: int | None = None) -> None:
    """Sends ``tensor`` to rank ``dst`` and waits until ``dst`` has received it (see
    :func:`isend`).

    PyTorch equivalent: ``torch.distributed.send``.
    """
    try:
        world = default_group(group, "send")
    except NotMember:
        raise ValueError("Invalid process group specified") from None  # PyTorch's words
    peer = _peer(world, dst, group_dst, "send", "dst")
    if peer == world.rank:
        raise ValueError("Invalid destination rank: destination rank should not be the "
                         "same as the rank of the current process.")
    isend(tensor, group=world, tag=tag, group_dst=peer).wait()


@members_only
def irecv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0,
          group_src: int | None = None) -> Work | None:
    """Posts a receive into ``tensor`` of the next message from rank ``src`` with
    ``tag`` (``src`` None: from any rank); the tensor holds it once the returned
    handle's ``wait()`` returned (or ``is_completed()`` is True).

    Args:
        tensor: receives the message in place; it must hold as many bytes.
        src: the sender's global rank (or ``group_src``; both None: any rank).
        group: None (the default group) or a group of ``new_group``.
        tag: the sender's tag.

    Returns:
        The handle; None (with PyTorch's warning) where this process is not in ``group``.

    PyTorch equivalent: ``torch.distributed.irecv`` (gloo).
    """
    _check_tensor(tensor)
    world = default_group(group, "irecv")
    if src is None and group_src is None:
        _check_message(tensor, tag, None, world, "irecv", "src")
        return _Received(world, None, tag, tensor, None)
    peer = _peer(world, src, group_src, "irecv", "src")
    _check_message(tensor, tag, peer, world, "irecv", "src")
    key = _key(world, world.ranks[peer], world.ranks[world.rank], tag,
               _claim(_Channels.received, world, peer, tag))
    # the sender's send completes once the receive is posted, as gloo's
    _waiting.coordinator_client().key_value_increment(key + ".posted", 1)
    return _Received(world, peer, tag, tensor, key)


def recv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0,
         group_src: int | None = None) -> int:
    """Receives into ``tensor`` the next message from rank ``src`` (None: any rank)
    with ``tag``, waiting for it (see :func:`irecv`).

    Returns:
        The sender's global rank; -1 where this process is not in ``group``.

    PyTorch equivalent: ``torch.distributed.recv``.
    """
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    if src is not None:
        return src
    assert isinstance(work, _Received)
    world = default_group(group, "recv")
    return world.ranks[group_src if group_src is not None else work.source_rank()]


class P2POp:
    """One send or receive of :func:`batch_isend_irecv`: ``op`` is :func:`isend` or
    :func:`irecv`, ``peer`` the other rank (or ``group_peer``, its rank in ``group``).

    PyTorch equivalent: ``torch.distributed.P2POp``.
    """

    def __new__(cls, op: Any, tensor: Tensor, peer: int | None = None, group: Any = None,
                tag: int = 0, group_peer: int | None = None) -> P2POp:
        if op is not isend and op is not irecv:
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type "
                             "``torch.distributed.isend`` or ``torch.distributed.irecv``.")
        _check_tensor(tensor)
        return object.__new__(cls)

    def __init__(self, op: Any, tensor: Tensor, peer: int | None = None, group: Any = None,
                 tag: int = 0, group_peer: int | None = None) -> None:
        self.op, self.tensor, self.tag = op, tensor, tag
        self.group = _group(group, "P2POp")
        self.group_peer = _peer(self.group, peer, group_peer, "P2POp", "peer")
        self.peer = self.group.ranks[self.group_peer]

    def __repr__(self) -> str:
        me = self.group.rank
        src, dst = (me, self.group_peer) if self.op is isend else (self.group_peer, me)
        name = "0" if self.group.within is None else str(self.group.ranks)
        return (f"P2POp({self.op.__name__} pg={name}, group_src={src}, group_dst={dst},  "
                f"{self.tensor.shape}, {self.tensor.dtype})")


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work]:
    """Starts every send and receive of ``p2p_op_list`` and returns their handles, in
    order: their order does not matter, but for messages between the same two ranks.

    Raises:
        ValueError: an item that is no :class:`P2POp`, or ops of different groups.
        IndexError: an empty list (PyTorch's error type).

    PyTorch equivalent: ``torch.distributed.batch_isend_irecv``.
    """
    if not isinstance(p2p_op_list, list) or \
            not all(isinstance(op, P2POp) for op in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``torch.distributed.P2POp``.")
    if not p2p_op_list:
        raise IndexError("batch_isend_irecv: p2p_op_list must hold at least one P2POp, "
                         "got an empty list")
    if any(op.group is not p2p_op_list[0].group for op in p2p_op_list):
        raise ValueError("All ops need to use the same group.")
    works = []
    for op in p2p_op_list:
        if op.op is isend:
            works.append(isend(op.tensor, group=op.group, tag=op.tag,
                               group_dst=op.group_peer))
        else:
            work = irecv(op.tensor, group=op.group, tag=op.tag, group_src=op.group_peer)
            if work is not None:
                works.append(work)
    return works
