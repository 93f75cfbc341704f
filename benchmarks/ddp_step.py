"""DistributedDataParallel's step: fnnet.torch against PyTorch, 2 processes on this machine.

The MLP 784-128-64-10 at a batch of 32 per process (SGD with momentum), a loop of
``zero_grad / forward / backward / step`` on batches already made, timed by rank 0 after
a warm-up. Run it under each launcher, and alone for the one-process figure:

    fnnet torchrun --nproc-per-node 2 benchmarks/ddp_step.py
    torchrun --nproc-per-node 2 benchmarks/ddp_step.py --torch
    python benchmarks/ddp_step.py [--torch]

Each step of two processes holds one all-reduce of every gradient (fnnet.torch: one
``pmean`` inside the compiled step; PyTorch: gloo's bucketed all-reduce during
``backward()``), so the figure is mostly the all-reduce's latency between the processes.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--torch", action="store_true", help="PyTorch instead of fnnet.torch")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=32, help="per process")
    args = p.parse_args()
    if args.torch:
        import torch
        import torch.nn as nn

        torch.set_num_threads(1)
    else:
        import fnnet.torch as torch
        import fnnet.torch.nn as nn
    distributed = "RANK" in os.environ
    if distributed:
        torch.distributed.init_process_group("gloo")
    rank = torch.distributed.get_rank() if distributed else 0
    world = torch.distributed.get_world_size() if distributed else 1
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                        nn.Linear(64, 10))
    model = nn.parallel.DistributedDataParallel(net) if distributed else net
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    rng = np.random.default_rng(rank)
    xs = [torch.from_numpy(rng.normal(size=(args.batch, 784)).astype(np.float32))
          for _ in range(10)]
    ys = [torch.from_numpy(rng.integers(0, 10, args.batch)) for _ in range(10)]

    def loop(n: int) -> float:
        for i in range(n):
            optimizer.zero_grad()
            loss = criterion(model(xs[i % 10]), ys[i % 10])
            loss.backward()
            optimizer.step()
        return loss.item()

    loop(20)
    start = time.perf_counter()
    loop(args.steps)
    seconds = time.perf_counter() - start
    if rank == 0:
        name = "PyTorch" if args.torch else "fnnet.torch"
        print(f"{name}, {world} process(es), batch {args.batch} each: "
              f"{1000 * seconds / args.steps:.2f} ms/step")
    if distributed:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
