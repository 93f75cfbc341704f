"""fnnet.torch.distributed with real processes: the ddp_mnist example's script, launched by
``python -m fnnet.torch.distributed.run`` as 2 processes x 2 simulated CPU devices, trains
as one process with the global batch; the collectives agree with numpy; PyTorch's own
DDP (gloo) runs the same script to the same parameters; and a killed process stops the
run. Run as a script, this file is the worker of those launches.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ddp_mnist"
TIMEOUT = 300  # seconds for a whole launch
STEPS = 20
BATCH = 16  # per process; the single-process reference takes 2 x BATCH
WORLD = 2


def _load(stem: str):
    spec = importlib.util.spec_from_file_location(f"ddp_mnist_{stem}", EXAMPLE / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(module, *flags: str) -> argparse.Namespace:
    return module.parse_args(["--steps", str(STEPS), "--batch-size", str(BATCH), *flags])


# the trainings of the launched run: (name, flags); "plain" ones start from --init and
# keep the data in order, for the comparison with PyTorch
RUNS = (("mlp", ()), ("bn", ("--model", "bn")),
        ("mlp_plain", ("--no-shuffle",)),
        ("bn_local", ("--model", "bn", "--no-sync-bn", "--no-shuffle")),
        ("bn_plain", ("--model", "bn", "--no-shuffle")))


def _inputs(rank: int) -> np.ndarray:
    """Rank ``rank``'s input to the collectives: ``[2, 3]`` float32."""
    return (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5) * (rank + 1) + rank


def _uneven(rank: int) -> np.ndarray:
    """Rank ``rank``'s batch for SyncBatchNorm: ``[2 * (rank + 1), 3]``."""
    return np.concatenate([_inputs(rank)] * (rank + 1))


def _outcome(call) -> list:
    """What ``call()`` gave, for json: ``["ok", value]`` or the error's type and its
    first line without gloo's source-file prefix."""
    import re

    try:
        return ["ok", call()]
    except Exception as error:  # noqa: BLE001 - compared with PyTorch's
        return [type(error).__name__, re.sub(r"^\[[^]]*\] ", "", str(error).splitlines()[0])]


def _ring_all_reduce(torch, dist, x):
    """The sum over processes of ``x`` ``[n]``, by the ring algorithm with isend and
    irecv: the chunks go around the ring, summed (world - 1 steps), then the sums do."""
    rank, world = dist.get_rank(), dist.get_world_size()
    chunks = list(x.clone().chunk(world))
    right, left = (rank + 1) % world, (rank - 1) % world
    for phase in ("reduce", "gather"):
        for step in range(world - 1):
            out = (rank - step + (phase == "gather")) % world
            into = (out - 1) % world
            got = torch.zeros_like(chunks[into])
            sent = dist.isend(chunks[out], right)
            dist.irecv(got, left).wait()
            sent.wait()
            chunks[into] = chunks[into] + got if phase == "reduce" else got
    return torch.cat(chunks)


def _messages(torch, dist) -> dict:
    """Point-to-point messages between ranks 0 and 1 of fnnet.torch or PyTorch (and an
    all_to_all_single with uneven splits, a monitored barrier): what each rank received,
    returned and raised."""
    rank = dist.get_rank()
    other = 1 - rank
    got = {}
    if rank == 0:
        dist.send(torch.arange(3.0), 1)
        for i in range(3):
            dist.send(torch.tensor([i]), dst=1)
        later = dist.isend(torch.tensor([1.0]), 1, tag=1)  # received after tag 2's
        dist.isend(torch.tensor([2.0]), 1, tag=2).wait()
        got["later"] = [later.wait(), later.is_completed()]
        dist.send(torch.tensor([7.0]), 1)  # to a receive from any rank
        dist.send(torch.ones(2), 1)
        dist.send(torch.arange(6.0).reshape(2, 3), 1)
        dist.send(torch.tensor([1.0, 2.0], requires_grad=True) * 2, 1)
        work = dist.isend(torch.ones(2) * 5, 1)
        got["isend"] = [work.wait(), work.is_completed(), _outcome(work.result),
                        _outcome(work.get_future), _outcome(work.source_rank)]
        dist.isend(torch.ones(2) * 6, 1).wait()
        dist.send_object_list([{"lr": 0.5}, "x" * 300, None], 1)
    else:
        t = torch.zeros(3)
        got["basic"] = [dist.recv(t, 0), t.tolist()]
        ordered = []
        for _ in range(3):
            t = torch.zeros(1, dtype=torch.long)
            dist.recv(t, src=0)
            ordered.append(t.item())
        got["ordered"] = ordered
        a, b = torch.zeros(1), torch.zeros(1)
        dist.recv(b, 0, tag=2)
        dist.recv(a, 0, tag=1)
        got["tags"] = [a.item(), b.item()]
        t = torch.zeros(1)
        got["any"] = [dist.recv(t), t.item()]
        t = torch.zeros(2, dtype=torch.int32)  # gloo copies bytes: float32 ones as int32
        dist.recv(t, 0)
        got["bytes"] = t.tolist()
        t = torch.zeros(3, 2)
        dist.recv(t, 0)
        got["reshaped"] = t.tolist()
        x = torch.zeros(2, requires_grad=True)
        y = x * 3
        dist.recv(y, 0)  # in place, outside autograd: y keeps its grad_fn
        y.sum().backward()
        got["grad"] = [y.tolist(), type(y.grad_fn).__name__, x.grad.tolist()]
        t = torch.zeros(2)
        work = dist.irecv(t, 0)
        got["irecv"] = [work.wait(), work.is_completed(), t.tolist(), work.source_rank(),
                        _outcome(work.result)]
        t = torch.zeros(2)
        work = dist.irecv(t)
        got["irecv_any"] = [work.wait(), t.tolist(), work.source_rank()]
        objects = [0, 0, 0]
        got["objects"] = [dist.recv_object_list(objects, 0), objects]
    sent, received = torch.arange(2.0) + 2 * rank, torch.zeros(2)
    ops = [dist.P2POp(dist.irecv, received, other), dist.P2POp(dist.isend, sent, other)]
    got["ops"] = [repr(ops[1]), ops[0].peer, ops[0].group_peer]
    got["batch"] = [[w.wait() for w in dist.batch_isend_irecv(ops)], received.tolist()]
    got["ring"] = _ring_all_reduce(torch, dist, torch.arange(5.0) * (rank + 1)).tolist()
    uneven = torch.zeros(3 if rank == 0 else 5, 2)  # rank 0 sends 1 row to itself, 3 to 1
    dist.all_to_all_single(uneven, torch.arange(8.0).reshape(4, 2) + 10 * rank,
                           [1, 2] if rank == 0 else [3, 2], [1, 3] if rank == 0 else [2, 2])
    got["all_to_all_single_uneven"] = uneven.tolist()
    pair = dist.new_group([0, 1])
    t = torch.zeros(1)
    if rank == 0:
        dist.send(torch.ones(1) * 4, group=pair, group_dst=1, tag=3)
    else:
        got["group"] = [dist.recv(t, group=pair, group_src=0, tag=3), t.tolist()]
    got["monitored"] = dist.monitored_barrier(wait_all_ranks=True)
    dist.barrier()
    return got


