"""How much of a training epoch the data path costs, and how fast augmentation is.

Trains the MLP 784-128-64-10 for one epoch at a time on the 10,000 real MNIST test
images (batch 64, 156 steps) in three ways and reports, for each, the share of the
epoch's wall time spent outside the compiled step:

- ``resident``: every batch already on the device before the epoch starts; the epoch
  is the compiled steps alone (the baseline);
- ``DataLoader``: host shuffling and batching, the next 2 batches copied to the
  device ahead of the step that needs them (see ``fnnet.data.prefetch_to_device``);
- ``DeviceDataset``: the whole set on the device once, each step gathering its batch
  by index inside the compiled step (the gather is counted as data-path time).

It also times each data path alone, without the step (for ``DeviceDataset``: making
the epoch's index rows): its cost per batch, were none of it overlapped with the step.

``outside = 1 - resident / mode``, from each mode's fastest of ``--repeats``
interleaved epochs (the fastest is the estimate least disturbed by other work on a
shared machine; medians are printed beside it). Pixels travel as
uint8 and become float32 inside the step in every mode. Then it times
crop + flip + rotation of a 128x3x32x32 batch under ``jax.jit``.

Usage::

    python benchmarks/data_path.py [--mnist-dir DIR] [--repeats 5]

The MNIST folder defaults to ``$FNNET_MNIST_DIR`` or ``../shared/data/mnist``.
"""

from __future__ import annotations

import argparse
import functools
import os
import pathlib
import statistics
import time

import jax
import numpy as np
import optax

from fnnet import data
from fnnet.data import augment
from fnnet.models import MLP
from fnnet.train import create_train_state, make_train_step

BATCH = 64


def default_mnist_dir() -> pathlib.Path:
    env = os.environ.get("FNNET_MNIST_DIR")
    if env:
        return pathlib.Path(env)
    return pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def make_steps(model, optimizer):
    """The same compiled math fed two ways: with a batch, or with indices to gather."""
    core = make_train_step(model, optimizer, jit=False)

    @functools.partial(jax.jit, donate_argnums=0)
    def step_batch(state, x, y):
        return core(state, (data.to_float(x), y))

    @functools.partial(jax.jit, donate_argnums=0)
    def step_indices(state, arrays, idx):
        x, y = data.gather(arrays, idx)
        return core(state, (data.to_float(x), y))

    return step_batch, step_indices


def timed_epoch(run_epoch, state):
    start = time.perf_counter()
    state, metrics = run_epoch(state)
    jax.block_until_ready((state, metrics))
    return time.perf_counter() - start, state


def bench_epochs(images, labels, repeats):
    model, optimizer = MLP((784, 128, 64, 10)), optax.sgd(0.01, momentum=0.9)
    step_batch, step_indices = make_steps(model, optimizer)
    state = create_train_state(model, optimizer, jax.random.key(0))
    loader = data.DataLoader((images, labels), BATCH, seed=0, drop_last=True, prefetch=2)
    device_ds = data.DeviceDataset(images, labels, BATCH, seed=0)

    def resident(epoch):
        batches = jax.device_put(list(loader.host_batches(epoch)))
        jax.block_until_ready(batches)

        def run(state):
            metrics = None
            for x, y in batches:
                state, metrics = step_batch(state, x, y)
            return state, metrics
        return run

    def prefetching(epoch):
        def run(state):
            metrics = None
            for x, y in loader.epoch(epoch):
                state, metrics = step_batch(state, x, y)
            return state, metrics
        return run

    def on_device(epoch):
        def run(state):
            metrics = None
            for idx in device_ds.epoch(epoch):
                state, metrics = step_indices(state, device_ds.data, idx)
            return state, metrics
        return run

    def loader_alone(epoch):
        def run(state):
            batches = list(loader.epoch(epoch))
            return state, batches[-1]
        return run

    def device_alone(epoch):  # the index rows; the gather runs inside the step
        def run(state):
            rows = device_ds.epoch(epoch)
            return state, rows[-1]
        return run

    modes = {"resident": resident, "DataLoader": prefetching, "DeviceDataset": on_device,
             "DataLoader alone": loader_alone, "DeviceDataset alone": device_alone}
    times = {name: [] for name in modes}
    for epoch in range(repeats + 1):  # epoch 0 compiles and warms up
        for name, make in modes.items():
            seconds, state = timed_epoch(make(epoch), state)
            if epoch > 0:
                times[name].append(seconds)
    return {name: (min(t), statistics.median(t)) for name, t in times.items()}


def bench_augment(repeats=50):
    pipeline = jax.jit(augment.compose(
        functools.partial(augment.random_crop, size=32, padding=4),
        augment.random_horizontal_flip,
        functools.partial(augment.random_rotation, degrees=15.0),
    ))
    x = jax.device_put(np.random.default_rng(0).random((128, 3, 32, 32), np.float32))
    key = jax.random.key(0)
    pipeline(key, x).block_until_ready()
    samples = []
    for i in range(repeats):
        k = jax.random.fold_in(key, i)
        start = time.perf_counter()
        pipeline(k, x).block_until_ready()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist-dir", type=pathlib.Path, default=default_mnist_dir())
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    images, labels = data.load_mnist_idx(args.mnist_dir, split="test")
    print(f"device: {jax.devices()[0].device_kind} ({jax.default_backend()}), "
          f"{len(labels)} real MNIST images, MLP 784-128-64-10, batch {BATCH}, "
          f"{len(labels) // BATCH} steps/epoch, {args.repeats} epochs per mode")
    epoch = bench_epochs(images, labels, args.repeats)
    steps = len(labels) // BATCH
    base, base_median = epoch["resident"]
    print(f"{'mode':<15}{'best epoch (ms)':>16}{'per step (us)':>15}{'outside step':>14}"
          f"{'median epoch (ms)':>19}{'outside (median)':>18}")
    for name, (best, median) in epoch.items():
        if name.endswith("alone"):
            continue
        print(f"{name:<15}{best * 1e3:>16.1f}{best / steps * 1e6:>15.0f}{1 - base / best:>14.1%}"
              f"{median * 1e3:>19.1f}{1 - base_median / median:>18.1%}")
    print("data path alone, no training step (an upper bound: nothing overlaps):")
    for name in ("DataLoader", "DeviceDataset"):
        alone = epoch[f"{name} alone"][0]
        print(f"  {name:<14}{alone / steps * 1e6:>7.0f} us per batch = "
              f"{alone / (alone + base):.1%} of (data path + resident epoch)")
    seconds = bench_augment()
    print(f"augment crop(32, padding 4) + flip + rotation(15) of 128x3x32x32: "
          f"{seconds * 1e3:.2f} ms per batch (jitted, median of 50)")


if __name__ == "__main__":
    main()
