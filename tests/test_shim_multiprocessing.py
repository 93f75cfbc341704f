"""torch.multiprocessing under fnnet.torch: the distributed tutorial's ``mp.spawn`` script,
and how a failed process is reported."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fnnet.torch.multiprocessing as mp
from fnnet.parallel.launch import free_port

# Written as the "Getting started with DistributedDataParallel" tutorial writes it: a
# setup function that names the master by environment, a worker per rank started with
# mp.spawn, rank 0 saving the trained model. Its weights and each rank's batches are
# fixed numpy arrays, so PyTorch can train the same model on the global batch.
SCRIPT = textwrap.dedent("""
    import os
    import sys

    import numpy as np
    import fnnet.torch as torch
    import fnnet.torch.distributed as dist
    import fnnet.torch.multiprocessing as mp
    import fnnet.torch.nn as nn
    import fnnet.torch.optim as optim
    from fnnet.torch.nn.parallel import DistributedDataParallel as DDP

    class ToyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.net1 = nn.Linear(10, 10)
            self.relu = nn.ReLU()
            self.net2 = nn.Linear(10, 5)

        def forward(self, x):
            return self.net2(self.relu(self.net1(x)))

    def setup(rank, world_size, port):
        os.environ["MASTER_ADDR"] = "localhost"
        os.environ["MASTER_PORT"] = str(port)
        dist.init_process_group("gloo", rank=rank, world_size=world_size)

    def demo_basic(rank, world_size, port, data):
        setup(rank, world_size, port)
        arrays = np.load(data)
        model = ToyModel()
        model.load_state_dict({k: torch.from_numpy(arrays[k]) for k in
                               ("net1.weight", "net1.bias", "net2.weight", "net2.bias")})
        ddp_model = DDP(model)
        loss_fn = nn.MSELoss()
        optimizer = optim.SGD(ddp_model.parameters(), lr=0.1, momentum=0.9)
        for step in range(3):
            optimizer.zero_grad()
            outputs = ddp_model(torch.from_numpy(arrays[f"x{rank}_{step}"]))
            loss = loss_fn(outputs, torch.from_numpy(arrays[f"y{rank}_{step}"]))
            loss.backward()
            optimizer.step()
            print(f"rank {rank} step {step} loss {loss.item():.6f}")
        if rank == 0:
            np.savez(data.replace(".npz", "-trained.npz"),
                     **{k: v.numpy() for k, v in ddp_model.module.state_dict().items()})
        dist.barrier()
        dist.destroy_process_group()

    if __name__ == "__main__":
        world_size = 2
        mp.spawn(demo_basic, args=(world_size, int(sys.argv[1]), sys.argv[2]),
                 nprocs=world_size, join=True)
        print("done")
""")


@pytest.mark.slow
def test_the_tutorials_spawned_ddp_script_trains_as_pytorch_on_the_global_batch(tmp_path,
                                                                                torch):
    rng = np.random.default_rng(0)
    arrays = {"net1.weight": rng.standard_normal((10, 10)) / 3, "net1.bias": rng.random(10),
              "net2.weight": rng.standard_normal((5, 10)) / 3, "net2.bias": rng.random(5)}
    for rank in range(2):
        for step in range(3):
            arrays[f"x{rank}_{step}"] = rng.standard_normal((8, 10))
            arrays[f"y{rank}_{step}"] = rng.standard_normal((8, 5))
    arrays = {k: v.astype(np.float32) for k, v in arrays.items()}
    data = tmp_path / "data.npz"
    np.savez(data, **arrays)
    script = tmp_path / "ddp_tutorial.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(free_port()), str(data)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "done"
    trained = np.load(tmp_path / "data-trained.npz")

    # DDP averages the ranks' gradients: PyTorch on both ranks' batches at once, with the
    # mean loss over the global batch, takes the same steps
    model = torch.nn.Sequential(torch.nn.Linear(10, 10), torch.nn.ReLU(),
                                torch.nn.Linear(10, 5))
    names = {"0.weight": "net1.weight", "0.bias": "net1.bias", "2.weight": "net2.weight",
             "2.bias": "net2.bias"}
    model.load_state_dict({k: torch.from_numpy(arrays[v]) for k, v in names.items()})
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(3):
        x = torch.from_numpy(np.concatenate([arrays[f"x{r}_{step}"] for r in range(2)]))
        y = torch.from_numpy(np.concatenate([arrays[f"y{r}_{step}"] for r in range(2)]))
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    for key, name in names.items():
        np.testing.assert_allclose(trained[name], model.state_dict()[key].numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=name)


def _raises(rank: int, seconds: float) -> None:
    if rank == 1:
        raise ValueError("rank 1 cannot go on")
    import time

    time.sleep(seconds)


def _exits(rank: int, code: int) -> None:
    if rank == 1:
        sys.exit(code)


CRASH = textwrap.dedent("""
    import datetime
    import sys

    import fnnet.torch as torch
    import fnnet.torch.distributed as dist
    import fnnet.torch.multiprocessing as mp

    def train(rank, shared):  # rank 0's address goes through the file shared
        dist.init_process_group("gloo", init_method=f"file://{shared}", rank=rank,
                                world_size=2, timeout=datetime.timedelta(seconds=120))
        t = torch.ones(2)
        dist.all_reduce(t)
        if rank == 1:
            raise ValueError("a bug in rank 1")
        dist.all_reduce(t)

    if __name__ == "__main__":
        mp.spawn(train, args=(sys.argv[1],), nprocs=2, join=True)