def _messages_time_out(dist, torch, got: dict) -> None:
    """Rank 0 waits for a message that rank 1 never sends (PyTorch: gloo's timeout
    error), then posts another receive from it (the pair is closed). Rank 1 waits
    for nothing: the pair's closing fails its own waits with gloo."""
    import datetime

    if dist.get_rank() == 1:
        return
    work = dist.irecv(torch.zeros(1), 1, tag=9)
    got["timeout"] = _outcome(lambda: work.wait(datetime.timedelta(seconds=1)))
    got["closed"] = _outcome(lambda: dist.irecv(torch.zeros(1), 1).wait())


def _worker(out: pathlib.Path) -> int:
    """Collectives, no_sync, then the example's trainings; rank 0 saves each model."""
    import fnnet.torch as torch
    import fnnet.torch.distributed as dist
    import fnnet.torch.nn as nn

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    print(f"rank {rank} of {world}, {len(__import__('jax').local_devices())} local devices",
          flush=True)
    x = _inputs(rank)
    results = {}
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        t = torch.tensor(x)
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        results[f"all_reduce_{op}"] = t.numpy()
    t = torch.tensor(x)
    dist.broadcast(t, src=1)
    results["broadcast_1"] = t.numpy()
    gathered = [torch.zeros(2, 3) for _ in range(world)]
    dist.all_gather(gathered, torch.tensor(x))
    results["all_gather"] = np.stack([g.numpy() for g in gathered])
    out_t = torch.zeros(2, 3)
    dist.reduce_scatter(out_t, [torch.tensor(x * (i + 1)) for i in range(world)])
    results["reduce_scatter"] = out_t.numpy()
    dense = torch.zeros(1, 3)
    dist.reduce_scatter_single(dense, torch.tensor(x), op=dist.ReduceOp.MAX)
    results["reduce_scatter_tensor_MAX"] = dense.numpy()
    gathered = [torch.zeros(2, 3) for _ in range(world)] if rank == 0 else None
    dist.gather(torch.tensor(x), gathered, dst=0)
    if rank == 0:
        results["gather_0"] = np.stack([g.numpy() for g in gathered])
    received = torch.zeros(2, 3)
    dist.scatter(received, [torch.tensor(_inputs(r) * 10) for r in range(world)]
                 if rank == 1 else None, src=1)
    results["scatter_1"] = received.numpy()
    objects = [None] * world  # pickled objects of different sizes
    dist.all_gather_object(objects, {"rank": rank, "text": "x" * (300 * rank)})
    results["all_gather_object"] = np.array([(o["rank"], len(o["text"])) for o in objects])
    settings = [{"lr": 0.5}, "run"] if rank == 1 else [None, None]
    dist.broadcast_object_list(settings, src=1)
    results["broadcast_object_list"] = np.array([settings[0]["lr"], settings[1] == "run"])
    exchanged = [torch.zeros(2, 3) for _ in range(world)]
    dist.all_to_all(exchanged, [torch.tensor(x * (i + 1)) for i in range(world)])
    results["all_to_all"] = np.stack([e.numpy() for e in exchanged])
    single = torch.zeros(2, 3)
    dist.all_to_all_single(single, torch.tensor(x))
    results["all_to_all_single"] = single.numpy()
    bits = torch.tensor([5, 6, 12]) + 3 * rank
    dist.all_reduce(bits, op=dist.ReduceOp.BXOR)
    results["all_reduce_BXOR"] = bits.numpy()
    rows = torch.tensor(x)
    dist.all_reduce(rows[1], op=dist.ReduceOp.MAX)  # a view: rows changes too
    results["view_all_reduce_MAX"] = rows.numpy()
    dist.barrier()
    messages = _messages(torch, dist)
    if rank == 0:  # gloo fills part of a larger tensor, and aborts for a smaller one
        dist.send(torch.ones(3), 1)
    else:
        messages["size"] = _outcome(lambda: dist.recv(torch.zeros(4), 0))
    messages["split_sizes"] = _outcome(lambda: dist.all_to_all_single(  # 1 row from 0
        torch.zeros(4), torch.arange(4.0), [1, 3] if rank == 1 else [2, 2], [2, 2]))
    if rank == 0:  # a send whose handle is dropped before the receive is posted:
        dist.isend(torch.ones(1), 1, tag=5)  # PyTorch's gloo loses the message
    dist.barrier()
    if rank == 1:
        messages["dropped"] = [dist.recv(t := torch.zeros(1), 0, tag=5), t.tolist()]
    from fnnet.torch import _waiting  # every message read was deleted from the store

    dist.barrier()
    messages["left"] = [key for kind in ("fnnet_p2p/", "fnnet_monitored/") for key, _ in
                        _waiting.coordinator_client().key_value_dir_get_bytes(kind)]

    # no_sync: a first micro-batch's local gradient, then a synchronised one: the
    # gradient is the mean over processes of the sum (as PyTorch's all-reduce of the sum)
    torch.manual_seed(rank)  # different weights in each process: DDP copies rank 0's
    net = nn.Linear(3, 2)
    ddp = nn.parallel.DistributedDataParallel(net)
    with ddp.no_sync():
        ddp(torch.tensor(x)).pow(2).mean().backward()
    loss = ddp(torch.tensor(x[::-1].copy())).sum()
    if rank == 0:  # one process alone reads a value and evaluates: nothing waits
        print(f"rank 0 alone: loss {loss.item():.4f}", flush=True)
        ddp.eval()
        with torch.no_grad():
            ddp(torch.tensor(x)).numpy()
        ddp.train()
    loss.backward()
    results["no_sync_weight_grad"] = net.weight.grad.numpy()
    results["no_sync_weight"] = net.weight.detach().numpy()
    results["no_sync_bias"] = net.bias.detach().numpy()

    # SyncBatchNorm with batches of other sizes (rank r: r + 1 copies of its input)
    bn = nn.SyncBatchNorm(3, momentum=0.5)
    out_bn = nn.parallel.DistributedDataParallel(nn.Sequential(bn))(
        torch.tensor(_uneven(rank)))
    out_bn.sum().backward()
    results["sync_bn_out"] = out_bn.detach().numpy()
    results["sync_bn_running"] = np.stack([bn.running_mean.numpy(), bn.running_var.numpy()])
    np.savez(out / f"collectives_{rank}.npz", **results)

    example = _load("shim_version")
    for name, flags in RUNS:
        init = ("--init", str(out / f"init_{name.split('_')[0]}.npz")) \
            if name.endswith(("_plain", "_local")) else ()
        args = _args(example, *flags, *init, "--save", str(out / f"{name}.safetensors"))
        example.train(args, rank, world)
    dist.barrier()
    _messages_time_out(dist, torch, messages)
    (out / f"p2p_fnnet_{rank}.json").write_text(__import__("json").dumps(messages))
    dist.barrier()  # the collectives go on (a message's timeout closes its pair only)
    dist.destroy_process_group()
    print(f"rank {rank} done", flush=True)
    return 0


