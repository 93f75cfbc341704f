"""Process groups: ``init_process_group`` over ``jax.distributed``, and ``new_group``.

A PyTorch process group becomes JAX's multi-process runtime: ``init_process_group``
reads PyTorch's settings (``MASTER_ADDR``/``MASTER_PORT``, ``WORLD_SIZE``, ``RANK``,
``LOCAL_RANK``, or a ``tcp://host:port`` init method) and starts
``jax.distributed.initialize`` with process 0's coordinator at ``MASTER_ADDR:MASTER_PORT``
(through :func:`fnnet.parallel.initialize`). Rank is JAX's process index and the world
size its process count; each process computes on its first local device. A group of
``new_group`` is the mesh of its processes' devices: its collectives are programs that
only its processes run.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import errno
import io
import os
import socket
import sys
import time
from typing import Any

import jax
from jax.sharding import Mesh

from fnnet.torch import _sharding, _waiting

_BACKENDS = ("gloo", "nccl")


class ReduceOp(enum.IntEnum):
    """How ``all_reduce``, ``reduce`` and ``reduce_scatter`` combine the processes'
    values; printed and numbered as PyTorch's (``RedOpType.SUM``, ``int(MAX) == 4``).
    ``BAND``, ``BOR`` and ``BXOR`` take integer tensors only; ``PREMUL_SUM`` is refused.

    PyTorch equivalent: ``torch.distributed.ReduceOp``.
    """

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8

    def __str__(self) -> str:
        return f"RedOpType.{self.name}"

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}: {self.value}>"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


ReduceOp.RedOpType = ReduceOp  # type: ignore[attr-defined]  # PyTorch's name of the members' type


class Backend(str):
    """Backend names; every one maps to JAX's runtime on the devices present.

    PyTorch equivalent: ``torch.distributed.Backend``.
    """

    GLOO = "gloo"
    NCCL = "nccl"
    UNDEFINED = "undefined"

    def __new__(cls, name: str) -> Backend:
        return str.__new__(cls, _check_backend(name))


def _check_backend(backend: Any) -> str:
    """``backend`` validated: ``"gloo"``, ``"nccl"`` or ``"cpu:gloo,cuda:nccl"``."""
    if not isinstance(backend, str):
        raise TypeError(f"init_process_group: backend must be a str such as 'gloo' or "
                        f"'nccl', got {type(backend).__name__}")
    name = backend.lower()
    parts = [p.split(":", 1)[-1] for p in name.split(",")]
    if not all(p in _BACKENDS for p in parts):
        raise ValueError(f"init_process_group: backend must be 'gloo' or 'nccl' (both run "
                         f"on JAX's runtime), or 'cpu:gloo,cuda:nccl'; got {backend!r}")
    return name


#: the gloo operation that PyTorch's collective of each name runs with a root rank
_ROOTED = {"broadcast_object_list": "broadcast", "gather_object": "gather",
           "scatter_object_list": "scatter"}


class ProcessGroup:
    """The processes of a run, or of a group of them (``new_group``): ranks, backend
    name and the process mesh.

    Attributes:
        ranks: the processes' ranks in the default group, in the group's order.
        rank: this process's index in the group (``jax.process_index()`` in the
            default group).
        size: the number of processes.
        backend: the backend name given to ``init_process_group``.
        started_jax: whether ``init_process_group`` started JAX's runtime.
        mesh: one device per process along ``fnnet.torch._sharding.PROCESS_AXIS``.
        programs: the compiled collectives, by what they compute.

    PyTorch equivalent: ``torch.distributed.ProcessGroup``.
    """

    def __init__(self, backend: str, started_jax: bool,
                 within: ProcessGroup | None = None, ranks: list[int] | None = None) -> None:
        me = jax.process_index()
        self.ranks: list[int] = list(range(jax.process_count())) if ranks is None else ranks
        self.rank: int = self.ranks.index(me)
        self.size: int = len(self.ranks)
        self.backend = backend
        self.started_jax = started_jax
        self.mesh: Mesh = _sharding.process_mesh() if within is None else \
            Mesh(within.mesh.devices[self.ranks], within.mesh.axis_names)
        self.within = within
        self.programs: dict[tuple[Any, ...], Any] = {}

    def group_rank(self, rank: Any, who: str, name: str) -> int:
        """The index in this group of the default group's rank ``rank`` (PyTorch's
        ``src`` and ``dst`` are ranks of the default group).

        Raises:
            ValueError: ``rank`` is not an int, or not one of a ``new_group``'s processes.
            RuntimeError: an int outside the default group (PyTorch's gloo error).
        """
        number = isinstance(rank, int) and not isinstance(rank, bool)
        if not number or rank not in self.ranks:
            if self.within is not None:  # PyTorch's words
                raise ValueError(f"Global rank {rank!r} is not part of group {self!r}")
            if number:
                raise RuntimeError(f"ProcessGroupGloo::{_ROOTED.get(who, who)}: invalid root "
                                   f"rank: {rank}")
            raise ValueError(f"{who}: {name} must be a rank in [0, {self.size}), got "
                             f"{rank!r}")
        return self.ranks.index(rank)

    def __repr__(self) -> str:
        ranks = "" if self.within is None else f", ranks={self.ranks}"
        return (f"ProcessGroup(rank={self.rank}, size={self.size}, "
                f"backend={self.backend!r}{ranks})")


class _World:
    """Holds the default group (PyTorch keeps one per process, too)."""

    group: ProcessGroup | None = None
    #: whether destroy_process_group shut JAX's distributed runtime down in this process
    ended = False
    #: the ranks of the last group of new_group this process is not in: PyTorch keeps
    #: them for ``GroupMember.NON_GROUP_MEMBER``, which new_group returned for it
    non_member_ranks: list[int] | None = None
    #: process groups made since the default group (itself included): get_pg_count
    group_count = 0


class group:  # noqa: N801 - PyTorch's name
    """``torch.distributed.group.WORLD``: the default group once there is one (None
    stands for it too); ``NON_GROUP_MEMBER`` is PyTorch's marker of a group that this
    process is not in."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


def _set_default(world: ProcessGroup | None) -> None:
    """Makes ``world`` the default group (None: there is none)."""
    _World.group = group.WORLD = world
    _World.non_member_ranks = None
    _World.group_count = 0 if world is None else 1


_NOT_STARTED = ("Default process group has not been initialized, please make sure to "
                "call init_process_group.")


class NotMember(Exception):
    """Raised by :func:`default_group` for a group this process is not in (PyTorch's
    ``GroupMember.NON_GROUP_MEMBER``); the collectives then do nothing."""


def default_group(group: Any = None, who: str = "torch.distributed") -> ProcessGroup:
    """``group``, or the default group where it is None.

    Raises:
        ValueError: ``init_process_group`` was not called (PyTorch's error).
        NotMember: ``group`` is ``GroupMember.NON_GROUP_MEMBER``.
        TypeError: ``group`` is no process group of this run.
    """
    world = _World.group
    if world is None:
        raise ValueError(_NOT_STARTED)
    if group is None or group is world:
        return world
    if isinstance(group, ProcessGroup) and group.within is world:
        return group
    if _not_member(group):
        raise NotMember(who)
    raise TypeError(f"{who}: group must be None, group.WORLD or a group from new_group, "
                    f"got {group!r}")


def _not_member(value: Any) -> bool:
    """Whether ``value`` is ``GroupMember.NON_GROUP_MEMBER``."""
    return isinstance(value, int) and not isinstance(value, bool) and \
        value == group.NON_GROUP_MEMBER


def _env_int(name: str) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"init_process_group: the environment variable {name} must be "
                         f"an integer, got {text!r}") from None