""")


@pytest.mark.slow
def test_a_spawned_rank_that_raises_is_the_one_reported(tmp_path):
    # the raising rank waited at exit in JAX's shutdown for rank 0, itself waiting for
    # it in a collective: spawn reported rank 0's timeout, after the timeout. The ranks
    # meet through a file:// init method, as PyTorch's documentation shows for mp.spawn
    import time

    script = tmp_path / "crash.py"
    script.write_text(CRASH)
    start = time.monotonic()
    shared = tmp_path / "rendezvous"
    done = subprocess.run([sys.executable, str(script), str(shared)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert not shared.exists()  # rank 0 deletes it once every rank has read it
    assert "-- Process 1 terminated with the following error:" in done.stderr, done.stderr
    assert "ValueError: a bug in rank 1" in done.stderr, done.stderr
    assert time.monotonic() - start < 100


def _records(rank: int, queue) -> None:
    queue.put((rank, multiprocessing.current_process().name))


def test_a_process_that_raises_stops_the_others_and_its_traceback_is_raised():
    context = mp.spawn(_raises, args=(60.0,), nprocs=2, join=False)
    with pytest.raises(mp.ProcessRaisedException) as raised:
        while not context.join():
            pass
    message = str(raised.value)
    assert message.startswith("\n\n-- Process 1 terminated with the following error:\n")
    assert "ValueError: rank 1 cannot go on" in message and "in _raises" in message
    assert raised.value.error_index == 1
    assert raised.value.error_pid == context.processes[1].pid
    # the sleeping rank was stopped, not waited for
    assert not any(p.is_alive() for p in context.processes)
    assert context.processes[0].exitcode != 0


def test_a_process_that_exits_is_named_with_its_status_and_the_rest_of_the_api():
    with pytest.raises(mp.ProcessExitedException,
                       match="^process 1 terminated with exit code 3$") as exited:
        mp.spawn(_exits, args=(3,), nprocs=2)
    assert (exited.value.exit_code, exited.value.signal_name) == (3, None)
    # every process ran fn(i, *args), and the rest is Python's multiprocessing
    queue = mp.get_context("spawn").SimpleQueue()
    assert mp.spawn(_records, args=(queue,), nprocs=2) is None
    assert sorted(queue.get()[0] for _ in range(2)) == [0, 1]
    assert mp.Queue is multiprocessing.Queue and mp.cpu_count() >= 1
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    with pytest.raises(ValueError, match="set_sharing_strategy: new_strategy must be one of"):
        mp.set_sharing_strategy("shared_memory")
    with pytest.raises(ValueError, match="nprocs must be at least 1, got 0"):
        mp.spawn(_exits, args=(3,), nprocs=0)
    with pytest.raises(TypeError, match="args must be a tuple, got list"):
        mp.spawn(_exits, args=[3], nprocs=1)