def _torch_worker(out: pathlib.Path) -> int:
    """Messages, then the PyTorch script's plain trainings under torch.distributed
    (gloo), then messages that time out."""
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")
    messages = _messages(torch, dist)
    example = _load("torch_version")
    for name, flags in RUNS:
        if name in ("mlp_plain", "bn_local"):
            args = _args(example, *flags, "--init", str(out / f"init_{name.split('_')[0]}.npz"),
                         "--save", str(out / f"torch_{name}.pt"))
            example.train(args, dist.get_rank(), dist.get_world_size())
    dist.barrier()
    _messages_time_out(dist, torch, messages)  # gloo's pairs are closed now
    rank = dist.get_rank()
    (out / f"p2p_torch_{rank}.json").write_text(__import__("json").dumps(messages))
    # the store is not gloo's: a rank that ended first would close the other's pair
    # before its timeout
    store = dist.distributed_c10d._get_default_store()
    store.set(f"timed_out_{rank}", "1")
    store.wait([f"timed_out_{1 - rank}"])
    return 0


BUFFER_STEPS = 5


def _buffers_worker(out: pathlib.Path, library: str) -> int:
    """BatchNorm under DDP with other data in each process, with and without
    ``broadcast_buffers``, in fnnet.torch or PyTorch; each rank saves its state dict
    and an evaluation's output."""
    if library == "torch":
        import torch
        import torch.distributed as dist
        import torch.nn as nn
    else:
        import fnnet.torch as torch
        import fnnet.torch.distributed as dist
        import fnnet.torch.nn as nn

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    for broadcast in (True, False):
        net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
        weights = np.random.default_rng(0)  # the same start in both libraries
        with torch.no_grad():
            for layer in (net[0], net[3]):
                layer.weight.copy_(torch.tensor(
                    weights.standard_normal(tuple(layer.weight.shape)).astype(np.float32)))
                layer.bias.zero_()
        ddp = nn.parallel.DistributedDataParallel(net, broadcast_buffers=broadcast)
        optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
        batches = np.random.default_rng(10 + rank)  # each rank its own data
        for _ in range(BUFFER_STEPS):
            x = batches.standard_normal((8, 3)) * (rank + 1) + rank
            loss = ddp(torch.tensor(x.astype(np.float32))).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        saved = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
        ddp.eval()  # the first evaluation after training copies rank 0's buffers first
        with torch.no_grad():
            x = batches.standard_normal((4, 3)) * (rank + 1)
            saved["eval"] = ddp(torch.tensor(x.astype(np.float32))).numpy()
        np.savez(out / f"{library}_buffers_{broadcast}_{rank}.npz", **saved)
    dist.barrier()
    dist.destroy_process_group()
    return 0


