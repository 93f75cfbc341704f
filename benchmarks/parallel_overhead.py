"""The cost of the data-parallel machinery on one device: fnnet.parallel vs the plain step.

The same MLP 784-128-64-10 step at batch 64 (SGD with momentum), on the same host
batches, run as ``fnnet.train.make_train_step`` (jit) and as each data-parallel
version over a one-device mesh: the sharding style (jit + shard_map), the pmap style and
``data_parallel`` (XLA's partitioner). Whatever they cost beyond the plain step (the
batch-size check, the mesh placement, the collectives of size one) is overhead. Prints
ms/step (median of interleaved steady-state steps) and each ratio to the plain step;
the goal is at most 1.05.

    python benchmarks/parallel_overhead.py [--steps 400] [--batch 64]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import jax
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from harness import machine, print_table, time_steps, versions  # noqa: E402

import fnnet  # noqa: E402
from fnnet import models, optim, parallel  # noqa: E402
from fnnet.train import create_train_state, make_train_step  # noqa: E402

SIZES = (784, 128, 64, 10)
BASELINE = "make_train_step (jit)"


def host_batches(count: int, batch: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, 784), dtype=np.float32),
             rng.integers(0, 10, batch).astype(np.int32)) for _ in range(count)]


def cases(batches):
    model, optimizer = models.MLP(SIZES), optim.SGD(lr=0.01, momentum=0.9)
    device = jax.devices()[0]
    mesh = parallel.data_mesh([device])

    def fresh():
        return jax.device_put(create_train_state(model, optimizer, jax.random.key(0)), device)

    def runner(step, state, place=lambda b: b):
        holder = {"state": state}

        def run(i):
            holder["state"], metrics = step(holder["state"], place(batches[i % len(batches)]))
            return metrics["loss"]

        return run, jax.block_until_ready

    return {
        BASELINE: runner(make_train_step(model, optimizer), fresh()),
        "parallel.make_train_step (shard_map, 1 device)": runner(
            parallel.make_train_step(model, optimizer, mesh=mesh),
            parallel.put_replicated(fresh(), mesh)),
        "parallel.make_pmap_train_step (1 device)": runner(
            parallel.make_pmap_train_step(model, optimizer),
            parallel.replicate(fresh(), [device]),
            lambda b: parallel.shard_batch(b, [device])),
        "parallel.data_parallel (1 device)": runner(
            parallel.data_parallel(make_train_step(model, optimizer, jit=False),
                                   mesh=mesh, donate_argnums=0),
            fresh()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    print(f"fnnet {fnnet.__version__}; {versions()}; {machine()}")
    # Small rounds: a burst of load on the machine hits every case alike.
    rows = time_steps(cases(host_batches(32, args.batch)), steps=args.steps,
                      rounds=max(1, args.steps // 10))
    print_table(f"MLP 784-128-64-10, batch {args.batch}, SGD(momentum=0.9), one device",
                rows, BASELINE)
    base = next(r for r in rows if r.name == BASELINE)
    for row in rows:
        if row.name != BASELINE:
            print(f"overhead ratio {row.name}: {row.median_ms / base.median_ms:.3f} of the "
                  f"median, {row.p10_ms / base.p10_ms:.3f} of the 10th percentile "
                  "(goal <= 1.05)")


if __name__ == "__main__":
    main()
