"""What the compiled step's label check costs: the MLP step with and without it.

``make_train_step`` counts the class labels outside ``[0, C)`` in every step (one
comparison and one sum over the batch's labels, two more outputs) so that ``fit`` can
name a bad label instead of reporting a non-finite loss. This times the MLP
784-128-64-10 step at batch 64 (SGD with momentum) as built, and built with the check
replaced by nothing, interleaved in the same rounds.

    python benchmarks/label_check.py [--steps 2000]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import jax
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from harness import machine, print_table, time_steps, versions  # noqa: E402

from fnnet import losses, models, optim  # noqa: E402
from fnnet.core import step as step_module  # noqa: E402
from fnnet.train import create_train_state, make_train_step  # noqa: E402


def build(check: bool, batches):
    model = models.MLP((784, 128, 64, 10))
    opt = optim.SGD(lr=0.01, momentum=0.9)
    state = create_train_state(model, opt, jax.random.key(0))
    original = step_module.label_metrics
    if not check:
        step_module.label_metrics = lambda *args: {}
    try:
        # Jitted here rather than by make_train_step, whose cache of compiled steps
        # would hand both cases the same function.
        train_step = jax.jit(make_train_step(model, opt, losses.cross_entropy, jit=False),
                             donate_argnums=(0,), compiler_options=step_module.XLA_OPTIONS)
        holder = {"state": state}

        def step(i):
            holder["state"], metrics = train_step(holder["state"], batches[i % len(batches)])
            return metrics["loss"]

        step(0)  # traced now, while the replacement is in place
    finally:
        step_module.label_metrics = original
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((64, 784), dtype=np.float32),
                rng.integers(0, 10, 64).astype(np.int32)) for _ in range(16)]
    cases = {"with the label check": (build(True, batches), jax.block_until_ready),
             "without": (build(False, batches), jax.block_until_ready)}
    rows = time_steps(cases, steps=args.steps, rounds=10)
    print(f"{machine()}; {versions()}")
    print_table("MLP 784-128-64-10, batch 64, SGD(lr=0.01, momentum=0.9)", rows, "without")


if __name__ == "__main__":
    main()