def _groups_worker(out: pathlib.Path) -> int:
    """Collectives in groups of new_group, in 3 processes; each rank saves what it got."""
    import warnings

    import fnnet.torch as torch
    import fnnet.torch.distributed as dist

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    pair, alone = dist.new_group([2, 0]), dist.new_group([1])
    got = {"rank_size": [dist.get_rank(pair), dist.get_world_size(pair)]}
    # a process outside a group looks its ranks up too, as PyTorch's (they raised
    # fnnet's internal NotMember)
    try:
        backend = dist.get_backend(pair)
    except ValueError as error:
        backend = str(error)
    got["ranks"] = [dist.get_process_group_ranks(pair), dist.get_global_rank(pair, 1),
                    dist.get_group_rank(pair, 2), backend]
    t = torch.ones(2) * (rank + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist.all_reduce(t, group=pair)
    got["all_reduce"], got["warned"] = t.tolist(), [str(w.message) for w in caught]
    t = torch.arange(3.0) + 10 * rank
    dist.broadcast(t, src=2, group=pair)
    got["broadcast"] = t.tolist()
    objects = [None, None]
    dist.all_gather_object(objects, rank, group=pair)
    got["all_gather_object"] = objects
    t = torch.ones(1) * (rank + 5)
    dist.all_reduce(t, group=alone)
    got["alone"] = t.tolist()
    dist.barrier(group=pair)
    t = torch.zeros(2)  # messages in the group: its ranks, or the default group's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if rank == 2:
            dist.send(torch.arange(2.0) + 1, group=pair, group_dst=0)
            dist.isend(torch.arange(2.0) + 2, 0, group=pair, tag=1).wait()
        elif rank == 0:  # the senders' global ranks
            got["recv"] = [dist.recv(t, group=pair, group_src=1),
                           dist.recv(t, group=pair, tag=1), t.tolist()]
        else:
            got["recv"] = dist.recv(t, 0, group=pair)
    got["warned"].extend(str(w.message) for w in caught)
    try:
        dist.send(t, 1, group=pair)
    except ValueError as error:
        got["outside"] = str(error).split("(")[0]
    t = torch.ones(1) * rank
    dist.all_reduce(t)
    got["world"] = t.tolist()
    dist.destroy_process_group(pair)
    got["still"] = dist.is_initialized()
    dist.destroy_process_group()
    try:  # JAX's runtime starts once per process: a clear error, not a port in use
        dist.init_process_group("gloo")
    except RuntimeError as error:
        got["again"] = str(error)
    (out / f"groups_{rank}.json").write_text(__import__("json").dumps(got))
    return 0


@pytest.mark.slow
def test_groups_of_new_group_reduce_among_their_processes_as_pytorchs(tmp_path):
    # what torchrun --nproc-per-node 3 prints for the same script with PyTorch's gloo
    import json

    result = subprocess.run(
        [sys.executable, "-m", "fnnet.torch.distributed.run", "--nproc-per-node", "3",
         "--cpu-devices-per-process", "1", __file__, "groups", str(tmp_path)],
        capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "Gloo" not in result.stdout  # the groups connect quietly too
    got = [json.loads((tmp_path / f"groups_{r}.json").read_text()) for r in range(3)]
    outside = [f"Running {name} on global rank 1 which does not belong to the given "
               "group." for name in ("all_reduce", "irecv")]
    for rank, member in ((0, [0, 2]), (1, [-1, -1]), (2, [1, 2])):
        inside = rank != 1
        assert got[rank] == {
            "rank_size": member, "ranks": [[0, 2], 2, 1, "gloo" if inside else
                                           "Invalid process group specified"],
            "all_reduce": [4.0, 4.0] if inside else [2.0, 2.0],
            "warned": [] if inside else outside,
            **({0: {"recv": [2, 2, [2.0, 3.0]]}, 1: {"recv": -1}, 2: {}}[rank]),
            "outside": "Global rank 1 is not part of group ProcessGroup" if inside else
                       "Invalid process group specified",  # PyTorch's words
            "broadcast": [20.0, 21.0, 22.0] if inside else [10.0, 11.0, 12.0],
            "all_gather_object": [0, 2] if inside else [None, None],
            "alone": [6.0] if rank == 1 else [rank + 5.0], "world": [3.0],
            "still": True, "again": AGAIN}, rank


AGAIN = ("init_process_group: a process group of several processes was destroyed in this "
         "process, and JAX's distributed runtime cannot start again in a process that has "
         "computed; start a new process for the next group")


def _hang_worker() -> int:
    """Joins the run and all-reduces forever (the launcher must stop it)."""
    import fnnet.torch as torch
    import fnnet.torch.distributed as dist

    dist.init_process_group("gloo")
    t = torch.ones(4)
    dist.all_reduce(t)
    print(f"ready {dist.get_rank()} pid {os.getpid()}", flush=True)
    while True:
        dist.all_reduce(t)
        time.sleep(0.01)


def _fail_worker() -> int:
    """Rank 1 raises after a first collective; rank 0 waits in the next one."""
    import fnnet.torch as torch
    import fnnet.torch.distributed as dist

    dist.init_process_group("gloo")
    t = torch.ones(2)
    dist.all_reduce(t)
    if dist.get_rank() == 1:
        raise ValueError("a bug in rank 1")
    dist.all_reduce(t)  # never completes: rank 1 is gone
    return 0


def _start(*args: str, launcher: str = "fnnet.torch.distributed.run",
           extra: tuple[str, ...] = ("--cpu-devices-per-process", "2")) -> subprocess.Popen:
    """A launch of this file's worker ``args`` as :data:`WORLD` processes, started."""
    env = dict(os.environ)  # the launcher adds its device count after the suite's XLA flags
    return subprocess.Popen(
        [sys.executable, "-m", launcher, "--nproc-per-node", str(WORLD), *extra, __file__,
         *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        cwd=ROOT)


def _finish(launch: subprocess.Popen) -> subprocess.CompletedProcess:
    """What a launch of :func:`_start` printed and its exit status, once it ended."""
    try:
        stdout, stderr = launch.communicate(timeout=TIMEOUT)
    finally:
        _kill_launch(launch)
    return subprocess.CompletedProcess(launch.args, launch.returncode, stdout, stderr)


def _kill_launch(launch: subprocess.Popen) -> None:
    """Stops a launch still running (a test that failed or timed out)."""
    if launch.poll() is None:
        launch.kill()
        launch.communicate()


def _launch(*args: str, launcher: str = "fnnet.torch.distributed.run",
            extra: tuple[str, ...] = ("--cpu-devices-per-process", "2")):
    return _finish(_start(*args, launcher=launcher, extra=extra))


#: each library's launcher and its flags, for the runs that compare them
LAUNCHERS = (("fnnet", "fnnet.torch.distributed.run", ("--cpu-devices-per-process", "1")),
             ("torch", "torch.distributed.run", ()))


def _launch_in_both(mode: str, out: pathlib.Path) -> None:
    """Runs the worker ``mode`` with fnnet.torch under its launcher and with PyTorch
    under torchrun, side by side (the two runs share nothing but the folder); each
    gets the folder ``out`` and its library's name."""
    launches = [_start(mode, str(out), library, launcher=launcher, extra=extra)
                for library, launcher, extra in LAUNCHERS]
    try:
        for result in map(_finish, launches):
            assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    finally:
        for launch in launches:
            _kill_launch(launch)


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """The worker's launch: its folder and the launcher's output."""
    out = tmp_path_factory.mktemp("ddp")
    example = _load("shim_version")
    for model in ("mlp", "bn"):  # initial weights shared with the PyTorch run
        import fnnet.torch as torch

        torch.manual_seed(1)
        net = example.MLP() if model == "mlp" else example.BNNet()
        np.savez(out / f"init_{model}.npz",
                 **{k: v.detach().numpy() for k, v in net.state_dict().items()})
    result = _launch("run", str(out))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out, result.stdout


def _state(path: pathlib.Path) -> dict[str, np.ndarray]:
    import fnnet.torch as torch

    return {k: np.asarray(v) for k, v in torch.load(str(path)).items()}


@pytest.mark.slow
@pytest.mark.parametrize("name, flags", [("mlp", ()), ("bn", ("--model", "bn"))])
def test_two_processes_train_like_one_process_with_the_global_batch(launched, name, flags):
    out, stdout = launched
    for rank in range(WORLD):
        assert f"rank {rank} of {WORLD}, 2 local devices" in stdout
        assert f"rank {rank} done" in stdout  # every process ran to the end
    saved = out / f"{name}.safetensors"
    assert stdout.count(f"saved {saved}\n") == 1  # rank 0 alone writes the checkpoint

    example = _load("shim_version")
    args = example.parse_args(["--steps", str(STEPS), "--batch-size", str(2 * BATCH), *flags])
    reference, steps = example.train(args)  # one process, the same global batches
    assert steps == STEPS
    got = _state(saved)
    expected = {k: np.asarray(v.detach().numpy()) for k, v in reference.state_dict().items()}
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-5, err_msg=key)
    if name == "bn":  # SyncBatchNorm's running statistics are the global batch's
        assert not np.allclose(got["bn1.running_mean"], 0)


@pytest.mark.slow
def test_connecting_the_processes_prints_nothing(launched):
    # JAX's gloo announces each connection on standard output ("[Gloo] Rank 0 is
    # connected to 1 peer ranks..."), PyTorch's does not
    _, stdout = launched
    assert "Gloo" not in stdout and "rank 0 of 2" in stdout


@pytest.mark.slow
def test_collectives_agree_with_numpy(launched):
    out, _ = launched
    inputs = np.stack([_inputs(r) for r in range(WORLD)])
    expected = {
        "all_reduce_SUM": inputs.sum(0), "all_reduce_AVG": inputs.mean(0),
        "all_reduce_MAX": inputs.max(0), "all_reduce_MIN": inputs.min(0),
        "all_reduce_PRODUCT": inputs.prod(0), "broadcast_1": inputs[1],
        "all_gather": inputs,
    }
    for rank in range(WORLD):
        with np.load(out / f"collectives_{rank}.npz") as got:
            for key, value in expected.items():
                np.testing.assert_allclose(got[key], value, rtol=1e-6, err_msg=key)
            # rank r receives the sum over processes of their input_list[r] = x * (r + 1)
            np.testing.assert_allclose(got["reduce_scatter"], inputs.sum(0) * (rank + 1),
                                       rtol=1e-6)
            np.testing.assert_allclose(got["scatter_1"], inputs[rank] * 10, rtol=1e-6)
            # all_to_all: rank r's slot s holds rank s's input_list[r] = x_s * (r + 1);
            # all_to_all_single: row s is rank s's row r
            np.testing.assert_allclose(got["all_to_all"], inputs * (rank + 1), rtol=1e-6)
            np.testing.assert_allclose(got["all_to_all_single"], inputs[:, rank], rtol=1e-6)
            np.testing.assert_array_equal(got["all_reduce_BXOR"], [5 ^ 8, 6 ^ 9, 12 ^ 15])
            np.testing.assert_allclose(got["view_all_reduce_MAX"],
                                       [inputs[rank, 0], inputs.max(0)[1]], rtol=1e-6)
            np.testing.assert_array_equal(got["all_gather_object"], [[0, 0], [1, 300]])
            np.testing.assert_array_equal(got["broadcast_object_list"], [0.5, 1])
            assert ("gather_0" in got.files) == (rank == 0)
            if rank == 0:
                np.testing.assert_allclose(got["gather_0"], inputs, rtol=1e-6)
            np.testing.assert_allclose(got["reduce_scatter_tensor_MAX"],
                                       inputs.max(0)[rank:rank + 1], rtol=1e-6)
            # no_sync: the mean over processes of the sum of both micro-batches' gradients
            w, b = got["no_sync_weight"], got["no_sync_bias"]
            with np.load(out / "collectives_0.npz") as first:
                np.testing.assert_array_equal(w, first["no_sync_weight"])  # rank 0's
            grads = []
            for x in inputs:
                y1 = x @ w.T + b
                first = 2 * y1.T @ x / y1.size  # d mean(y^2) / dW
                second = np.ones((2, 2)).T @ x[::-1]  # d sum(y) / dW
                grads.append(first + second)
            np.testing.assert_allclose(got["no_sync_weight_grad"], np.mean(grads, 0),
                                       rtol=1e-5, atol=1e-6)
            # SyncBatchNorm: the statistics of every process's rows together, though
            # the processes' batches differ in size (each process's weighed by its rows)
            rows = np.concatenate([_uneven(r) for r in range(WORLD)])
            mean, var = rows.mean(0), rows.var(0)
            np.testing.assert_allclose(got["sync_bn_out"],
                                       (_uneven(rank) - mean) / np.sqrt(var + 1e-5),
                                       rtol=1e-5, atol=1e-6)
            unbiased = var * len(rows) / (len(rows) - 1)
            np.testing.assert_allclose(got["sync_bn_running"],
                                       [0.5 * mean, 0.5 + 0.5 * unbiased], rtol=1e-5)


@pytest.fixture(scope="module")
def torch_launched(launched, torch):
    """PyTorch's worker under torchrun (gloo), in the folder of fnnet.torch's launch."""
    out, _ = launched
    result = _launch("torch", str(out), launcher="torch.distributed.run", extra=())
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out


@pytest.mark.slow
@pytest.mark.torch
def test_point_to_point_messages_as_pytorchs(torch_launched):
    # send, recv (from a rank, from any), isend/irecv handles, batch_isend_irecv, a
    # ring all-reduce, group ranks, send_object_list, timeouts: what each rank
    # received, returned and raised is PyTorch's
    import json

    for rank in range(WORLD):
        got = json.loads((torch_launched / f"p2p_fnnet_{rank}.json").read_text())
        expected = json.loads((torch_launched / f"p2p_torch_{rank}.json").read_text())
        assert got.pop("left") == []  # the store keeps no message that was received
        assert got.pop("split_sizes") == [  # in both ranks
            "RuntimeError", "all_to_all_single: rank 0 sends 2 rows to rank 1, whose "
            "output_split_sizes expect 1; every rank's input_split_sizes[r] must be rank "
            "r's output_split_sizes entry for it"]
        if rank == 1:  # a message of another size raises
            assert got.pop("dropped") == [0, [1.0]]
            assert got.pop("size") == [
                "RuntimeError", "recv: the message from rank 0 (tag 0) is a float32 tensor "
                "of shape [3] (12 bytes), the tensor receiving it a float32 tensor of shape "
                "[4] (16 bytes): they must hold as many bytes"]
        for key in ("timeout", "closed") if rank == 0 else ():  # PyTorch's words, then why
            assert got[key][0] == expected[key][0]
            assert got[key][1].startswith(expected[key][1]), (got[key], expected[key])
            got[key] = expected[key]
        assert got == expected, rank
    assert expected["ring"] == [0.0, 3.0, 6.0, 9.0, 12.0]


@pytest.mark.slow
@pytest.mark.torch
def test_pytorch_ddp_runs_the_same_script_to_the_same_parameters(torch_launched, torch):
    out = torch_launched
    for name in ("mlp_plain", "bn_local"):
        expected = {k: v.numpy() for k, v in torch.load(out / f"torch_{name}.pt").items()}
        got = _state(out / f"{name}.safetensors")
        assert sorted(got) == sorted(expected)
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-4,
                                       err_msg=f"{name} {key}")
    # PyTorch's SyncBatchNorm needs GPUs; what it computes is one process's BatchNorm over
    # the global batch, which PyTorch computes here from the same weights and batches
    example = _load("torch_version")
    args = example.parse_args(["--steps", str(STEPS), "--batch-size", str(2 * BATCH),
                               "--model", "bn", "--no-shuffle", "--init",
                               str(out / "init_bn.npz")])
    reference, _ = example.train(args)
    got = _state(out / "bn_plain.safetensors")
    for key, value in reference.state_dict().items():
        np.testing.assert_allclose(got[key], value.numpy(), rtol=0, atol=1e-4,
                                   err_msg=f"SyncBatchNorm {key}")


@pytest.mark.slow
@pytest.mark.torch
def test_ddp_broadcasts_rank_0s_buffers_before_each_step_as_pytorch(torch, tmp_path):
    # PyTorch's DDP copies rank 0's buffers (BatchNorm's running statistics) to every
    # process before each training forward pass (broadcast_buffers=True, the default):
    # each rank's statistics are then rank 0's of the step before, updated with its
    # own batch. With broadcast_buffers=False each rank keeps its own.
    _launch_in_both("buffers", tmp_path)
    stats = ("1.running_mean", "1.running_var")
    saved = {}
    for library in ("fnnet", "torch"):
        for broadcast in (True, False):
            for rank in range(WORLD):
                with np.load(tmp_path / f"{library}_buffers_{broadcast}_{rank}.npz") as f:
                    saved[library, broadcast, rank] = dict(f)
    for key, expected in saved.items():
        if key[0] == "torch":
            got = saved[("fnnet", *key[1:])]
            assert sorted(got) == sorted(expected)
            for name in expected:
                np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-6,
                                           err_msg=f"{key} {name}")
    # not vacuous: the broadcast changes rank 1's statistics, not rank 0's; without it
    # the ranks' statistics differ
    for name in stats:
        first, second = saved["torch", True, 1][name], saved["torch", False, 1][name]
        assert not np.allclose(first, second, rtol=1e-3), name
        np.testing.assert_array_equal(saved["fnnet", True, 0][name],
                                      saved["fnnet", False, 0][name])
        assert not np.allclose(saved["fnnet", False, 0][name], second, rtol=1e-3), name


