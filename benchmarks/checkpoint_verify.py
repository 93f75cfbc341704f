"""What a checkpoint's manifest costs: its SHA-256 digests at save and at restore.

Saves a training state (an MLP of about 29M parameters with SGD momentum, 235 MB of
arrays, or the size given) with :class:`fnnet.checkpoint.Checkpointer` a few times, and
times the whole save and restore beside the part that is the manifest: writing it
(reading back and hashing every file) and checking a folder against it.

    python benchmarks/checkpoint_verify.py [--width 4096] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import jax
import jax.numpy as jnp

from fnnet import models, optim
from fnnet.checkpoint import Checkpointer, verify
from fnnet.train import create_train_state


def _seconds(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=4096, help="hidden width of the MLP")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = models.MLP((3072, args.width, args.width, 10))
    state = create_train_state(model, optim.SGD(lr=0.1, momentum=0.9), jax.random.key(0))
    size = sum(leaf.nbytes for leaf in jax.tree.leaves((state.params, state.opt_state)))
    times: dict[str, list[float]] = {"save (with manifest)": [], "manifest alone": [],
                                     "restore (with checks)": [], "checks of the files": []}
    with tempfile.TemporaryDirectory() as directory, \
            Checkpointer(directory, keep=None) as checkpointer:
        for i in range(1, args.rounds + 1):
            state = state._replace(step=jnp.asarray(i, jnp.int32))
            folder = checkpointer.folder(i)
            times["save (with manifest)"].append(_seconds(checkpointer.save, state))
            times["manifest alone"].append(_seconds(verify.write_manifest, folder, i, {}))
            times["checks of the files"].append(_seconds(verify.check_folder, folder, i))
            times["restore (with checks)"].append(
                _seconds(checkpointer.restore, state, step=i))
    print(f"MLP 3072-{args.width}-{args.width}-10 with SGD momentum: {size / 1e6:.0f} MB "
          f"of arrays, {args.rounds} rounds, jax {jax.__version__}")
    print("| part | seconds (median) | min-max |")
    print("|---|---:|---:|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.3f} | "
              f"{min(values):.3f}-{max(values):.3f} |")


if __name__ == "__main__":
    main()