def _setting(value: Any, env: str, name: str) -> int | None:
    if value is None or value == -1:  # PyTorch's default -1 means "read the environment"
        return _env_int(env)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"init_process_group: {name} must be an int, got "
                        f"{type(value).__name__} {value!r}")
    return value


def _not_set(name: str, tcp: bool = False) -> ValueError:
    """PyTorch's error for a setting of its env:// rendezvous that is missing (``tcp``:
    for ``RANK`` and ``WORLD_SIZE``, of its tcp:// rendezvous, which takes them as
    parameters)."""
    if tcp:
        what = "rank" if name == "RANK" else "world size"
        return ValueError(f"Error initializing torch.distributed using tcp:// rendezvous: "
                          f"{what} parameter missing")
    return ValueError(f"Error initializing torch.distributed using env:// rendezvous: "
                      f"environment variable {name} expected, but not set")


def _coordinator(init_method: str | None, needed: bool) -> str | None:
    """``host:port`` of process 0, from ``init_method`` or MASTER_ADDR/MASTER_PORT
    (``needed``: a run of several processes, which must name it).

    Raises:
        RuntimeError: an init method of another scheme (PyTorch's words).
    """
    if init_method is not None and not isinstance(init_method, str):
        raise TypeError(f"init_process_group: init_method must be a str such as 'env://' "
                        f"or 'tcp://host:port', got {type(init_method).__name__}")
    if init_method in (None, "", "env://"):
        addr = os.environ.get("MASTER_ADDR", "").strip()
        port = os.environ.get("MASTER_PORT", "").strip()
        if not (addr or port or needed):
            return None  # one process: no coordinator
        if not addr:
            raise _not_set("MASTER_ADDR")
        if not port:
            raise _not_set("MASTER_PORT")
        if not port.isdigit():
            raise ValueError(f"invalid literal for int() with base 10: {port!r}")  # PyTorch's
        return f"{addr}:{port}"
    if init_method.startswith("tcp://"):
        address = init_method[len("tcp://"):].rstrip("/")
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"init_process_group: init_method must be 'tcp://host:port', "
                             f"got {init_method!r}")
        return address
    scheme = init_method.partition("://")[0]
    raise RuntimeError(f"No rendezvous handler for {scheme}://")  # PyTorch's words


