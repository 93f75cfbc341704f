"""What watching a run costs: fit's step time with per-step logging and with the bar.

The MLP 784-128-64-10 at batch 64, SGD with momentum, trains with ``fit`` on fixed
random data (200 steps an epoch) in four ways, interleaved round by round in one process
so that a change in the machine's load hits every case alike (many short rounds; JAX's
persistent compilation cache spares each fit but the first its compilation):

- ``none``: ``progress=False``, no callbacks;
- ``log every step``: what ``logdir=`` writes (TensorBoard event files and
  ``history.json``: every step's loss, accuracy and lr, the interval timings, each
  epoch's history) but for the parameter histograms, timed apart since they are work
  at each epoch's end, not in a step;
- ``bar``: the progress bar drawn to a terminal (stderr is made to look like one; what
  it draws is thrown away), fetching the metrics whenever it is due for a redraw;
- ``bar + log every step``: both.

Each fit runs ``--epochs`` epochs; the first holds the compilation and is left out, the
others give one ms/step each, from one epoch's end to the next (what a user waits for:
data, dispatch, fetches, logging and the work at each epoch's end included). Reports the
median over every round's epochs, in wall-clock time and in the process's CPU time (all
its threads: XLA's and the event writer's too), which another program's load on the
machine disturbs far less, and the cost of each over ``none``; and fit's own ``logging``
phase (callbacks, the bar, the lines: the main thread's reporting work, which is all a
step can wait for) per step.

    python benchmarks/logging_overhead.py [--rounds 15] [--epochs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import pathlib
import statistics
import sys
import tempfile
import time

import jax
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from harness import machine, settle, versions  # noqa: E402

from fnnet import models, optim  # noqa: E402
from fnnet.train import Callback, HistoryWriter, TensorBoardWriter, fit  # noqa: E402
from fnnet.train.callbacks import RunInfo  # noqa: E402

SIZES = (784, 128, 64, 10)
BATCH = 64
STEPS = 200


class _Terminal(io.TextIOWrapper):
    """A sink that says it is a terminal, so that fit draws its bar into it."""

    def isatty(self) -> bool:
        return True


class _Clock(Callback):
    """Wall-clock and CPU time at each epoch's end."""

    def __init__(self):
        self.wall, self.cpu = [], []
        self.logging = 0.0

    def on_epoch(self, epoch, step, record, state):
        self.wall.append(time.perf_counter())
        self.cpu.append(time.process_time())

    def on_end(self, history, phases):
        self.logging = phases["logging"]


def run_case(name: str, data, epochs: int,
             folder: pathlib.Path) -> tuple[list[float], list[float], float]:
    """One fit; returns wall-clock and CPU ms/step of each epoch after the first, and
    the microseconds of fit's reporting a step."""
    logging = "log" in name
    bar = "bar" in name
    clock = _Clock()
    callbacks: list[Callback] = [clock]
    if logging:
        run = folder / name.replace(" ", "_")
        callbacks += [TensorBoardWriter(run, histograms=False),
                      HistoryWriter(run / "history.json")]
    sink = _Terminal(open(os.devnull, "wb"))  # noqa: SIM115
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            fit(models.MLP(SIZES), optim.SGD(lr=0.01, momentum=0.9), data, epochs=epochs,
                batch_size=BATCH, progress=bar, log_lr=0.01 if logging else None,
                callbacks=callbacks)
    finally:
        sink.close()
    wall, cpu = ([(b - a) / STEPS * 1e3 for a, b in itertools.pairwise(times)]
                 for times in (clock.wall, clock.cpu))
    return wall, cpu, clock.logging / (epochs * STEPS) * 1e6


def histogram_ms(folder: pathlib.Path, repeats: int = 20) -> float:
    """Median milliseconds the loop spends on the parameter histograms TensorBoardWriter
    writes at each epoch's end (the MLP's six parameters)."""
    from fnnet.train import create_train_state

    state = create_train_state(models.MLP(SIZES), optim.SGD(lr=0.01), jax.random.key(0))
    writer = TensorBoardWriter(folder / "histograms")
    writer.on_begin(RunInfo(None, None, repeats, 0, 0, None, BATCH))
    times = []
    for epoch in range(repeats):
        start = time.perf_counter()
        writer.on_epoch(epoch, epoch, {}, state)
        times.append((time.perf_counter() - start) * 1e3)
    writer.on_end({}, {})
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="fnnet-jax-cache-")
    jax.config.update("jax_compilation_cache_dir", cache)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((STEPS * BATCH, 784), dtype=np.float32),
            rng.integers(0, 10, STEPS * BATCH).astype(np.int32))
    cases = ("none", "log every step", "bar", "bar + log every step")
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    reporting: dict[str, list[float]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name in cases:
                settle()
                ms_wall, ms_cpu, us = run_case(name, data, args.epochs, pathlib.Path(tmp))
                reporting[name].append(us)
                wall[name] += ms_wall
                cpu[name] += ms_cpu
        histograms = histogram_ms(pathlib.Path(tmp))
    base_wall, base_cpu = statistics.median(wall["none"]), statistics.median(cpu["none"])
    print(f"\n### fit, MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, SGD momentum, "
          f"{STEPS} steps an epoch ({args.rounds} rounds x {args.epochs - 1} epochs)\n")
    print("| case | wall ms/step (median) | p10-p90 | cost | CPU ms/step (median) | p10-p90 "
          "| cost | fit's reporting, us/step |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in cases:
        cells = []
        for values, base in ((wall[name], base_wall), (cpu[name], base_cpu)):
            median = statistics.median(values)
            p10, p90 = np.percentile(values, [10, 90])
            cells += [f"{median:.3f}", f"{p10:.3f}-{p90:.3f}", f"{(median / base - 1) * 100:+.1f}%"]
        cells.append(f"{statistics.median(reporting[name]):.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nParameter histograms at each epoch's end (TensorBoardWriter's default): "
          f"{histograms:.2f} ms of the loop's time an epoch (computed and written in the "
          f"event thread).")
    print(f"\n{versions()}; {machine()}")


if __name__ == "__main__":
    main()