#: the sign of each rank's inputs at each step of the unused-parameters run: ``extra`` is
#: used where the inputs are positive (rank 0 alone, neither, both, rank 1 alone)
UNUSED_SIGNS = ((1, -1), (-1, -1), (1, 1), (-1, 1))


def _branch_net(nn, dead: bool):
    """A model of ``nn`` (fnnet.torch's or PyTorch's) whose ``extra`` layer runs only on
    inputs of positive sum, so that the ranks' forward passes differ with their data,
    and (``dead``) whose ``dead`` layer never runs."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.extra = nn.Linear(3, 4), nn.Linear(4, 4)
            if dead:
                self.dead = nn.Linear(4, 4)
            self.b = nn.Linear(4, 2)

        def forward(self, x):
            h = self.a(x).tanh()
            if x.sum() > 0:
                h = self.extra(h)
            return self.b(h)

    return Net()


def _unused_worker(out: pathlib.Path, library: str) -> int:
    """DDP over a model whose ``extra`` layer runs only on positive inputs and whose
    ``dead`` layer never runs, in fnnet.torch or PyTorch: trained with
    find_unused_parameters=True (each step's gradients saved, None left out), then
    without it, where the forward pass after a step leaving parameters unused raises."""
    if library == "torch":
        import torch
        import torch.distributed as dist
        import torch.nn as nn
    else:
        import fnnet.torch as torch
        import fnnet.torch.distributed as dist
        import fnnet.torch.nn as nn

    def net():
        made = _branch_net(nn, dead=True)
        weights = np.random.default_rng(0)  # the same start in both libraries
        with torch.no_grad():
            for p in made.parameters():
                p.copy_(torch.tensor(weights.standard_normal(tuple(p.shape)).astype(
                    np.float32) * 0.5))
        return made

    def train():
        batches = np.random.default_rng(10 + rank)
        model = net()
        ddp = nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
        optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9,
                                    weight_decay=0.01)
        saved = {}
        for step, signs in enumerate(UNUSED_SIGNS):
            x = np.abs(batches.standard_normal((4, 3))).astype(np.float32) * signs[rank]
            optimizer.zero_grad()
            ddp(torch.tensor(x)).pow(2).mean().backward()
            for name, p in model.named_parameters():
                if p.grad is not None:
                    saved[f"grad_{step}_{name}"] = p.grad.numpy().copy()
            optimizer.step()
        return {**saved, **{k: v.detach().numpy() for k, v in model.state_dict().items()}}

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    saved = train()
    if library == "fnnet":
        # the same after fnnet.torch stops compiling other steps (as it does where the
        # structure keeps changing): DDP's steps are still compiled, their exchange in them
        from fnnet.torch import _compiler

        recorder = _compiler.current()
        recorder.stats.eager = True
        recorder.cache.clear()  # no step compiled before
        np.savez(out / f"fnnet_eager_unused_{rank}.npz", **train())
        assert recorder.stats.eager_runs > 0
        recorder.stats.eager = False
    # without find_unused_parameters: negative inputs leave extra and dead unused in
    # both ranks; the forward pass after a backward pass raises in both (not the one
    # after a forward pass alone)
    ddp = nn.parallel.DistributedDataParallel(net())
    x = torch.tensor(-np.ones((4, 3), np.float32))
    ddp(x)
    ddp(x).sum().backward()
    try:
        ddp(x)
    except RuntimeError as error:
        saved["error"] = np.array(str(error))
    dist.barrier()
    np.savez(out / f"{library}_unused_{rank}.npz", **saved)
    dist.destroy_process_group()
    return 0


@pytest.mark.slow
@pytest.mark.torch
def test_ddp_unused_parameters_and_divergent_forward_passes_as_pytorch(torch, tmp_path):
    # find_unused_parameters=True: a parameter used in one rank only is averaged with
    # the other's zeros; one used in no rank keeps grad None and is not moved by the
    # optimizer (weight decay included); without it the next forward pass raises
    # PyTorch's error, in each rank that left parameters unused
    _launch_in_both("unused", tmp_path)
    for rank in range(WORLD):
        with np.load(tmp_path / f"torch_unused_{rank}.npz") as f:
            expected = dict(f)
        with np.load(tmp_path / f"fnnet_unused_{rank}.npz") as f:
            got = dict(f)
        assert str(got.pop("error")) == str(expected.pop("error"))
        with np.load(tmp_path / f"fnnet_eager_unused_{rank}.npz") as f:
            eager = dict(f)
        for run, saved in (("compiled", got), ("eager", eager)):
            assert sorted(saved) == sorted(expected), run  # the same gradients are None
            for key in expected:
                np.testing.assert_allclose(saved[key], expected[key], rtol=1e-5, atol=1e-6,
                                           err_msg=f"{run} rank {rank} {key}")
        assert not any(k.startswith(("grad_1_extra", "grad_0_dead", "grad_1_dead",
                                     "grad_2_dead", "grad_3_dead")) for k in got)
        assert "grad_0_extra.weight" in got and "grad_3_extra.weight" in got
    words = str(np.load(tmp_path / "fnnet_unused_1.npz")["error"])
    assert words.startswith("Expected to have finished reduction in the prior iteration")
    assert "Parameter indices which did not receive grad for rank 1: 2 3 4 5\n" in words


def _diverge_worker() -> int:
    """Rank 1's first step leaves a layer unused that rank 0's uses, without
    find_unused_parameters: rank 1 raises at its next forward pass, rank 0 waits in
    its next step's exchange until the launcher stops it."""
    import fnnet.torch as torch
    import fnnet.torch.distributed as dist
    import fnnet.torch.nn as nn

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    ddp = nn.parallel.DistributedDataParallel(_branch_net(nn, dead=False))
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        ddp(torch.ones(2, 3) * (1 - 2 * rank)).sum().backward()
        optimizer.step()
        print(f"rank {rank} stepped", flush=True)
    return 0


@pytest.mark.slow
def test_ddp_ranks_whose_forward_passes_differ_raise_instead_of_hanging():
    # PyTorch 2.13 (gloo) raises in rank 1 at its second forward pass; rank 0 waits in
    # its backward pass until rank 1's exit breaks the connection
    start = time.monotonic()
    result = _launch("diverge", extra=("--cpu-devices-per-process", "1"))
    assert result.returncode == 1
    assert "rank 1 stepped" in result.stdout
    assert ("[rank1]: RuntimeError: Expected to have finished reduction in the prior "
            "iteration before starting a new one.") in result.stderr, result.stderr
    assert "[rank1]: Parameter indices which did not receive grad for rank 1: 2 3\n" \
        in result.stderr, result.stderr
    assert "rank 1 failed (exit code 1)" in result.stderr, result.stderr
    assert time.monotonic() - start < 120


@pytest.mark.slow
def test_a_killed_process_stops_the_run_and_is_named():
    env = dict(os.environ)  # the launcher adds its device count after the suite's XLA flags
    launcher = subprocess.Popen(
        [sys.executable, "-m", "fnnet.torch.distributed.run", "--nproc-per-node", "2",
         "--cpu-devices-per-process", "1", __file__, "hang"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT, start_new_session=True)
    try:
        pids = {}
        deadline = time.monotonic() + TIMEOUT
        while len(pids) < 2 and time.monotonic() < deadline:
            line = launcher.stdout.readline()
            if not line:
                break
            if line.startswith("ready "):
                words = line.split()
                pids[int(words[1])] = int(words[3])
        assert sorted(pids) == [0, 1], f"the workers did not start: {launcher.stderr.read()}"
        os.kill(pids[1], signal.SIGKILL)
        killed = time.monotonic()
        _, err = launcher.communicate(timeout=30)
        assert time.monotonic() - killed < 30
        assert launcher.returncode == 1
        # rank 0 is stopped, or ends by itself when its collective loses rank 1
        assert "rank 1 failed (killed by signal SIGKILL)" in err, err
        with pytest.raises(ProcessLookupError):
            os.kill(pids[0], 0)  # rank 0 is gone too
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()


@pytest.mark.slow
def test_an_exception_in_one_process_stops_the_run_and_is_named():
    start = time.monotonic()
    result = _launch("fail", extra=("--cpu-devices-per-process", "1"))
    assert result.returncode == 1
    # the traceback on standard error, each line after its rank (PyTorch's excepthook)
    assert "[rank1]: ValueError: a bug in rank 1" in result.stderr, result.stderr
    # rank 0's collective fails too once rank 1 is gone; the launcher names the cause
    assert "rank 1 failed (exit code 1)" in result.stderr, result.stderr
    assert time.monotonic() - start < 120  # no wait for JAX's shutdown or a timeout


def _import(library: str):
    """``(torch, torch.distributed, torch.nn)`` of PyTorch or of fnnet.torch."""
    if library == "torch":
        import torch
        import torch.distributed as dist
        import torch.nn as nn
    else:
        import fnnet.torch as torch
        import fnnet.torch.distributed as dist
        import fnnet.torch.nn as nn
    return torch, dist, nn


def _late_worker(out: pathlib.Path, library: str, what: str) -> int:
    """Rank 1 stops calling collectives (it sleeps until the launcher stops it) after a
    first one, or a first DDP step (``what``); rank 0's next one must raise within
    init_process_group's timeout. Rank 0 saves what it raised, and fnnet's what a later
    collective raises, then fails."""
    import datetime
    import json

    torch, dist, nn = _import(library)
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=3))
    rank = dist.get_rank()
    ddp = nn.parallel.DistributedDataParallel(nn.Linear(3, 1))

    def step():
        if what == "collective":
            dist.all_reduce(torch.ones(2))
        else:
            ddp(torch.ones(4, 3)).sum().backward()
            ddp.module.weight.grad.numpy()  # the step has run

    step()
    if rank == 1:
        time.sleep(TIMEOUT)
        return 0
    got = {}
    start = time.monotonic()
    try:
        step()
    except Exception as error:  # noqa: BLE001 - its type is what the test compares
        got["raised"] = [type(error).__name__, str(error), time.monotonic() - start]
    if library == "fnnet":
        try:
            dist.barrier()
        except RuntimeError as error:
            got["later"] = str(error)
    (out / f"{library}_{what}.json").write_text(json.dumps(got))
    return 1


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.parametrize("what", ["collective", "step"])
def test_a_rank_that_stops_calling_collectives_times_the_others_out_as_pytorchs(
        torch, tmp_path, what):
    # PyTorch's gloo raises RuntimeError('[.../unbound_buffer.cc:78] Timed out waiting
    # 3000ms for recv operation to complete') after init_process_group's timeout; in
    # fnnet.torch the wait for the others had no limit
    import json

    # one library after the other: the ranks of a run start together, so that neither
    # waits for the other longer than the timeout before rank 1 stops
    for library, launcher, extra in LAUNCHERS:
        result = _launch("late", str(tmp_path), library, what, launcher=launcher,
                         extra=extra)
        assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-4000:]
    expected = json.loads((tmp_path / f"torch_{what}.json").read_text())
    got = json.loads((tmp_path / f"fnnet_{what}.json").read_text())
    for raised in (expected["raised"], got["raised"]):
        assert raised[0] == "RuntimeError"
        assert "Timed out waiting 3000ms for " in raised[1], raised[1]
        assert 3 <= raised[2] < 60
    # the collectives are out of step now: the next one raises at once, naming why
    assert got["later"].startswith("barrier: the collectives of this process stopped at "
                                   "an earlier failure (Timed out waiting 3000ms"), got