_FILE = "Error initializing torch.distributed using file:// rendezvous: "
#: seconds between looks for rank 0's address in a file:// rendezvous's file
_FILE_POLL_SECONDS = 0.05


def _file_settings(init_method: str, world_size: Any, rank: Any) -> tuple[str, int, int]:
    """The path, world size and rank of a ``file://path`` init method: as PyTorch's, from
    the arguments alone (never ``WORLD_SIZE`` or ``RANK``)."""
    path = init_method[len("file://"):]
    if not path:
        raise ValueError(_FILE + "path missing")
    if rank is None or rank == -1:
        raise ValueError(_FILE + "rank parameter missing")
    if world_size is None or world_size == -1:
        raise ValueError(_FILE + "world size parameter missing")
    size, index = _setting(world_size, "", "world_size"), _setting(rank, "", "rank")
    assert size is not None and index is not None  # given: checked, never read
    return path, size, index


def _file_rendezvous(path: str, size: int, rank: int, seconds: float) -> str | None:
    """The coordinator's ``host:port``, through the file ``path`` that every process
    sees: rank 0 writes its machine and a free port into it, the others wait for it (at
    most ``seconds``). None for one process.

    Raises:
        DistStoreError: rank 0 did not write the file in time.
    """
    if size == 1:
        return None
    here = socket.gethostname()
    if rank == 0:
        from fnnet.parallel.launch import free_port

        port = free_port()
        written = f"{path}.{os.getpid()}.tmp"
        with open(written, "w") as file:
            file.write(f"{here} {port}\n")
        os.replace(written, path)  # the others never read half a line
        return f"127.0.0.1:{port}"
    deadline = time.monotonic() + seconds
    while True:
        try:
            with open(path) as file:
                host, _, number = file.read().strip().partition(" ")
            if number.isdigit():
                return f"{'127.0.0.1' if host == here else host}:{number}"
        except FileNotFoundError:
            pass
        if time.monotonic() > deadline:
            raise DistStoreError(f"init_process_group: rank 0 did not write its address "
                                 f"into {path} within {seconds:g} s (file:// rendezvous): "
                                 "is rank 0 running, and the file on a filesystem that "
                                 "every process sees?")
        time.sleep(_FILE_POLL_SECONDS)


#: PyTorch's default timeout of gloo's collectives (``default_pg_timeout``), in seconds
_DEFAULT_TIMEOUT = 1800.0
default_pg_timeout = datetime.timedelta(seconds=_DEFAULT_TIMEOUT)


