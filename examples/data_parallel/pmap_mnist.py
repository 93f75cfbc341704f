"""Data-parallel MNIST in the ``pmap`` style: one copy of the state per device.

The classic multi-device JAX loop: replicate the state on the local devices, reshape
each batch to ``[devices, batch / devices, ...]``, run a ``jax.pmap``-ed step whose
gradients are averaged with ``lax.pmean`` over the axis ``data``, and take one copy back
for evaluation. The step is ``fnnet.parallel.make_pmap_train_step``, i.e.
``jax.pmap(fnnet.train.make_train_step(model, optimizer, jit=False,
axis_name="data"), axis_name="data")``. Runs unchanged on simulated CPU devices, GPUs
or a TPU:

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
from fnnet.train import create_train_state, evaluate  # noqa: E402


def train_and_evaluate(args: argparse.Namespace):
    """Trains ``Net`` with ``pmap`` on the local devices; returns ``(state, history)``
    with a single (unreplicated) state."""
    (train_x, train_y), (test_x, test_y) = load_data(args.dataset, args.data_dir)
    num_devices = jax.local_device_count()
    per_process = args.batch_size // jax.process_count()
    model = Net(int(np.prod(train_x.shape[1:])), axis_name=parallel.DATA_AXIS)
    optimizer = optim.SGD(lr=args.lr, momentum=0.9)
    p_train_step = parallel.make_pmap_train_step(model, optimizer)
    states = parallel.replicate(create_train_state(model, optimizer, jax.random.key(args.seed)))
    print(f"{args.dataset}: {len(train_y)} training, {len(test_y)} held-out examples; "
          f"pmap over {num_devices} devices, global batch {args.batch_size}", flush=True)

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
        # Every device holds the same state and metrics: take device 0's.
        loss = float(parallel.unreplicate(metrics)["loss"])
        state = parallel.unreplicate(states)
        results = evaluate(model, state, (test_x, test_y))  # one device, eval mode
        history["loss"].append(loss)
        history["eval_accuracy"].append(results["accuracy"])
        print(f"epoch {epoch + 1}: train loss {loss:.4f}, held-out accuracy "
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
