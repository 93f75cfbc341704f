"""Data-parallel MNIST in the ``pmap`` style: one copy of the state per device.

The classic multi-device JAX loop: replicate the state on the local devices, reshape
each batch to ``[devices, batch / devices, ...]``, run a step mapped over that leading
axis whose gradients are averaged with ``lax.pmean`` over the axis ``data``, and take
device 0's copy of the metrics. The step is ``fnnet.parallel.make_pmap_train_step``:
``fnnet.train.make_train_step(model, optimizer, jit=False, axis_name="data")`` mapped as
``jax.pmap(step, axis_name="data")`` maps it. Runs unchanged on simulated CPU devices,
GPUs or a TPU, and on several processes (each passes its own slice of every batch):

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python pmap_mnist.py
    python pmap_mnist.py --dataset digits --epochs 5

Data: the official MNIST test set (``--data-dir``, default ``$FNNET_MNIST_DIR``) split
8,000 / 2,000, or the bundled 8x8 digits (``--dataset digits``).
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
from fnnet.train import create_train_state  # noqa: E402


def evaluate(p_eval_step, states, images, labels) -> dict[str, float]:
    """Loss and accuracy over the held-out set; each process evaluates its slice and the
    metrics are averaged over every device."""
    devices = jax.local_device_count()
    batch = min(1000, len(labels) // jax.process_count() // devices * devices)
    totals, count = {}, 0.0
    for x, y in data.batches(images, labels, batch, shuffle=False, drop_last=True):
        metrics = parallel.unreplicate(p_eval_step(states, parallel.shard_batch((x, y))))
        n = float(metrics["count"])
        count += n
        for name in ("loss", "accuracy"):
            totals[name] = totals.get(name, 0.0) + float(metrics[name]) * n
    return {name: total / count for name, total in totals.items()}


def train_and_evaluate(args: argparse.Namespace):
    """Trains ``Net`` with ``pmap`` on the local devices; returns ``(state, history)``
    with a single (unreplicated) state."""
    (train_x, train_y), (test_x, test_y) = load_data(args.dataset, args.data_dir)
    num_devices = jax.local_device_count()
    per_process = args.batch_size // jax.process_count()
    model = Net(int(np.prod(train_x.shape[1:])), axis_name=parallel.DATA_AXIS)
    optimizer = optim.SGD(lr=args.lr, momentum=0.9)
    p_train_step = parallel.make_pmap_train_step(model, optimizer)
    p_eval_step = parallel.make_pmap_eval_step(model)
    states = parallel.replicate(create_train_state(model, optimizer, jax.random.key(args.seed)))
    say = print if parallel.is_main_process() else (lambda *a, **k: None)
    say(f"{args.dataset}: {len(train_y)} training, {len(test_y)} held-out examples; "
          f"pmap over {num_devices} devices per process, global batch {args.batch_size}",
        flush=True)

    history: dict[str, list[float]] = {"loss": [], "eval_accuracy": []}
    steps = 0
    for epoch in range(args.epochs):
        start = time.perf_counter()
        for x, y in data.batches(train_x, train_y, per_process, seed=args.seed, epoch=epoch,
                                 drop_last=True):
            states, metrics = p_train_step(states, parallel.shard_batch((x, y)))
            steps += 1
            if args.steps is not None and steps >= args.steps:
                break
        # Every device holds the same metrics: take device 0's.
        loss = float(parallel.unreplicate(metrics)["loss"])
        results = evaluate(p_eval_step, states, test_x, test_y)
        history["loss"].append(loss)
        history["eval_accuracy"].append(results["accuracy"])
        say(f"epoch {epoch + 1}: train loss {loss:.4f}, held-out accuracy "
              f"{results['accuracy']:.2%} ({time.perf_counter() - start:.1f} s)", flush=True)
        if args.steps is not None and steps >= args.steps:
            break
    return parallel.unreplicate(states), history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    parallel.initialize()  # several processes only: reads FNNET_COORDINATOR etc.
    train_and_evaluate(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
