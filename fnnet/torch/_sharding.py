"""Data-parallel flushes: the recorded step run by XLA's partitioner over a device mesh.

``nn.DataParallel`` records :func:`shard_batch` on its inputs: a sharding constraint that
splits the batch axis over the ``data`` axis of a mesh. A tape holding such a node is
compiled as :func:`fnnet.parallel.data_parallel` compiles a single-device step: every
source not yet on the mesh (parameters, optimizer state, labels, the PRNG key) is
replicated over it, and ``jit`` partitions the rest (means over the batch become
all-reduces). The result is the single-device result on the whole batch, BatchNorm
statistics and Dropout masks included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding

from fnnet.parallel.inflight import serialized
from fnnet.parallel.mesh import replicated


def shard_batch(x: Any, sharding: NamedSharding) -> Any:
    """``x`` with its axis 0 split over the mesh of ``sharding`` (a recorded op)."""
    return jax.lax.with_sharding_constraint(x, sharding)


def mesh_of(nodes: Sequence[tuple]) -> Mesh | None:
    """The mesh of the first :func:`shard_batch` node of a tape, or None."""
    for node in nodes:
        if node[0] is shard_batch:
            return node[1][0].mesh
    return None


def compile_on_mesh(run: Callable[..., list], mesh: Mesh, donate: tuple[int, ...],
                    compiler_options: dict[str, Any] | None = None) -> Callable[..., list]:
    """``run`` jitted over ``mesh``; the returned function first places its arguments.

    Arrays already on the mesh's devices keep their sharding (the batch DataParallel
    split, parameters from the previous step); other arrays are replicated. The output
    shardings are XLA's choice: updated parameters come out replicated, a model's
    output split like its batch. On several CPU devices calls run one at a time
    (:func:`fnnet.parallel.inflight.serialized`).
    """
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

    def call(*sources: Any) -> list:
        return compiled(*map(place, sources))

    return call