def _crash_worker(library: str, rank: int, port: str, how: str) -> int:
    """Started without a launcher, with the rank as an argument (as the tutorials'
    mp.spawn does): rank 1 raises after a first collective (``how`` "raise"), or
    leaves the run cleanly ("leave", one collective short); rank 0 prints what a
    receive from rank 1 raises, then its next collective, and fails."""
    import datetime

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
    torch, dist, _ = _import(library)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD,
                            timeout=datetime.timedelta(seconds=TIMEOUT))
    t = torch.ones(2)
    dist.all_reduce(t)
    if rank == 1:
        if how == "leave":
            dist.destroy_process_group()
            return 0
        raise ValueError("a bug in rank 1")
    try:
        dist.recv(t, 1)
    except Exception as error:  # noqa: BLE001 - as below
        print(f"recv raised {type(error).__name__}: {error}", flush=True)
    try:
        dist.all_reduce(t)
    except Exception as error:  # noqa: BLE001 - its type is what the test compares
        print(f"raised {type(error).__name__}: {error}", flush=True)
    return 1


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.parametrize("how", ["raise", "leave"])
def test_a_rank_that_crashes_fails_the_others_collectives_at_once_as_pytorchs(torch, how):
    # without a launcher to stop them: the crashed rank ends with status 1 at once
    # (JAX's shutdown at exit waited for the others, which waited for it), and the
    # others' collective raises PyTorch's RuntimeError instead of JAX's ValueError;
    # likewise where rank 1 leaves cleanly (destroy_process_group) one collective short,
    # where rank 0 waited for it until the timeout (30 minutes by default); a receive
    # from the crashed rank waited for the timeout too
    from fnnet.parallel.launch import _kill, free_port

    ports = set()
    while len(ports) < 2:  # the two runs side by side, each on a port of its own
        ports.add(str(free_port()))
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT")}
    runs = {library: [subprocess.Popen([sys.executable, __file__, "crash", library, str(rank),
                                        port, how], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
                                       start_new_session=True)
                      for rank in range(WORLD)]
            for library, port in zip(("fnnet", "torch"), sorted(ports), strict=True)}
    try:
        ended = {library: [p.communicate(timeout=TIMEOUT) for p in procs]
                 for library, procs in runs.items()}
    finally:
        for p in (p for procs in runs.values() for p in procs):
            _kill(p)
    for library, outputs in ended.items():
        codes = [p.returncode for p in runs[library]]
        if how == "raise":
            # PyTorch's gloo now and then aborts (SIGABRT) the raising rank at its exit
            assert codes == [1, 1] if library == "fnnet" else all(codes), (codes, outputs)
            assert "[rank1]: ValueError: a bug in rank 1" in outputs[1][1], outputs[1]
        else:
            # rank 1 waits in JAX's shutdown for rank 0, whose end JAX's coordinator
            # then reports by ending rank 1 too (SIGABRT); PyTorch's rank 1 ends with 0
            assert codes[0] == 1, (codes, outputs)
        # at once, not at the timeout: a receive's wait (the store's) too
        assert "recv raised RuntimeError: " in outputs[0][0], outputs[0]
        assert "\nraised RuntimeError: " in outputs[0][0], outputs[0]
        assert outputs[0][0].count("by peer") == 2, outputs[0]  # closed by rank 1


