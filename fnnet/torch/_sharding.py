"""Data-parallel flushes: the recorded step run by XLA's partitioner over a device mesh.

``nn.DataParallel`` records :func:`shard_batch` on its inputs: a sharding constraint that
splits the batch axis over the ``data`` axis of a mesh. A tape holding such a node is
compiled as :func:`fnnet.parallel.data_parallel` compiles a single-device step: every
source not yet on the mesh (parameters, optimizer state, labels, the PRNG key) is
replicated over it, and ``jit`` partitions the rest (means over the batch become
all-reduces). The result is the single-device result on the whole batch, BatchNorm
statistics and Dropout masks included.

``nn.parallel.DistributedDataParallel`` records :func:`per_process` on its inputs instead
(and :func:`grad_sync` on its parameters). A tape holding such a node runs in every
process as that process's own step on its own batch, PyTorch's model of data
parallelism: :func:`compile_per_process` maps it with ``shard_map`` over a mesh of one
device per process (:func:`process_mesh`), so the collectives in it (the gradients'
mean, SyncBatchNorm's statistics) reach across processes, while each process keeps and
reads its own values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.custom_derivatives import SymbolicZero
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from fnnet.parallel.inflight import serialized
from fnnet.parallel.mesh import replicated
from fnnet.torch import _waiting


def shard_batch(x: Any, sharding: NamedSharding) -> Any:
    """``x`` with its axis 0 split over the mesh of ``sharding`` (a recorded op)."""
    return jax.lax.with_sharding_constraint(x, sharding)


def mesh_of(nodes: Sequence[tuple[Any, ...]]) -> Mesh | None:
    """The mesh of the first :func:`shard_batch` or per-process node of a tape, or None."""
    for node in nodes:
        op = node[0]
        mesh: Mesh
        if op is shard_batch:
            mesh = node[1][0].mesh
            return mesh
        # compared by identity: hashing each node's op (jnp's ufuncs hash in Python) would
        # cost more than the scan
        if op is per_process or op is grad_sync or op is from_first:
            mesh = node[1][-1]
            return mesh
    return None


def compile_on_mesh(run: Callable[..., list[Any]], mesh: Mesh, donate: tuple[int, ...],
                    compiler_options: dict[str, Any] | None = None
                    ) -> Callable[..., list[Any]]:
    """``run`` jitted over ``mesh``; the returned function first places its arguments.

    Arrays already on the mesh's devices keep their sharding (the batch DataParallel
    split, parameters from the previous step); other arrays are replicated. The output
    shardings are XLA's choice: updated parameters come out replicated, a model's
    output split like its batch. On several CPU devices calls run one at a time
    (:func:`fnnet.parallel.inflight.serialized`). A :func:`process_mesh` gets
    :func:`compile_per_process` instead.
    """
    if is_process_mesh(mesh):
        return compile_per_process(run, mesh, donate, compiler_options)
    devices = set(mesh.devices.flat)
    whole = replicated(mesh)
    compiled = serialized(jax.jit(run, donate_argnums=donate,
                                  compiler_options=compiler_options), mesh.devices.flat)

    def place(value: Any) -> Any:
        if isinstance(value, jax.Array):
            return value if value.sharding.device_set == devices else \
                jax.device_put(value, whole)
        if isinstance(value, np.ndarray):
            return jax.device_put(value, whole)
        return value  # a Python scalar: a weakly typed constant of the step

    def call(*sources: Any) -> list[Any]:
        outputs: list[Any] = compiled(*map(place, sources))
        return outputs

    return call


# ----------------------------------------------------------------------------------
# One step per process (DistributedDataParallel and torch.distributed's collectives).

#: the mesh axis along which the processes of a distributed run are laid out
PROCESS_AXIS = "processes"


def process_mesh() -> Mesh:
    """A one-axis mesh (:data:`PROCESS_AXIS`) of each process's first device.

    Every process builds the same mesh (``jax.devices()`` lists every process's devices
    in one order); its entry for this process is ``jax.local_devices()[0]``, where
    jax puts this process's arrays by default.
    """
    first: dict[int, jax.Device] = {}
    for device in jax.devices():
        first.setdefault(device.process_index, device)
    return Mesh(np.array([first[p] for p in sorted(first)]), (PROCESS_AXIS,))


def is_process_mesh(mesh: Mesh) -> bool:
    """Whether ``mesh`` is a :func:`process_mesh` (or a group's part of one)."""
    return mesh.axis_names == (PROCESS_AXIS,)


def in_process_map() -> bool:
    """True while tracing inside :func:`compile_per_process`'s map (the axis is bound).

    Outside it (the recorder infers a node's output shape with ``jax.eval_shape``) the
    per-process ops are identities, which have the same shapes.
    """
    try:
        lax.axis_size(PROCESS_AXIS)
    except NameError:
        return False
    return True


def per_process(x: Any, mesh: Mesh) -> Any:
    """``x`` itself; recorded on DistributedDataParallel's inputs to mark the tape."""
    del mesh
    return x


def grad_sync(*args: Any) -> tuple[Any, ...]:
    """The parameters themselves, whose gradients are averaged over the processes.

    Called as ``grad_sync(*params, *accumulated, *counter, accumulated_mask, counted,
    mesh)``: ``params`` are every parameter that DDP trains, ``accumulated`` the
    gradients summed under ``no_sync`` for those marked in ``accumulated_mask``, and
    ``counter`` (where ``counted``) a zeros vector with one entry per parameter. In the
    backward pass the gradient ``g`` of each parameter becomes ``mean(g + a) - a`` over
    the processes (``a`` its accumulated gradient, or 0): added to ``a`` that is the
    mean of the sum, what PyTorch's all-reduce gives. A parameter the loss does not
    reach in a process adds zeros there, as with PyTorch's ``find_unused_parameters``.
    The counter's gradient is the number of processes whose loss reached each
    parameter. All of it travels in one all-reduce per dtype of one flat buffer, the
    same in every process whichever parameters its own forward pass used (processes
    whose programs differ so still exchange matching buffers).
    """
    *arrays, mask, counted, mesh = args
    del mesh
    n, k = len(mask), sum(mask)
    return _synced(mask, tuple(arrays[:n]), tuple(arrays[n:n + k]),
                   tuple(arrays[n + k:n + k + counted]))


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _synced(mask: tuple[bool, ...], params: tuple[Any, ...], accumulated: tuple[Any, ...],
            counter: tuple[Any, ...]) -> tuple[Any, ...]:
    del mask, accumulated, counter
    return params


def _synced_fwd(mask: tuple[bool, ...], params: tuple[Any, ...],
                accumulated: tuple[Any, ...], counter: tuple[Any, ...]
                ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    # symbolic_zeros: the primals come wrapped, with their values in ``.value``
    del mask
    return (tuple(p.value for p in params),
            (tuple(a.value for a in accumulated), tuple(c.value for c in counter)))


def _synced_bwd(mask: tuple[bool, ...], saved: tuple[tuple[Any, ...], tuple[Any, ...]],
                g: tuple[Any, ...]) -> tuple[tuple[Any, ...], ...]:
    accumulated, counter = saved
    zeros = tuple(jnp.zeros_like(a) for a in accumulated)
    # a symbolic zero is a parameter that this process's loss does not reach
    used = [not isinstance(gi, SymbolicZero) for gi in g]
    g = tuple(gi if u else jnp.zeros(gi.shape, gi.dtype) for gi, u in zip(g, used, strict=True))
    flags = (jnp.asarray(used, counter[0].dtype),) if counter else ()
    if not in_process_map():
        return g, zeros, flags
    rest = iter(accumulated)
    added = [next(rest) if m else None for m in mask]
    total, counts = _all_reduce_flat([gi if a is None else gi + a
                                      for gi, a in zip(g, added, strict=True)], flags)
    return (tuple(t if a is None else t - a for t, a in zip(total, added, strict=True)),
            zeros, counts)


_synced.defvjp(_synced_fwd, _synced_bwd, symbolic_zeros=True)


def _all_reduce_flat(grads: list[Any], flags: tuple[Any, ...]
                     ) -> tuple[list[Any], tuple[Any, ...]]:
    """The mean over the processes of each of ``grads``, and the sum of ``flags`` (at
    most one vector, of the first gradient's dtype): one ``psum`` per dtype of every
    array of that dtype raveled into one buffer, ``flags`` at the end of the first."""
    groups: dict[Any, list[int]] = {}
    for i, gi in enumerate(grads):
        groups.setdefault(gi.dtype, []).append(i)
    n = lax.axis_size(PROCESS_AXIS)
    total: list[Any] = [None] * len(grads)
    counts: tuple[Any, ...] = ()
    for number, members in enumerate(groups.values()):
        parts = [grads[i].ravel() for i in members]
        if number == 0:
            parts += [f.astype(grads[i].dtype) for f in flags]
        # the barrier hides from XLA which values are constant: the zeros of a process
        # whose loss reached none of the group's parameters must still be exchanged
        # (XLA would otherwise drop that all-reduce from this process's program alone)
        summed = lax.psum(lax.optimization_barrier(jnp.concatenate(parts)), PROCESS_AXIS)
        offset = 0
        for i in members:
            size = grads[i].size
            total[i] = (summed[offset:offset + size] / n).reshape(grads[i].shape)
            offset += size
        if number == 0 and flags:
            counts = (summed[offset:].astype(flags[0].dtype),)
    return total, counts


def from_first(x: Any, mesh: Mesh) -> Any:
    """Process 0's ``x`` in every process (DDP's broadcast of buffers)."""
    del mesh
    if not in_process_map():
        return x
    first = lax.axis_index(PROCESS_AXIS) == 0
    return lax.psum(jnp.where(first, x, jnp.zeros_like(x)), PROCESS_AXIS)




def compile_per_process(run: Callable[..., list[Any]], mesh: Mesh,
                        donate: tuple[int, ...] = (),
                        compiler_options: dict[str, Any] | None = None,
                        what: str = "a step's collectives") -> Callable[..., list[Any]]:
    """``run`` jitted as every process's own step; the collectives in it span processes.

    ``run`` is mapped with ``shard_map`` over ``mesh`` (:func:`process_mesh`) with
    every argument and result declared replicated and replication unchecked: each
    process passes its own values (its batch, its copy of the parameters), each
    device computes on exactly those, and ``lax.psum``-style collectives over
    :data:`PROCESS_AXIS` combine them across processes. The returned function takes
    and returns this process's arrays (numpy, or jax arrays on any local device);
    Python scalars stay weakly typed constants.
    """
    whole = NamedSharding(mesh, PartitionSpec())
    me = jax.process_index()
    local = next(d for d in mesh.devices.flat if d.process_index == me)
    mapped = jax.shard_map(run, mesh=mesh, in_specs=PartitionSpec(),
                           out_specs=PartitionSpec(), check_vma=False)
    compiled = jax.jit(mapped, donate_argnums=donate, compiler_options=compiler_options)

    def place(value: Any) -> Any:
        if isinstance(value, jax.Array):
            if value.sharding.device_set != {local}:
                if value.sharding == whole:
                    return value
                value = jax.device_put(value, local)
        elif isinstance(value, (np.ndarray, np.generic)):
            value = jax.device_put(value, local)
        else:
            return value  # a Python scalar
        return jax.make_array_from_single_device_arrays(value.shape, whole, [value])

    alone = mesh.devices.size == 1
    settle = local.platform == "cpu"
    processes = frozenset(d.process_index for d in mesh.devices.flat)

    def call(*sources: Any) -> list[Any]:
        placed = tuple(map(place, sources))
        outputs = compiled(*placed) if alone else \
            _waiting.run(compiled, placed, what, settle, processes)
        return [o.addressable_data(0) if isinstance(o, jax.Array) else o for o in outputs]

    return call
