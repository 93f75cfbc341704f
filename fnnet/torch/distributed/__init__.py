"""``torch.distributed`` over JAX's multi-process runtime.

A PyTorch DDP script runs unchanged but for its imports: ``init_process_group`` starts
``jax.distributed`` from PyTorch's settings (``MASTER_ADDR``, ``MASTER_PORT``,
``WORLD_SIZE``, ``RANK``), rank and world size are JAX's process index and count, and
the collectives (``all_reduce``, ``broadcast``, ``all_gather``, ``reduce_scatter``) are
small jitted programs whose JAX collectives span the processes, and the object
collectives (``all_gather_object``, ``broadcast_object_list``, ...) send pickled bytes
through them. Point-to-point messages (``send``, ``recv``, ``isend``, ``irecv``,
``batch_isend_irecv``, ``send_object_list``) travel through the key-value store of
JAX's coordinator. The launcher is ``python -m fnnet.torch.distributed.run`` (``fnnet
torchrun``), with torchrun's flags. ``nn.parallel.DistributedDataParallel`` averages
gradients inside the compiled step, and ``utils.data.distributed.DistributedSampler``
splits the data as PyTorch does. See docs/distributed.md.

Names of ``torch.distributed`` that fnnet.torch does not provide (``rpc``,
``pipelining``, ``fsdp``, ``TCPStore``, ...) raise ``NotImplementedError`` naming them
and the fnnet way instead.

PyTorch equivalent: ``torch.distributed``.
"""

# ruff: noqa: F401 (re-exports, listed in __all__ below)

from __future__ import annotations

import importlib
from typing import Any

from fnnet.torch.distributed._collectives import (
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_single,
    all_reduce,
    all_to_all,
    all_to_all_single,
    barrier,
    broadcast,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_single,
    reduce_scatter_tensor,
    scatter,
)
from fnnet.torch.distributed._group import (
    Backend,
    DistBackendError,
    DistError,
    DistNetworkError,
    DistStoreError,
    ProcessGroup,
    ReduceOp,
    default_pg_timeout,
    destroy_process_group,
    get_backend,
    get_default_backend_for_device,
    get_global_rank,
    get_group_rank,
    get_node_local_rank,
    get_pg_count,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_backend_available,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    new_group,
    new_subgroups,
    new_subgroups_by_enumeration,
)
from fnnet.torch.distributed._monitored import monitored_barrier
from fnnet.torch.distributed._objects import (
    all_gather_object,
    broadcast_object_list,
    gather_object,
    recv_object_list,
    scatter_object_list,
    send_object_list,
)
from fnnet.torch.distributed._p2p import (
    P2POp,
    batch_isend_irecv,
    irecv,
    isend,
    recv,
    send,
)
from fnnet.torch.distributed._unsupported import unsupported as _unsupported

GroupMember = group


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    if name in ("run", "launch"):  # the launchers, submodules
        return importlib.import_module(f"fnnet.torch.distributed.{name}")
    raise _unsupported(name)  # a NotImplementedError, never an AttributeError


# written out so that type checkers see the names as exported
__all__ = [
    "Backend", "DistBackendError", "DistError", "DistNetworkError", "DistStoreError",
    "GroupMember", "P2POp", "ProcessGroup", "ReduceOp", "Work", "all_gather",
    "all_gather_into_tensor", "all_gather_object", "all_gather_single", "all_reduce",
    "all_to_all", "all_to_all_single", "barrier", "batch_isend_irecv", "broadcast",
    "broadcast_object_list", "default_pg_timeout", "destroy_process_group", "gather",
    "gather_object", "get_backend", "get_default_backend_for_device", "get_global_rank",
    "get_group_rank", "get_node_local_rank", "get_pg_count", "get_process_group_ranks", "get_rank",
    "get_world_size", "group", "init_process_group", "irecv", "is_available",
    "is_backend_available", "is_gloo_available", "is_initialized", "is_mpi_available",
    "is_nccl_available", "is_torchelastic_launched", "isend", "monitored_barrier",
    "new_group", "new_subgroups", "new_subgroups_by_enumeration", "recv",
    "recv_object_list", "reduce", "reduce_scatter", "reduce_scatter_single",
    "reduce_scatter_tensor", "scatter", "scatter_object_list", "send", "send_object_list",
]