def _timeout_seconds(timeout: Any) -> float | None:
    """``timeout`` in seconds (None where it is None)."""
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta) and timeout.total_seconds() > 0:
        return timeout.total_seconds()
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return float(timeout)
    raise TypeError(f"init_process_group: timeout must be a datetime.timedelta (positive), "
                    f"got {type(timeout).__name__} {timeout!r}")


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: Any = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Joins this process to the others of the run (JAX's ``jax.distributed``).

    Args:
        backend: ``"gloo"``, ``"nccl"`` (or ``"cpu:gloo,cuda:nccl"``); every backend
            runs on JAX's runtime for the devices present (gloo between CPU processes,
            NCCL on GPUs, ICI on TPUs). None means ``"gloo"`` on CPUs, else ``"nccl"``.
        init_method: ``"env://"`` (default: ``MASTER_ADDR``, ``MASTER_PORT``) or
            ``"tcp://host:port"``: where rank 0 serves JAX's coordinator; or
            ``"file:///path"``, a file that every process sees (and that must not be
            left from an earlier run, as with PyTorch), into which rank 0 writes its
            address (it deletes the file once every process has joined); ``rank`` and
            ``world_size`` must then be given, as PyTorch requires.
        timeout: how long to wait for every process to join, and how long a
            collective (or DistributedDataParallel's step) waits for the other
            processes before it raises ``RuntimeError`` (a ``timedelta``; default 30
            minutes, as PyTorch's gloo; joining waits 5 minutes by default).
        world_size: the number of processes (default ``WORLD_SIZE``).
        rank: this process's rank (default ``RANK``).
        store: not supported (must be None).
        group_name, pg_options: accepted and ignored.
        device_id: accepted; with several processes on one host, each uses local
            device ``LOCAL_RANK`` on GPUs (``device_id`` or ``LOCAL_RANK``).

    Raises:
        ValueError: the default group already exists (PyTorch's error), a bad backend, a
            missing or malformed setting, a rank outside ``[0, world_size)``.
        TypeError: an argument of the wrong type.
        NotImplementedError: ``store``.
        RuntimeError: an unknown ``init_method`` scheme (PyTorch's error), JAX's
            runtime failed to start, or a group of several processes was destroyed in
            this process before (JAX's runtime starts once).
        DistStoreError: rank 0 did not write the ``file://`` init method's file within
            the timeout.

    A world size of 1 (or no settings at all) starts no runtime: the group has the
    one process. PyTorch equivalent: ``torch.distributed.init_process_group``.
    """
    del group_name, pg_options
    if _World.group is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = _check_backend(backend) if backend is not None else None
    if store is not None:
        raise NotImplementedError("init_process_group: store= is not supported; JAX's "
                                  "coordinator replaces the store (use init_method)")
    seconds = _timeout_seconds(timeout)
    shared: str | None = None  # the file of a file:// init method
    size: int | None
    index: int | None
    if isinstance(init_method, str) and init_method.startswith("file://"):
        shared, size, index = _file_settings(init_method, world_size, rank)
    else:
        size = _setting(world_size, "WORLD_SIZE", "world_size")
        index = _setting(rank, "RANK", "rank")
    if size not in (None, 1) or index not in (None, 0):  # several processes: PyTorch's
        tcp = isinstance(init_method, str) and init_method.startswith("tcp://")  # checks
        if index is None:
            raise _not_set("RANK", tcp)
        if size is None:
            raise _not_set("WORLD_SIZE", tcp)
    if size is not None and size < 1:
        raise ValueError(f"init_process_group: world_size must be at least 1, got {size}")
    if size is not None and index is not None and not 0 <= index < size:
        raise ValueError(f"init_process_group: rank must be in [0, {size}), got {index}")
    coordinator = None if shared is not None else \
        _coordinator(init_method, needed=size is not None and size > 1)
    local_devices = None
    local_size = _env_int("LOCAL_WORLD_SIZE")
    if device_id is not None or (local_size or 1) > 1:
        local = _env_int("LOCAL_RANK") if device_id is None else _device_index(device_id)
        if local is not None:
            local_devices = [local]  # on GPUs, one device per process (ignored on CPUs)
    from fnnet.parallel.distributed import initialize
    from fnnet.torch._launched import Started

    if Started.settings is not None:  # started at import from the same environment
        if (size, index) != Started.settings[1:]:
            raise ValueError(f"init_process_group: world_size={size}, rank={index} differ "
                             f"from the environment's (WORLD_SIZE={Started.settings[1]}, "
                             f"RANK={Started.settings[2]}) with which the run started")
        started = True
    elif size is not None:
        if _World.ended and size > 1:
            raise RuntimeError("init_process_group: a process group of several processes "
                               "was destroyed in this process, and JAX's distributed "
                               "runtime cannot start again in a process that has computed; "
                               "start a new process for the next group")
        if shared is not None:
            coordinator = _file_rendezvous(shared, size, index or 0, seconds or 300)
        try:
            started = initialize(coordinator, size, index, local_device_ids=local_devices,
                                 initialization_timeout=max(1, round(seconds or 300)))
        except RuntimeError as error:
            raise _start_error(error, coordinator, index) from error
        finally:
            if shared is not None and index == 0 and coordinator is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(shared)  # every process has read it (or failed): no stale file
    else:
        started = False
    if name is None:
        name = "gloo" if jax.devices()[0].platform == "cpu" else "nccl"
    world = ProcessGroup(name, started)
    _waiting.set_timeout(_DEFAULT_TIMEOUT if seconds is None else seconds)
    _set_default(world)
    _prefix_tracebacks(index or 0, end=started)
    if started:
        _waiting.announce_process(world.rank)  # before the barrier below
    from fnnet.torch.distributed._collectives import connect_quietly

    connect_quietly(world)  # without gloo's line on standard output


class DistError(RuntimeError):
    """A failure of the distributed runtime. PyTorch: ``torch.distributed.DistError``."""


class DistBackendError(DistError):
    """A failure in the collectives' backend (PyTorch's class)."""


class DistNetworkError(DistError):
    """A network failure, such as a port already in use (PyTorch's class)."""


class DistStoreError(DistError):
    """A failure of the store (PyTorch's class; JAX's coordinator replaces the store)."""


for _error in (DistError, DistBackendError, DistNetworkError, DistStoreError):
    _error.__module__ = "fnnet.torch.distributed"  # where scripts name them


def _port_taken(port: int) -> bool:
    """Whether another program listens on ``port`` of this machine."""
    with socket.socket() as probe:
        try:
            probe.bind(("", port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def _start_error(error: RuntimeError, coordinator: str | None,
                 rank: int | None) -> RuntimeError:
    """The error to raise where JAX's runtime failed to start: PyTorch's where rank 0
    finds its port taken, else JAX's with what to do where JAX had started already."""
    port = int(coordinator.rpartition(":")[2]) if coordinator else None
    if rank == 0 and port is not None and _port_taken(port):
        return DistNetworkError(
            f"The server socket has failed to listen on any local network address. port: "
            f"{port}, useIpv6: false, code: -98, name: EADDRINUSE, message: address "
            "already in use")
    if "before any JAX" in str(error):
        return RuntimeError(f"init_process_group: {error} (under python -m "
                            "fnnet.torch.distributed.run the run starts at import "
                            "fnnet.torch: import it before any JAX computation)")
    return RuntimeError(f"init_process_group: {error}")


class _RankLines(io.TextIOBase):
    """A text stream writing each line to ``out`` with ``prefix`` in front (an empty
    line as it is), as it comes: a hook that ends the process right after printing
    loses nothing."""

    def __init__(self, out: Any, prefix: str) -> None:
        super().__init__()
        self._out, self._prefix, self._line = out, prefix, ""

    def write(self, text: str) -> int:
        *done, self._line = (self._line + text).split("\n")
        for line in done:
            self._out.write(f"{self._prefix}{line}\n" if line else "\n")
        return len(text)

    def flush(self) -> None:
        if self._line:
            self._out.write(self._prefix + self._line)
            self._line = ""
        self._out.flush()


def _prefix_tracebacks(rank: int, end: bool) -> None:
    """Writes each line of an uncaught exception's report with the rank in front
    (``[rank1]: Traceback ...``), as PyTorch's ``init_process_group`` does; ``end``:
    then ends the process with status 1 at once, as a crashed PyTorch rank does, so
    that the others' collectives fail now (JAX's orderly shutdown at exit would wait
    for them while they wait for this one)."""
    previous = sys.excepthook

    def hook(*args: Any) -> None:
        real = sys.stderr
        sys.stderr = _RankLines(real, f"[rank{rank}]: ")
        try:
            previous(*args)
        finally:
            sys.stderr.flush()
            sys.stderr = real
        if end:
            _waiting.announce_raised(rank)  # a peer's message waiting for it fails now
            sys.stdout.flush()
            os._exit(1)

    sys.excepthook = hook


def _device_index(device_id: Any) -> int:
    text = str(device_id)
    number = text.rsplit(":", 1)[-1] if ":" in text else text
    if not number.isdigit():
        raise TypeError(f"init_process_group: device_id must be a device such as 'cuda:0' "
                        f"or an index, got {device_id!r}")
    return int(number)


def destroy_process_group(group: Any = None) -> None:
    """Leaves the run: shuts JAX's distributed runtime down and forgets the group.

    Raises:
        AssertionError: no group to destroy (PyTorch's).

    PyTorch equivalent: ``torch.distributed.destroy_process_group``.
    """
    if _World.group is None:
        raise AssertionError("Process group cannot be None")
    if _not_member(group):
        return
    world = default_group(group, "destroy_process_group")
    if world.within is not None:  # a group of new_group: nothing is held for it
        return
    _set_default(None)
    if world.started_jax:
        from fnnet.torch._launched import Started

        _waiting.announce_leaving(world.rank)  # a rank waiting for this one fails now
        jax.distributed.shutdown()
        Started.settings = None
        _World.ended = True


def is_available() -> bool:
    """Always True. PyTorch equivalent: ``torch.distributed.is_available``."""
    return True


def is_gloo_available() -> bool:
    """True: gloo connects CPU processes (JAX's CPU collectives)."""
    return True


def is_nccl_available() -> bool:
    """True: ``backend="nccl"`` is accepted and runs on JAX's runtime."""
    return True


def is_mpi_available() -> bool:
    """False: there is no MPI backend."""
    return False


def is_backend_available(backend: str) -> bool:
    """Whether ``backend`` (``"gloo"``, ``"nccl"``, or ``"cpu:gloo,cuda:nccl"``) runs:
    those of :func:`is_gloo_available` and :func:`is_nccl_available` do.

    PyTorch equivalent: ``torch.distributed.is_backend_available``.
    """
    names = [part.split(":", 1)[-1] for part in str(backend).lower().split(",")]
    return all(name in _BACKENDS for name in names)


#: PyTorch's ``Backend.default_device_backend_map``
_DEVICE_BACKENDS = {"cpu": "gloo", "cuda": "nccl", "xpu": "xccl", "mps": "gloo"}


def get_default_backend_for_device(device: Any) -> str:
    """The backend PyTorch picks for ``device`` (``"gloo"`` for ``"cpu"``, ``"nccl"``
    for ``"cuda"``); every one runs on JAX's runtime here.

    Raises:
        ValueError: a device type without one (PyTorch's words).

    PyTorch equivalent: ``torch.distributed.get_default_backend_for_device``.
    """
    from fnnet.torch.device import device as as_device

    kind = as_device(device).type
    if kind not in _DEVICE_BACKENDS:
        raise ValueError(f"Default backend not registered for device : {device}")
    return _DEVICE_BACKENDS[kind]


def get_pg_count() -> int:
    """The number of process groups made: the default group and one per
    :func:`new_group` call (in every process, member or not); 0 without a group.

    PyTorch equivalent: ``torch.distributed.get_pg_count``.
    """
    return _World.group_count


def is_initialized() -> bool:
    """Whether ``init_process_group`` was called (and the group not destroyed)."""
    return _World.group is not None


def get_rank(group: Any = None) -> int:
    """This process's rank in ``group`` (-1 outside it).

    PyTorch equivalent: ``torch.distributed.get_rank``.
    """
    if _not_member(group) and _World.group is not None:
        return -1
    return default_group(group, "get_rank").rank


def get_world_size(group: Any = None) -> int:
    """The number of processes in ``group`` (-1 outside it).

    PyTorch equivalent: ``torch.distributed.get_world_size``.
    """
    if _not_member(group) and _World.group is not None:
        return -1
    return default_group(group, "get_world_size").size


def _ranks_of(group: Any, who: str) -> list[int]:
    """The default group's ranks of ``group``'s processes; for
    ``GroupMember.NON_GROUP_MEMBER``, those of the last group of ``new_group`` that this
    process is not in, as PyTorch keeps them.

    Raises:
        ValueError: NON_GROUP_MEMBER before any such group (PyTorch's words).
    """
    if _not_member(group) and _World.group is not None:
        if _World.non_member_ranks is None:
            raise ValueError(f"Group {group} is not registered, please create group with "
                             "torch.distributed.new_group API")
        return list(_World.non_member_ranks)
    return list(default_group(group, who).ranks)


def get_process_group_ranks(group: Any) -> list[int]:
    """The default group's ranks of ``group``'s processes (also of a group this process
    is not in, as PyTorch's: see :func:`new_group`).

    PyTorch equivalent: ``torch.distributed.get_process_group_ranks``.
    """
    if _not_member(group) and _World.group is not None and _World.non_member_ranks is None:
        raise KeyError(group)  # PyTorch's lookup in its registry of groups
    return _ranks_of(group, "get_process_group_ranks")


def get_global_rank(group: Any, group_rank: int) -> int:
    """The rank in the default group of ``group``'s rank ``group_rank``.

    Raises:
        ValueError: ``group_rank`` is not a rank of ``group`` (PyTorch's words).

    PyTorch equivalent: ``torch.distributed.get_global_rank``.
    """
    ranks = _ranks_of(group, "get_global_rank")
    if isinstance(group_rank, bool) or not isinstance(group_rank, int) or \
            not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return ranks[group_rank]


def get_group_rank(group: Any, global_rank: int) -> int:
    """The rank in ``group`` of the default group's rank ``global_rank`` (the identity
    for ``group.WORLD``).

    Raises:
        ValueError: ``group`` is no group of ``new_group``, or ``global_rank`` is not
            one of its processes (PyTorch's words).

    PyTorch equivalent: ``torch.distributed.get_group_rank``.
    """
    world = _World.group
    if world is not None and group is world:
        return global_rank
    if _not_member(group) and world is not None and _World.non_member_ranks is not None:
        ranks = _World.non_member_ranks
    elif not isinstance(group, ProcessGroup) or world is None or group.within is not world:
        raise ValueError(f"Group {group} is not registered, please create group with "
                         "torch.distributed.new_group API")
    else:
        ranks = group.ranks
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return ranks.index(global_rank)


def get_backend(group: Any = None) -> str:
    """The backend name given to ``init_process_group``.

    Raises:
        ValueError: ``group`` is ``GroupMember.NON_GROUP_MEMBER`` (PyTorch's words).
    """
    if _not_member(group) and _World.group is not None:
        raise ValueError("Invalid process group specified")
    return default_group(group, "get_backend").backend


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """``LOCAL_RANK`` (set by the launcher), else ``fallback_rank``."""
    local = _env_int("LOCAL_RANK")
    if local is not None:
        return local
    if fallback_rank is not None:
        return fallback_rank
    raise RuntimeError("LOCAL_RANK is not in the environment; start the script with "
                       "python -m fnnet.torch.distributed.run, or pass fallback_rank")


def is_torchelastic_launched() -> bool:
    """True under the launcher (it sets ``TORCHELASTIC_RUN_ID`` as torchrun does)."""
    return bool(os.environ.get("TORCHELASTIC_RUN_ID"))


def new_group(ranks: Any = None, timeout: Any = None, backend: Any = None,
              pg_options: Any = None, **kwargs: Any) -> ProcessGroup | int:
    """A group of the processes ``ranks`` (default every process) for the collectives'
    ``group=``; every process must call it, in the same order, as in PyTorch.

    Args:
        ranks: ranks of the default group; the group's rank ``i`` is the ``i``-th
            smallest.
        timeout, backend, pg_options: accepted and ignored.

    Returns:
        The group in its processes; ``GroupMember.NON_GROUP_MEMBER`` (-100) in the
        others, where the collectives given it do nothing (with PyTorch's warning).

    Raises:
        ValueError: a rank outside the default group, or one named twice.

    PyTorch equivalent: ``torch.distributed.new_group``.
    """
    del timeout, backend, pg_options, kwargs
    world = default_group(None, "new_group")
    _World.group_count += 1  # every process counts every call, as PyTorch's
    if ranks is None:
        return world
    chosen = sorted(ranks)
    for rank in chosen:
        if isinstance(rank, bool) or not isinstance(rank, int) or \
                not 0 <= rank < world.size:
            raise ValueError(f"new_group: ranks must be ranks in [0, {world.size}), got "
                             f"{list(ranks)!r}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"new_group: ranks must name each rank once, got {list(ranks)!r}")
    if chosen == world.ranks:
        return world
    if world.rank not in chosen:
        _World.non_member_ranks = chosen
        return group.NON_GROUP_MEMBER
    made = ProcessGroup(world.backend, False, world, chosen)
    from fnnet.torch.distributed._collectives import connect_quietly

    connect_quietly(made)  # every member is in this call now
    return made


def new_subgroups_by_enumeration(ranks_per_subgroup_list: Any, timeout: Any = None,
                                 backend: Any = None, pg_options: Any = None,
                                 group_desc: Any = None) -> tuple[Any, list[Any]]:
    """One :func:`new_group` per list of ranks; every process calls it with the same
    lists, as in PyTorch.

    Returns:
        ``(this process's group, every group)``: each group as ``new_group`` returns
        it in this process (``GroupMember.NON_GROUP_MEMBER`` where it is not a member).

    Raises:
        ValueError: no lists, or a rank in two of them (PyTorch's words).

    PyTorch equivalent: ``torch.distributed.new_subgroups_by_enumeration``.
    """
    del group_desc
    if ranks_per_subgroup_list is None or len(ranks_per_subgroup_list) == 0:
        raise ValueError("The arg 'ranks_per_subgroup_list' cannot be empty")
    subgroups: list[Any] = []
    mine: Any = None
    seen: dict[int, Any] = {}
    me = get_rank()
    for ranks in ranks_per_subgroup_list:
        made = new_group(ranks, timeout=timeout, backend=backend, pg_options=pg_options)
        subgroups.append(made)
        for rank in ranks:
            if rank in seen:
                raise ValueError(f"Rank {rank} has appeared in both subgroup {seen[rank]} "
                                 f"and {ranks}")
            seen[rank] = ranks
            if rank == me:
                mine = made
    return mine, subgroups


def new_subgroups(group_size: int | None = None, group: Any = None, timeout: Any = None,
                  backend: Any = None, pg_options: Any = None,
                  group_desc: Any = None) -> tuple[Any, list[Any]]:
    """Groups of ``group_size`` consecutive ranks of ``group`` (default every process),
    made by :func:`new_subgroups_by_enumeration`.

    Raises:
        ValueError: ``group_size`` missing without GPUs (PyTorch's default is the GPU
            count), not positive, above the world size or not dividing it (PyTorch's words).

    PyTorch equivalent: ``torch.distributed.new_subgroups``.
    """
    from fnnet.torch.device import cuda

    if group_size is None and cuda.is_available():
        group_size = cuda.device_count()
    if group_size is None:
        raise ValueError("Default group size only takes effect when CUDA is available."
                         "If your subgroup using a backend that does not depend on CUDA,"
                         "please pass in 'group_size' correctly.")
    if group_size <= 0:
        raise ValueError(f"The arg 'group_size' ({group_size}) must be positive")
    world_size = get_world_size(group)
    if world_size < group_size:
        raise ValueError(f"The arg 'group_size' ({group_size}) must not exceed the world "
                         f"size ({world_size})")
    if world_size % group_size != 0:
        raise ValueError(f"The world size ({world_size}) must be divisible by "
                         f"'group_size={group_size}'")
    ranks = get_process_group_ranks(group)
    return new_subgroups_by_enumeration(
        [ranks[i:i + group_size] for i in range(0, len(ranks), group_size)],
        timeout=timeout, backend=backend, pg_options=pg_options, group_desc=group_desc)
