"""Any pure step over a batch, run data-parallel by XLA's automatic partitioner.

For a function written for one device (no collectives, no axis names) — e.g. the
compiled step of the ``fnnet.torch`` shim — :func:`data_parallel` splits the batch
arguments over the devices, replicates every other argument, and lets ``jit`` partition
the computation: means over the batch become all-reduces, so the result is the
single-device result on the whole batch (BatchNorm statistics included, and Dropout
masks too, with ``jax_threefry_partitionable``, JAX's default).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
from jax.sharding import Mesh

from fnnet.nn.tree_check import first_leaf
from fnnet.parallel.inflight import serialized
from fnnet.parallel.mesh import batch_sharded, batch_size, check_divisible, data_mesh, replicated


def data_parallel(
    fn: Callable[..., Any],
    *,
    batch_argnums: int | Sequence[int] = 1,
    mesh: Mesh | None = None,
    donate_argnums: int | Sequence[int] = (),
) -> Callable[..., Any]:
    """Runs ``fn`` with its batch arguments split over the devices of ``mesh``.

    Args:
        fn: a pure function written for one device, e.g. ``step(state, batch) ->
            (state, metrics)``; its batch arguments have the batch on axis 0.
        batch_argnums: the positions of the batch arguments (pytrees of ``[B, ...]``
            arrays), split along axis 0; every other array argument is replicated.
        mesh: the data mesh (default: :func:`~fnnet.parallel.data_mesh`, every device).
        donate_argnums: arguments whose buffers the outputs may reuse.

    Returns:
        ``run(*args)``, jitted; its outputs are global arrays replicated on every device
        (ready to be passed back, e.g. the updated state). Array arguments may be host
        arrays, single-device arrays, or arrays with the placement ``run`` gives.

    Raises:
        TypeError: ``fn`` is not callable, or ``mesh`` not a ``jax.sharding.Mesh``.
        ValueError: bad ``batch_argnums``; at the call, an argument position beyond the
            arguments, or a batch argument's size not divisible by the number of devices.

    Example::

        step = data_parallel(single_device_step, batch_argnums=1)
        state, metrics = step(state, (x, y))   # x: [64, ...] split over 8 devices

    PyTorch equivalent: ``torch.nn.DataParallel(module)`` (the batch scattered over the
    devices, gradients reduced), for a whole step.
    """
    if not callable(fn):
        raise TypeError(f"data_parallel: fn must be callable, got {type(fn).__name__}")
    batch_args = {batch_argnums} if isinstance(batch_argnums, int) else set(batch_argnums)
    if not batch_args or any(isinstance(i, bool) or not isinstance(i, int) or i < 0
                             for i in batch_args):
        raise ValueError(f"data_parallel: batch_argnums must be one or more argument "
                         f"positions (ints >= 0), got {batch_argnums!r}")
    mesh = data_mesh() if mesh is None else mesh
    split = batch_sharded(mesh, who="data_parallel")  # checks mesh first
    whole = replicated(mesh)
    devices = mesh.size
    compiled: dict[int, Callable[..., Any]] = {}  # by number of arguments

    def run(*args: Any) -> Any:
        if max(batch_args) >= len(args):
            raise ValueError(f"data_parallel: batch_argnums={batch_argnums!r} names argument "
                             f"{max(batch_args)}, but the call has {len(args)} arguments")
        for i in batch_args:
            check_divisible(batch_size(args[i], what=f"argument {i}"), devices,
                            what="global batch")
        for i, arg in enumerate(args):
            # XLA's multi-device executable may crash the process on a deleted buffer.
            found = first_leaf(arg, lambda x: isinstance(x, jax.Array) and x.is_deleted())
            if found is not None:
                where = f" at {found[0]!r}" if found[0] else ""
                raise ValueError(
                    f"data_parallel: argument {i} holds a deleted array{where}: "
                    "it was donated to an earlier call (donate_argnums); pass what that "
                    "call returned instead")
        if len(args) not in compiled:
            shardings = tuple(split if i in batch_args else whole for i in range(len(args)))
            compiled[len(args)] = serialized(
                jax.jit(fn, in_shardings=shardings, out_shardings=whole,
                        donate_argnums=donate_argnums), mesh.devices.flat)
        return compiled[len(args)](*args)

    return run
