"""Data-parallel training on several devices and several processes (hosts).

The parameters and optimizer state are replicated on every device, each global batch is
split over a mesh axis named ``data``, and each device runs the ordinary fnnet step
(:func:`fnnet.train.make_train_step` with ``axis_name="data"``) on its shard; gradients
and metrics are averaged over the devices. There is one implementation of the step;
this package only places data and maps the step over devices, in two styles:

- sharding style (recommended): :func:`make_train_step`, :func:`make_eval_step` over a
  :func:`data_mesh`, with global arrays (:func:`put_replicated`, :func:`put_batch`,
  :func:`gather`), ``jit`` + ``shard_map``; the same script runs on one or many hosts;
- ``pmap`` style: :func:`make_pmap_train_step`, :func:`make_pmap_eval_step` with a
  leading device axis (:func:`replicate`, :func:`shard_batch`, :func:`unreplicate`);

and :func:`data_parallel` runs any single-device pure step data-parallel through XLA's
automatic partitioning.

Equal to single-device training: ``n`` steps data-parallel with global batch ``B`` give
the parameters of ``n`` single-device steps with batch ``B`` (up to float rounding):

- Dropout: the step key is the same on every device and, inside the data-parallel step
  (:func:`sharded_batch`), each Dropout draws the mask of the whole batch and keeps its
  device's rows. The masks are those of the single-device step, whatever the device
  count; the price is one draw of the global mask per device.
- BatchNorm: by default each device normalises with its shard's statistics (PyTorch
  DDP); layers given ``axis_name="data"`` use the statistics of the whole batch
  (``torch.nn.SyncBatchNorm``), with ``running_var`` unbiased by the global count. The
  running statistics of unsynchronised layers are averaged over the devices.
- The global batch must be divisible by the device count (a ValueError says so).

On several CPU devices of one process (simulated with
``XLA_FLAGS=--xla_force_host_platform_device_count=N``) these steps run one at a time:
XLA's CPU runtime can deadlock when collective programs overlap (see
:mod:`fnnet.parallel.inflight`); a hand-written ``pmap`` loop there should wait for
each step (``jax.block_until_ready``) too.

Several processes: :func:`initialize` (``FNNET_COORDINATOR``, ``FNNET_NUM_PROCESSES``,
``FNNET_PROCESS_ID``), each process reading its own slice of the data
(``fnnet.data.batches`` does by default), :func:`is_main_process` for logging and
checkpoints, and :func:`check_same_across_processes`, run by :func:`put_replicated` and
:func:`replicate`, which fails at start when the processes' states differ;
:func:`launch_local` starts a multi-process run on one machine.

PyTorch equivalent: ``torch.nn.parallel.DistributedDataParallel`` with
``torch.distributed`` and a ``DistributedSampler``.
"""

from fnnet.core.collectives import mean_gradients, mean_metrics, sync_layer_state
from fnnet.nn.functional.dropout import sharded_batch
from fnnet.parallel.auto import data_parallel
from fnnet.parallel.distributed import (
    ENV_COORDINATOR,
    ENV_NUM_PROCESSES,
    ENV_PROCESS_ID,
    check_same_across_processes,
    initialize,
    is_main_process,
)
from fnnet.parallel.launch import LaunchError, launch_local
from fnnet.parallel.mesh import DATA_AXIS, batch_sharded, data_mesh, replicated
from fnnet.parallel.pmap import (
    make_pmap_eval_step,
    make_pmap_train_step,
    replicate,
    shard_batch,
    unreplicate,
)
from fnnet.parallel.sharding import (
    gather,
    make_eval_step,
    make_train_step,
    put_batch,
    put_replicated,
)

__all__ = [
    "DATA_AXIS",
    "ENV_COORDINATOR",
    "ENV_NUM_PROCESSES",
    "ENV_PROCESS_ID",
    "LaunchError",
    "batch_sharded",
    "check_same_across_processes",
    "data_mesh",
    "data_parallel",
    "gather",
    "initialize",
    "is_main_process",
    "launch_local",
    "make_eval_step",
    "make_pmap_eval_step",
    "make_pmap_train_step",
    "make_train_step",
    "mean_gradients",
    "mean_metrics",
    "put_batch",
    "put_replicated",
    "replicate",
    "replicated",
    "shard_batch",
    "sharded_batch",
    "sync_layer_state",
    "unreplicate",
]
