"""Several processes (hosts) training one model: start-up, the main process, and a check
that every process starts from the same state.

Every process runs the same script. :func:`initialize` connects them (before any other
JAX call); then ``jax.devices()`` lists the devices of every process, each process reads
its own slice of every global batch (``fnnet.data.batches(..., process_index,
process_count)``, the defaults) and :func:`~fnnet.parallel.put_batch` assembles the
global batch from the slices. Metrics and checkpoints are written by the main process
only (:func:`is_main_process`).

Environment variables read by :func:`initialize` when the argument is not given:

- ``FNNET_COORDINATOR``: ``host:port`` of process 0's coordinator service;
- ``FNNET_NUM_PROCESSES``: the number of processes;
- ``FNNET_PROCESS_ID``: this process's index, ``0 .. FNNET_NUM_PROCESSES - 1``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

ENV_COORDINATOR = "FNNET_COORDINATOR"
ENV_NUM_PROCESSES = "FNNET_NUM_PROCESSES"
ENV_PROCESS_ID = "FNNET_PROCESS_ID"


def _int_setting(value: int | None, env: str, name: str) -> int | None:
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        return int(value)
    text = os.environ.get(env, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{env} must be an integer, got {text!r}") from None


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    local_device_ids: int | Sequence[int] | None = None,
    initialization_timeout: int = 300,
) -> bool:
    """Connects this process to the others of a multi-process run.

    Each argument left None is read from its environment variable
    (``FNNET_COORDINATOR``, ``FNNET_NUM_PROCESSES``, ``FNNET_PROCESS_ID``). With none
    of them set anywhere, or a single process, nothing is done (a single-process run).
    On the CPU, cross-process collectives use gloo. Call it first, before any other JAX
    computation.

    Args:
        coordinator_address: ``host:port`` where process 0 serves the coordinator
            (every process passes the same address).
        num_processes: the number of processes.
        process_id: this process, in ``[0, num_processes)``.
        local_device_ids: restrict this process to these local devices (e.g. one GPU
            per process).
        initialization_timeout: seconds to wait for every process to connect.

    Returns:
        True when ``jax.distributed.initialize`` was called (now, or before with the
        same process count and id, as ``import fnnet.torch`` does under
        ``python -m fnnet.torch.distributed.run``), False for a single-process run.

    Raises:
        TypeError: ``coordinator_address`` is not a str.
        RuntimeError: JAX's distributed runtime runs already with another process count
            or id.
        ValueError: an environment variable that is not an integer, a missing
            setting (the coordinator, or the process id, of a multi-process run), a
            malformed address (or a port outside [1, 65535]), a process id out of range
            or a timeout that is not a positive int.

    Example::

        # on each of 2 hosts: FNNET_COORDINATOR=10.0.0.1:1234 FNNET_NUM_PROCESSES=2
        # FNNET_PROCESS_ID=<0 or 1> python train.py
        fnnet.parallel.initialize()

    PyTorch equivalent: ``torch.distributed.init_process_group("gloo" or "nccl")`` with
    ``MASTER_ADDR``/``MASTER_PORT``, ``WORLD_SIZE`` and ``RANK``.
    """
    if coordinator_address is not None and not isinstance(coordinator_address, str):
        raise TypeError(f"coordinator_address must be a str 'host:port', got "
                        f"{type(coordinator_address).__name__} {coordinator_address!r}")
    if isinstance(initialization_timeout, bool) or \
            not isinstance(initialization_timeout, int) or initialization_timeout < 1:
        raise ValueError(f"initialization_timeout must be a positive number of seconds "
                         f"(an int), got {initialization_timeout!r}")
    if coordinator_address is None:
        coordinator_address = os.environ.get(ENV_COORDINATOR, "").strip() or None
    num_processes = _int_setting(num_processes, ENV_NUM_PROCESSES, "num_processes")
    process_id = _int_setting(process_id, ENV_PROCESS_ID, "process_id")
    if coordinator_address is None and num_processes is None and process_id is None:
        return False
    if num_processes is None:
        raise ValueError(f"a multi-process run needs num_processes= (or {ENV_NUM_PROCESSES})")
    if num_processes < 1:
        raise ValueError(f"num_processes must be at least 1, got {num_processes}")
    if num_processes == 1:
        return False
    if coordinator_address is None:
        raise ValueError(
            f"num_processes={num_processes} needs coordinator_address='host:port' (or "
            f"{ENV_COORDINATOR}), the address of process 0"
        )
    host, _, port = coordinator_address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"coordinator_address must be 'host:port', got {coordinator_address!r}"
        )
    if process_id is None:
        raise ValueError(f"a multi-process run needs process_id= (or {ENV_PROCESS_ID})")
    if not 0 <= process_id < num_processes:
        raise ValueError(f"process_id must be in [0, {num_processes}), got {process_id}")
    if jax.distributed.is_initialized():
        # started already (``import fnnet.torch`` under the launcher does): the same run
        if (jax.process_count(), jax.process_index()) != (num_processes, process_id):
            raise RuntimeError(
                f"initialize: JAX's distributed runtime already runs this as process "
                f"{jax.process_index()} of {jax.process_count()}, not {process_id} of "
                f"{num_processes}")
        return True
    # CPU devices of different processes talk through gloo (no effect on GPUs and TPUs).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address, num_processes, process_id,
                               local_device_ids=local_device_ids,
                               initialization_timeout=initialization_timeout)
    return True


def is_main_process() -> bool:
    """True on process 0, the one that logs metrics and writes checkpoints.

    PyTorch equivalent: ``torch.distributed.get_rank() == 0``.
    """
    return jax.process_index() == 0


def _host_value(leaf: Any) -> np.ndarray:
    """A numpy copy of one leaf held whole by this process."""
    if isinstance(leaf, jax.Array):
        if jax.numpy.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        if not leaf.is_fully_addressable:
            if not leaf.is_fully_replicated:
                raise ValueError(
                    "check_same_across_processes needs values held whole by each process "
                    f"(replicated), got an array sharded as {leaf.sharding}"
                )
            leaf = leaf.addressable_data(0)
    return np.asarray(leaf)


def _digest(data: bytes) -> np.ndarray:
    """The first 8 bytes of the sha256 of ``data``, as 2 uint32 words."""
    return np.frombuffer(hashlib.sha256(data).digest()[:8], np.uint32).copy()


def fingerprint(tree: Any) -> tuple[list[str], np.ndarray, np.ndarray]:
    """What :func:`check_same_across_processes` compares.

    Returns:
        ``(paths, structure, values)``: the leaf paths, ``[2]`` uint32 words hashing
        the tree structure with every leaf's shape and dtype, and ``[leaves, 2]``
        uint32 words hashing each leaf's bytes.
    """
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
    paths = [jax.tree_util.keystr(path) for path, _ in flat]
    hosts = [_host_value(leaf) for _, leaf in flat]
    layout = repr((str(treedef), [(p, h.shape, str(h.dtype)) for p, h in zip(paths, hosts,
                                                                            strict=True)]))
    values = np.stack([_digest(h.tobytes()) for h in hosts]) if hosts else \
        np.zeros((0, 2), np.uint32)
    return paths, _digest(layout.encode()), values


def compare_fingerprints(paths: list[str], structures: np.ndarray,
                         values: np.ndarray | None, what: str = "state") -> None:
    """Raises a ValueError naming the processes whose fingerprint differs from process 0's.

    Args:
        paths: the leaf paths (process 0's).
        structures: ``[processes, 2]`` structure hashes, one row per process.
        values: ``[processes, leaves, 2]`` value hashes, or None when the structures
            were not yet known to agree.
        what: what the tree is, for the message.
    """
    bad = [p for p in range(len(structures)) if not np.array_equal(structures[p], structures[0])]
    if bad:
        raise ValueError(
            f"{what} differs across processes: the tree structure, shapes or dtypes of "
            f"process(es) {bad} differ from process 0's; every process must build the "
            "same model and optimizer"
        )
    if values is None:
        return
    for p in range(1, len(values)):
        differ = [i for i in range(len(paths)) if not np.array_equal(values[p, i], values[0, i])]
        if differ:
            more = f" (and {len(differ) - 1} more)" if len(differ) > 1 else ""
            raise ValueError(
                f"{what} differs across processes: the values of {what}{paths[differ[0]]}"
                f"{more} on process {p} differ from process 0's; initialise every process "
                "with the same seed, or broadcast process 0's values with "
                "jax.experimental.multihost_utils.broadcast_one_to_all"
            )


def check_same_across_processes(tree: Any, what: str = "state") -> None:
    """Checks that every process holds the same tree: structure, shapes, dtypes, values.

    Data parallelism silently goes wrong when processes start from different
    parameters (each applies the same averaged update to its own copy); this check
    makes the mismatch an error at start. Each process hashes its tree (see
    :func:`fingerprint`) and the hashes are gathered from all processes: first the
    structure, then, where the structures agree, one hash per leaf. Every process
    raises the same error. A single process returns at once.

    Args:
        tree: a pytree of arrays held whole by each process (e.g. a ``TrainState``).
        what: what the tree is, for the message.

    Raises:
        ValueError: the trees differ; the message names the processes and the first
            differing leaf.
    """
    if jax.process_count() == 1:
        return
    from jax.experimental import multihost_utils

    from fnnet.parallel.inflight import wait_for_previous

    wait_for_previous()
    paths, structure, values = fingerprint(tree)
    structures = np.asarray(multihost_utils.process_allgather(structure))
    compare_fingerprints(paths, structures, None, what)
    gathered = np.asarray(multihost_utils.process_allgather(values))
    compare_fingerprints(paths, structures, gathered, what)
