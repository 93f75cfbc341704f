"""Page faults and system time per training step, for fnnet and PyTorch eager.

XLA allocates a step's temporaries afresh at every call; glibc serves allocations above
32 MB with ``mmap`` and returns them to the system when freed, so every step touches
new pages and the kernel faults in (and zeroes) each of them. Small models never see
this; a large one (ResNet-18 at batch 128) can spend a large share of its CPU time in
the kernel. This script counts it: minor page faults and system CPU time per step, next
to the step's wall time, for one workload of ``suite.py``.

Run it under different malloc settings (they must be set before the process starts) to
compare, e.g.::

    python benchmarks/page_faults.py --workload resnet18
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 python benchmarks/page_faults.py --workload resnet18
"""

from __future__ import annotations

import argparse
import os
import pathlib
import resource
import sys
import time

import jax

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import suite  # noqa: E402


def measure(step, sync, steps: int) -> tuple[float, float, float]:
    """``(wall ms, minor faults, system CPU ms)`` per step, after two warm-up steps."""
    for i in range(2):
        sync(step(i))
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    for i in range(steps):
        sync(step(i))
    wall = (time.perf_counter() - start) / steps
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (1e3 * wall, (after.ru_minflt - before.ru_minflt) / steps,
            1e3 * (after.ru_stime - before.ru_stime) / steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", default="resnet18", choices=sorted(suite.WORKLOADS))
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    workload = suite.WORKLOADS[args.workload]
    batches = suite.host_batches(workload, 4)
    settings = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                        if k.startswith(("MALLOC_", "GLIBC_TUNABLES"))) or "glibc defaults"
    print(f"{workload.title}; malloc: {settings}")
    cases = {"fnnet (jit)": (suite.fnnet_step(workload, batches), jax.block_until_ready)}
    if not args.no_torch:
        import torch

        torch.set_num_threads(2)
        cases["PyTorch eager (2 threads)"] = (suite.torch_loop(torch, workload, batches),
                                              lambda r: r)
    print("| implementation | ms/step | minor page faults/step | system CPU ms/step |")
    print("|---|---:|---:|---:|")
    for name, (step, sync) in cases.items():
        wall, faults, system = measure(step, sync, args.steps)
        print(f"| {name} | {wall:.1f} | {faults:,.0f} | {system:.1f} |", flush=True)


if __name__ == "__main__":
    main()