def _exit_now(code: int) -> None:
    """Ends a PyTorch worker whose results are saved without the interpreter's teardown,
    where PyTorch's gloo backend now and then aborts the process (SIGABRT) after its
    process group was destroyed."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    mode, *rest = sys.argv[1:] or ["?"]
    if mode == "run":
        sys.exit(_worker(pathlib.Path(rest[0])))
    if mode == "torch":
        _exit_now(_torch_worker(pathlib.Path(rest[0])))
    if mode == "buffers":
        code = _buffers_worker(pathlib.Path(rest[0]), rest[1])
        if rest[1] == "torch":
            _exit_now(code)
        sys.exit(code)
    if mode == "unused":
        code = _unused_worker(pathlib.Path(rest[0]), rest[1])
        if rest[1] == "torch":
            _exit_now(code)
        sys.exit(code)
    if mode == "diverge":
        sys.exit(_diverge_worker())
    if mode == "groups":
        sys.exit(_groups_worker(pathlib.Path(rest[0])))
    if mode == "hang":
        sys.exit(_hang_worker())
    if mode == "fail":
        sys.exit(_fail_worker())
    if mode == "late":
        code = _late_worker(pathlib.Path(rest[0]), rest[1], rest[2])
        if rest[1] == "torch":
            _exit_now(code)
        sys.exit(code)
    if mode == "crash":
        code = _crash_worker(rest[0], int(rest[1]), rest[2], rest[3])
        if rest[0] == "torch":
            _exit_now(code)
        sys.exit(code)
    sys.exit(f"usage: {sys.argv[0]} run OUT | torch OUT | buffers OUT fnnet|torch | "
             "groups OUT | unused OUT fnnet|torch | diverge | hang | fail | "
             "late OUT fnnet|torch collective|step | crash fnnet|torch RANK PORT raise|leave")
