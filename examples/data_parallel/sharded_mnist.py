"""Data-parallel MNIST in the sharding style: a device mesh, global arrays, jit + shard_map.

The state is replicated on every device of a one-axis mesh ``data``; each global batch
is split over it; the step is ``fnnet.train``'s step run on each shard by
``shard_map``. The same script runs on one process (CPU, GPUs or TPU) and on several:
each process reads its own slice of every batch and ``put_batch`` assembles the global
batch; only process 0 prints and saves.

    # 8 simulated CPU devices
    XLA_FLAGS=--xla_force_host_platform_device_count=8 python sharded_mnist.py
    # the bundled digits, no download
    python sharded_mnist.py --dataset digits --epochs 5
    # 2 processes x 2 CPU devices on this machine
    python launch_two_processes.py -- --dataset digits

Several hosts: run it on each with ``FNNET_COORDINATOR=host0:port``,
``FNNET_NUM_PROCESSES`` and ``FNNET_PROCESS_ID`` set.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import jax
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from common import Net, add_arguments, load_data  # noqa: E402

from fnnet import data, optim, parallel  # noqa: E402
from fnnet.nn.state_dict import state_dict  # noqa: E402
from fnnet.train import create_train_state  # noqa: E402


def evaluate(eval_step, state, images, labels, mesh) -> dict[str, float]:
    """Loss and accuracy over the held-out set, in global batches split over the mesh."""
    per_process = len(labels) // jax.process_count()
    batch = min(1000, per_process // len(mesh.local_devices) * len(mesh.local_devices))
    totals, count = {}, 0.0
    for x, y in data.batches(images, labels, batch, shuffle=False, drop_last=True):
        metrics = parallel.gather(eval_step(state, parallel.put_batch((x, y), mesh)))
        n = float(metrics["count"])
        count += n
        for name in ("loss", "accuracy"):
            totals[name] = totals.get(name, 0.0) + float(metrics[name]) * n
    return {name: total / count for name, total in totals.items()}


def train_and_evaluate(args: argparse.Namespace, mesh=None):
    """Trains ``Net`` data-parallel on ``mesh`` (default: every device); returns
    ``(state, history)`` with the state replicated on the mesh."""
    mesh = parallel.data_mesh() if mesh is None else mesh
    (train_x, train_y), (test_x, test_y) = load_data(args.dataset, args.data_dir)
    processes = jax.process_count()
    if args.batch_size % processes:
        raise ValueError(f"--batch-size {args.batch_size} must be divisible by the "
                         f"{processes} processes")
    model = Net(int(np.prod(train_x.shape[1:])), axis_name=parallel.DATA_AXIS)
    optimizer = optim.SGD(lr=args.lr, momentum=0.9)
    state = parallel.put_replicated(
        create_train_state(model, optimizer, jax.random.key(args.seed)), mesh)
    train_step = parallel.make_train_step(model, optimizer, mesh=mesh)
    eval_step = parallel.make_eval_step(model, mesh=mesh)
    say = print if parallel.is_main_process() else (lambda *a, **k: None)
    say(f"{args.dataset}: {len(train_y)} training, {len(test_y)} held-out examples; "
        f"{mesh.size} devices on {processes} process(es), global batch {args.batch_size}")

    history: dict[str, list[float]] = {"loss": [], "eval_accuracy": []}
    steps = 0
    for epoch in range(args.epochs):
        start = time.perf_counter()
        # This process's slice of each global batch (all of it on one process).
        for x, y in data.batches(train_x, train_y, args.batch_size // processes,
                                 seed=args.seed, epoch=epoch, drop_last=True):
            state, metrics = train_step(state, parallel.put_batch((x, y), mesh))
            steps += 1
            if args.steps is not None and steps >= args.steps:
                break
        loss = float(parallel.gather(metrics)["loss"])
        results = evaluate(eval_step, state, test_x, test_y, mesh)
        history["loss"].append(loss)
        history["eval_accuracy"].append(results["accuracy"])
        say(f"epoch {epoch + 1}: train loss {loss:.4f}, held-out accuracy "
            f"{results['accuracy']:.2%} ({time.perf_counter() - start:.1f} s)", flush=True)
        if args.steps is not None and steps >= args.steps:
            break
    return state, history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    parser.add_argument("--save", default=None,
                        help="write the trained parameters (state_dict names) to this .npz")
    args = parser.parse_args(argv)
    parallel.initialize()  # reads FNNET_COORDINATOR etc.; nothing to do on one process
    state, _ = train_and_evaluate(args)
    params = parallel.gather(state.params)  # every process takes part
    if args.save and parallel.is_main_process():
        np.savez(args.save, **state_dict(params))
    return 0


if __name__ == "__main__":
    sys.exit(main())
