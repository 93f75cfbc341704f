"""The torch.distributed names fnnet.torch does not provide, and what to use instead."""

from __future__ import annotations

_DDP = "use nn.parallel.DistributedDataParallel (data parallelism over processes)"
_JAX = "shard the model with jax.sharding (NamedSharding, shard_map) and fnnet.parallel"

#: name -> the fnnet way instead
ALTERNATIVES = {
    "rpc": "fnnet runs SPMD programs only; " + _JAX,
    "pipelining": "pipeline parallelism is not provided; " + _JAX,
    "fsdp": "fully sharded data parallelism is not provided; " + _JAX,
    "FullyShardedDataParallel": "fully sharded data parallelism is not provided; " + _JAX,
    "fully_shard": "fully sharded data parallelism is not provided; " + _JAX,
    "tensor": "DTensor is not provided; " + _JAX,
    "device_mesh": "build a jax.sharding.Mesh (fnnet.parallel.data_mesh)",
    "init_device_mesh": "build a jax.sharding.Mesh (fnnet.parallel.data_mesh)",
    "DeviceMesh": "build a jax.sharding.Mesh (fnnet.parallel.data_mesh)",
    "checkpoint": "save from rank 0 with torch.save, or use fnnet.checkpoint",
    "elastic": "there are no elastic restarts; run the launcher again",
    "optim": "ZeroRedundancyOptimizer is not provided; " + _DDP,
    "algorithms": "DDP communication hooks are not provided; " + _DDP,
    "autograd": "distributed autograd is not provided; " + _DDP,
    "TCPStore": "JAX's coordinator replaces the store",
    "FileStore": "JAX's coordinator replaces the store",
    "HashStore": "JAX's coordinator replaces the store",
}


def unsupported(name: str) -> NotImplementedError:
    """The error for ``torch.distributed.<name>`` (a NotImplementedError naming it);
    a dotted name gets its first part's alternative."""
    instead = ALTERNATIVES.get(name.split(".")[0], _DDP + ", the collectives all_reduce, "
                               "broadcast, all_gather, reduce_scatter, or " + _JAX)
    return NotImplementedError(f"fnnet.torch does not support torch.distributed.{name}; "
                               f"{instead}")
