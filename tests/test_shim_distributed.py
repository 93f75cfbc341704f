"""fnnet.torch.distributed in one process: DistributedSampler against PyTorch's, the process
group's settings and errors, DistributedDataParallel and SyncBatchNorm with one process,
the unsupported names, and the launcher (on shell commands, without JAX).

The multi-process runs are in test_shim_distributed_multiprocess.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import fnnet.torch as ft
import fnnet.torch.distributed as dist
import fnnet.torch.nn as nn
from fnnet.torch.distributed import run as launcher
from fnnet.torch.utils.data.distributed import DistributedSampler, rank_indices

ENV = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture
def group(monkeypatch):
    """A single-process default group, destroyed afterwards."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    dist.init_process_group("gloo")
    try:
        yield
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@pytest.fixture
def no_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


# -- DistributedSampler --------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("n", [1, 3, 10, 11, 13])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_split_is_pytorchs(torch, n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for rank in range(replicas):
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False,
                                  drop_last=drop_last)
        assert list(ours) == list(theirs), (rank, list(ours), list(theirs))
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size
        # shuffled: PyTorch's own permutation, split the same way
        shuffled = TorchSampler(range(n), replicas, rank, shuffle=True, seed=7,
                                drop_last=drop_last)
        shuffled.set_epoch(3)
        g = torch.Generator()
        g.manual_seed(7 + 3)
        order = torch.randperm(n, generator=g).tolist()
        assert rank_indices(order, replicas, rank, drop_last) == list(shuffled)


def test_sampler_shuffles_per_epoch_the_same_on_every_rank():
    samplers = [DistributedSampler(range(20), 2, r, seed=5) for r in range(2)]
    first = [list(s) for s in samplers]
    assert sorted(first[0] + first[1]) == list(range(20))  # the ranks share the data
    assert first[0] != list(range(0, 20, 2))  # shuffled
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first and sorted(second[0] + second[1]) == list(range(20))
    again = DistributedSampler(range(20), 2, 0, seed=5)
    assert list(again) == first[0]  # a pure function of seed and epoch
    loader = ft.utils.data.DataLoader(ft.utils.data.TensorDataset(np.arange(20.0)),
                                      batch_size=4, sampler=samplers[1])
    assert [b[0].tolist() for b in loader] == \
        [[float(i) for i in second[1][k:k + 4]] for k in range(0, 10, 4)]


def test_sampler_bad_arguments(no_env):
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(TypeError, match="DistributedSampler: rank must be an int, got str"):
        DistributedSampler(range(4), 2, "0")
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))


def test_sampler_defaults_come_from_the_group(group):
    sampler = ft.utils.data.distributed.DistributedSampler(range(5), shuffle=False)
    assert (sampler.num_replicas, sampler.rank, list(sampler)) == (1, 0, [0, 1, 2, 3, 4])
    assert ft.utils.data.DistributedSampler is DistributedSampler


# -- the process group ----------------------------------------------------------------


def test_single_process_group_and_collectives(group):
    assert dist.is_available() and dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "gloo")
    t = ft.tensor([1.0, -2.0, 3.0])
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.MIN):
        assert dist.all_reduce(t, op=op) is None
        assert t.tolist() == [1.0, -2.0, 3.0]
    work = dist.broadcast(t * 2, src=0, async_op=True)
    assert work.wait() and work.is_completed()
    out = [ft.zeros(3)]
    dist.all_gather(out, t)
    assert out[0].tolist() == [1.0, -2.0, 3.0]
    dist.barrier()
    dist.monitored_barrier()
    got = ft.zeros(3)
    dist.scatter(got, [t * 3], src=0)
    dist.gather(got, out, dst=0)
    assert out[0].tolist() == [3.0, -6.0, 9.0]
    assert dist.new_group() is dist.new_group([0])
    assert dist.is_gloo_available() and dist.is_nccl_available()
    assert not dist.is_mpi_available()
    with pytest.raises(ValueError, match="initialize the default process group twice"):
        dist.init_process_group("gloo")


@pytest.mark.parametrize("call, error, match", [
    (lambda: dist.all_reduce([1.0]), TypeError, "all_reduce: tensor must be a Tensor, got list"),
    (lambda: dist.all_reduce(ft.ones(2), op="mean"), ValueError,
     "all_reduce: op must be a torch.distributed.ReduceOp"),
    (lambda: dist.broadcast(ft.ones(2), src="0"), ValueError,
     r"broadcast: src must be a rank in \[0, 1\), got '0'"),
    (lambda: dist.all_reduce(ft.ones(2), group=object()), TypeError,
     "all_reduce: group must be None, group.WORLD or a group from new_group"),
    (lambda: dist.new_group([0, 1, 2]), ValueError,
     r"new_group: ranks must be ranks in \[0, 1\), got \[0, 1, 2\]"),
    (lambda: dist.new_group([0, 0]), ValueError, "new_group: ranks must name each rank once"),
])
def test_collective_bad_arguments(group, call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.fixture
def torch_group(torch, group):
    """PyTorch's one-process gloo group beside fnnet.torch's, destroyed afterwards."""
    from fnnet.parallel.launch import free_port

    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{free_port()}",
                                         rank=0, world_size=1)
    try:
        yield torch
    finally:
        torch.distributed.destroy_process_group()


def _outcome(call):
    """What ``call()`` gave: its value, or the error's type and first line."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - compared with PyTorch's
        return type(error).__name__, str(error).splitlines()[0]


def test_reduce_ops_print_number_and_check_dtypes_as_pytorchs(torch_group):
    torch = torch_group
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"):
        ours, theirs = getattr(dist.ReduceOp, name), getattr(torch.distributed.ReduceOp, name)
        assert (str(ours), repr(ours), f"{ours}", int(ours)) == \
            (str(theirs), repr(theirs), f"{theirs}", int(theirs))
        assert ours is dist.ReduceOp.RedOpType[name] and ours == int(theirs)
    for values, dtype in (([5, 6], "int64"), ([True, False], "bool"), ([1.5, 2.0], "float32")):
        for name in ("AVG", "BXOR"):
            def run(lib, values=values, dtype=dtype, name=name):
                t = lib.tensor(values, dtype=getattr(lib, dtype))
                lib.distributed.all_reduce(t, op=getattr(lib.distributed.ReduceOp, name))
                return t.tolist()
            assert _outcome(lambda: run(ft)) == _outcome(lambda: run(torch)), (name, dtype)
    with pytest.raises(NotImplementedError, match="ReduceOp.PREMUL_SUM; multiply"):
        dist.all_reduce(ft.ones(1), op=dist.ReduceOp.PREMUL_SUM)


def test_all_to_all_in_one_process_and_its_errors_as_pytorchs(torch_group):
    torch = torch_group

    def calls(lib):
        d = lib.distributed
        out = [lib.zeros(4)]
        single, split = lib.zeros(4), lib.zeros(4)
        return [
            lambda: (d.all_to_all(out, [lib.arange(4.0)]), out[0].tolist()),
            lambda: (type(work := d.all_to_all_single(single, lib.ones(4), async_op=True)
                          ).__name__, work.wait(), single.tolist()),
            lambda: (d.all_to_all_single(split, lib.arange(4.0), [4], [4]), split.tolist()),
            lambda: d.all_to_all([lib.zeros(3), lib.zeros(3)], [lib.arange(3.0)]),
            lambda: d.all_to_all([lib.zeros(3, dtype=lib.int64)], [lib.arange(3.0)]),
            lambda: d.all_to_all([lib.zeros(2)], [lib.arange(3.0)]),
            lambda: d.all_to_all_single(split, lib.arange(4.0), [3], [3]),
        ]
    for ours, theirs in zip(calls(ft), calls(torch), strict=True):
        assert _outcome(ours) == _outcome(theirs)
    split = ft.zeros(3, 2)  # gloo's words: 'inLengthPerRank[myRank] == outLengthPerRank...'
    with pytest.raises(RuntimeError, match=r"all_to_all_single: rank 0 sends 4 rows to rank 0, "
                       r"whose output_split_sizes expect 3; every rank's"):
        dist.all_to_all_single(split, ft.ones(4, 2), [3], [4])
    with pytest.raises(TypeError, match=r"all_to_all_single: input_split_sizes must be a "
                       r"list of ints, got \[4.0\]"):
        dist.all_to_all_single(ft.zeros(4), ft.ones(4), [4], [4.0])


def _bad_tensors(lib):
    """Collectives given tensors of other sizes or dtypes, lists on the wrong rank, or a
    root rank outside the group."""
    d, x = lib.distributed, lib.arange(4.0)
    return [
        lambda: d.all_gather([lib.zeros(4), lib.zeros(4)], x),
        lambda: d.all_gather([lib.zeros(3)], x),
        lambda: d.all_gather([lib.zeros(4, dtype=lib.int64)], x),
        lambda: d.all_gather([lib.zeros(())], lib.zeros(1)),
        lambda: d.all_gather_into_tensor(lib.zeros(4, dtype=lib.int64), x),
        lambda: d.all_gather_into_tensor(lib.zeros(5), x),
        lambda: d.all_gather_into_tensor(lib.zeros(2, 3), lib.zeros(2, 2)),
        lambda: d.reduce_scatter(lib.zeros(4), [x, x]),
        lambda: d.reduce_scatter(lib.zeros(4), [lib.zeros(4, dtype=lib.int64)]),
        lambda: d.reduce_scatter(lib.zeros(3), [x]),
        lambda: d.reduce_scatter_tensor(lib.zeros(2), x),
        lambda: d.reduce_scatter_tensor(lib.zeros(4, dtype=lib.int64), x),
        lambda: d.gather(x, None, dst=0),
        lambda: d.gather(x, [x, x], dst=0),
        lambda: d.gather(x, [lib.zeros(3)], dst=0),
        lambda: d.gather(x, [lib.zeros(4, dtype=lib.int64)], dst=0),
        lambda: d.scatter(lib.zeros(4), [], src=0),
        lambda: d.scatter(lib.zeros(4), [x, x], src=0),
        lambda: d.scatter(lib.zeros(4), [lib.zeros(3)], src=0),
        lambda: d.scatter(lib.zeros(4), [lib.zeros(4, dtype=lib.int64)], src=0),
        lambda: d.broadcast(x, src=3),
        lambda: d.reduce(x, dst=-1),
        lambda: d.gather(x, [x], dst=2),
        lambda: d.scatter(x, [x], src=5),
    ]


def _bad_messages(lib):
    """Point-to-point calls that PyTorch refuses before sending anything (rank 0 is
    this process's own)."""
    d, x = lib.distributed, lib.ones(2)
    return [
        lambda: d.send(x, 0),
        lambda: d.isend([1.0], 0),
        lambda: d.send(x),
        lambda: d.isend(x, 0, group_dst=0),
        lambda: d.isend(lib.arange(6.0).reshape(2, 3).t(), 0),
        lambda: d.irecv(lib.zeros(3, 2).t(), 0),
        lambda: d.isend(x, 0, tag=-1),
        lambda: d.send(x, 0, group=d.GroupMember.NON_GROUP_MEMBER),
        lambda: d.P2POp(d.send, x, 0),
        lambda: d.P2POp(d.isend, 3, 0),
        lambda: d.P2POp(d.irecv, x),
        lambda: d.batch_isend_irecv((d.P2POp(d.isend, x, 0),)),
        lambda: d.batch_isend_irecv([1]),
        lambda: repr(d.P2POp(d.isend, x, 0)),
        lambda: repr(d.P2POp(d.irecv, x, group_peer=0)),
    ]


@pytest.mark.filterwarnings("ignore:Running irecv:UserWarning")
def test_point_to_point_calls_check_their_arguments_as_pytorchs(torch_group):
    # the messages themselves are exchanged in test_shim_distributed_multiprocess.py
    import datetime

    torch = torch_group
    for i, (ours, theirs) in enumerate(zip(_bad_messages(ft), _bad_messages(torch),
                                           strict=True)):
        assert _outcome(ours) == _outcome(theirs), i
    for lib in (ft, torch):  # a rank outside the group receives nothing
        d = lib.distributed
        assert d.recv(lib.ones(1), 0, group=d.GroupMember.NON_GROUP_MEMBER) == -1
    # PyTorch's own words differ or are missing here: the type is PyTorch's
    for lib in (ft, torch):
        d, x = lib.distributed, lib.ones(1)
        with pytest.raises(RuntimeError):  # gloo has no pair of a process with itself
            d.irecv(x, 0)
        with pytest.raises(IndexError):
            d.batch_isend_irecv([])
        with pytest.raises(TypeError):
            d.isend(x, 0, tag=1.5)
        with pytest.raises(TypeError):
            d.isend(x, 0.0)
        with pytest.raises(RuntimeError, match="Timed out waiting 200ms for recv "
                                               "operation to complete"):
            d.irecv(x).wait(datetime.timedelta(seconds=0.2))  # from any rank: none sends
    # PyTorch waits for a rank that is not there (and then fails on its store)
    with pytest.raises(ValueError, match=r"^isend: dst must be a rank in \[0, 1\), got 5$"):
        dist.isend(ft.ones(1), 5)
    with pytest.raises(ValueError, match="^Group rank 3 is not part of group"):
        dist.send(ft.ones(1), group_dst=3)
    with pytest.raises(TypeError, match="^wait: timeout must be a datetime.timedelta"):
        dist.irecv(ft.ones(1)).wait(0.5)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # PyTorch's renamings
def test_collectives_refuse_bad_tensors_with_pytorchs_errors(torch_group):
    # they raised ValueError in fnnet's words (PyTorch's gloo raises RuntimeError), and
    # an output of another dtype took the values cast where PyTorch refuses
    import re

    def words(outcome):  # without the log prefix of gloo's failed checks (a timestamp)
        return outcome[0], re.sub(r"^\[rank\d+\]:\[F[^]]*\] ", "", outcome[1]).strip()

    for i, (ours, theirs) in enumerate(zip(_bad_tensors(ft), _bad_tensors(torch_group),
                                           strict=True)):
        assert _outcome(ours) == words(_outcome(theirs)), i
    stacked = ft.zeros(1, 4)  # [world, *input.shape]: PyTorch's NCCL takes it, gloo not
    dist.all_gather_into_tensor(stacked, ft.arange(4.0))
    assert stacked.tolist() == [[0.0, 1.0, 2.0, 3.0]]


def test_names_new_in_pytorch_2_13_and_their_deprecated_forms_as_pytorchs(torch_group):
    # all_gather_single and reduce_scatter_single (PyTorch 2.13's names, whose former
    # names warn), get_group_rank, new_subgroups, get_pg_count and the backend helpers
    # raised NotImplementedError
    import re
    import warnings

    def seen(lib, files):
        d, got = lib.distributed, []
        x = lib.arange(4.0).reshape(2, 2)
        whole, block = lib.zeros(2, 2), lib.zeros(2, 2)
        d.all_gather_single(whole, x)
        d.reduce_scatter_single(block, x * 3, op=d.ReduceOp.MAX)
        got.append((whole.tolist(), block.tolist()))
        work = d.all_gather_single(lib.zeros(2, 2), x + 1, async_op=True)
        work.wait()  # PyTorch's result() raises while the work runs
        got.append([t.tolist() for t in work.result()])
        for old, call in (("all_gather_into_tensor", lambda: d.all_gather_into_tensor(
                              lib.zeros(2, 2), x)),
                          ("reduce_scatter_tensor", lambda: d.reduce_scatter_tensor(
                              lib.zeros(2, 2), x))):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                call()
            got.append([(w.category.__name__, str(w.message)) for w in caught
                        if old in str(w.message)])
            files.extend(w.filename for w in caught if old in str(w.message))
        for call in (lambda: d.all_gather_single(lib.zeros(3), lib.zeros(2)),
                     lambda: d.reduce_scatter_single(lib.zeros(1), lib.zeros(2))):
            kind, words = _outcome(call)  # gloo's check has a log prefix (a timestamp)
            got.append((kind, re.sub(r"^\[rank\d+\]:\[F[^]]*\] ", "", words).strip()))
        mine, subgroups = d.new_subgroups(1)
        got.append((len(subgroups), mine is subgroups[0], d.get_world_size(mine),
                    d.get_rank(mine), d.get_group_rank(mine, 0),
                    d.get_group_rank(d.group.WORLD, 3)))
        mine, subgroups = d.new_subgroups_by_enumeration([[0]])
        got.append((len(subgroups), mine is subgroups[0]))
        for call in (lambda: d.new_subgroups(0), lambda: d.new_subgroups(2),
                     lambda: d.new_subgroups(), lambda: d.new_subgroups_by_enumeration([]),
                     lambda: d.get_group_rank(None, 0), lambda: d.get_group_rank(-100, 0),
                     lambda: d.get_global_rank(-100, 0), lambda: d.get_backend(-100),
                     lambda: d.get_process_group_ranks(-100),
                     lambda: d.get_default_backend_for_device("cpu"),
                     lambda: d.get_default_backend_for_device(lib.device("cuda", 1)),
                     lambda: d.get_default_backend_for_device("meta"),
                     lambda: d.is_backend_available("gloo"),
                     lambda: d.is_backend_available("mpi"),
                     lambda: d.is_backend_available("foo")):
            got.append(_outcome(call))
        got.append((d.default_pg_timeout, d.get_pg_count()))
        return got

    files: list[str] = []
    assert seen(ft, files) == seen(torch_group, [])
    assert files == [__file__, __file__]  # the warnings point at the caller's line


@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")  # PyTorch's
def test_async_handles_give_results_and_futures_as_pytorchs(torch_group):
    # Work had wait() and is_completed() only: get_future(), result() and the rest
    # raised AttributeError
    def handles(lib):
        d, x = lib.distributed, lib.ones(2)
        gathered, whole = [lib.zeros(2)], lib.zeros(2)
        return [d.all_reduce(x, async_op=True), d.broadcast(x, 0, async_op=True),
                d.all_gather(gathered, x, async_op=True),
                d.all_gather_into_tensor(whole, x, async_op=True),
                d.barrier(async_op=True)]

    def seen(lib):
        got = []
        for work in handles(lib):
            future = work.get_future()
            values = [[t.tolist() for t in tensors] for tensors in
                      (future.wait(), work.result())]
            got.append((values, future.done(), work.exception(), work.is_success(),
                        work.synchronize(), future.then(lambda f: len(f.value())).wait()))
        return got

    assert seen(ft) == seen(torch_group)


@pytest.mark.filterwarnings("ignore:c10d..allreduce_:UserWarning")  # PyTorch's own
def test_a_collective_on_a_computed_tensor_keeps_its_gradient_as_pytorchs(torch_group):
    # PyTorch's collectives write in place outside autograd: the gradient passes them
    # as the identity (a tensor of the graph, a view, and a leaf all take the result)
    torch = torch_group
    got = []
    for lib in (ft, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        lib.distributed.all_reduce(y, op=lib.distributed.ReduceOp.MAX)
        name = type(y.grad_fn).__name__  # the grad_fn of x * 3, kept
        (y * y).sum().backward()
        base = lib.zeros(2, 3)
        lib.distributed.broadcast(base[1], src=0)
        lib.distributed.all_reduce(x)
        got.append((y.tolist(), name, x.grad.tolist(), base.tolist(), x.is_leaf,
                    x.requires_grad))
    assert got[0] == got[1]


def test_the_world_group_and_its_ranks_as_pytorchs(torch_group):
    torch = torch_group
    for lib in (dist, torch.distributed):
        world = lib.group.WORLD
        assert lib.GroupMember.WORLD is world and world is not None
        assert (lib.get_process_group_ranks(world), lib.get_global_rank(world, 0),
                lib.get_world_size(world), lib.GroupMember.NON_GROUP_MEMBER) == ([0], 0, 1, -100)
    with pytest.raises(ValueError, match="^Group rank 1 is not part of group"):
        dist.get_global_rank(dist.group.WORLD, 1)
    dist.destroy_process_group()
    assert dist.group.WORLD is None


@pytest.mark.parametrize("kwargs, env, error, match", [
    ({"backend": "mpi"}, {}, ValueError, "backend must be 'gloo' or 'nccl'"),
    ({"backend": 1}, {}, TypeError, "backend must be a str"),
    ({"world_size": 2, "rank": 2}, {}, ValueError, r"rank must be in \[0, 2\), got 2"),
    ({}, {"WORLD_SIZE": "two"}, ValueError, "WORLD_SIZE must be an integer, got 'two'"),
    ({"init_method": "bogus://x"}, {}, RuntimeError, "No rendezvous handler for bogus://"),
    ({"init_method": "file:///x", "world_size": 2, "rank": "0"}, {}, TypeError,
     "rank must be an int, got str '0'"),
    ({"init_method": "tcp://nohost"}, {}, ValueError, "must be 'tcp://host:port'"),
    ({"store": object()}, {}, NotImplementedError, "store= is not supported"),
    ({"timeout": "10"}, {}, TypeError, "timeout must be a datetime.timedelta"),
])
def test_init_process_group_bad_settings(no_env, monkeypatch, kwargs, env, error, match):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(error, match=match):
        dist.init_process_group(**kwargs)
    assert not dist.is_initialized()


@pytest.mark.torch
@pytest.mark.parametrize("kwargs, env", [
    ({"world_size": 2, "rank": 0}, {}),
    ({"world_size": 2, "rank": 0}, {"MASTER_ADDR": "127.0.0.1"}),
    ({"world_size": 2, "rank": 0}, {"MASTER_PORT": "29555"}),
    ({"world_size": 2, "rank": 0}, {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "abc"}),
    ({"world_size": 2}, {}),
    ({"rank": 1}, {}),
    ({"world_size": 2, "init_method": "tcp://127.0.0.1:1"}, {}),
    ({"rank": 1, "init_method": "tcp://127.0.0.1:1"}, {}),
    ({"init_method": "file://", "world_size": 1, "rank": 0}, {}),
    ({"init_method": "file:///x"}, {"WORLD_SIZE": "1", "RANK": "0"}),  # not read
    ({"init_method": "file:///x", "world_size": 2}, {}),
    ({"init_method": "file:///x", "rank": 0}, {}),
])
def test_init_process_group_missing_settings_as_pytorchs(torch, no_env, monkeypatch, kwargs,
                                                        env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    got = [_outcome(lambda lib=lib: lib.init_process_group("gloo", **kwargs))
           for lib in (dist, torch.distributed)]
    assert got[0] == got[1] and got[0][0] == "ValueError"
    assert not dist.is_initialized()


@pytest.mark.torch
def test_a_taken_port_is_pytorchs_dist_network_error(torch):
    import socket

    from fnnet.torch.distributed._group import _start_error

    assert dist.DistNetworkError.__mro__[1:4] == (dist.DistError, RuntimeError, Exception)
    assert [c.__name__ for c in torch.distributed.DistNetworkError.__mro__[:3]] == \
        ["DistNetworkError", "DistError", "RuntimeError"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        error = _start_error(RuntimeError("UNKNOWN: Failed to start RPC server"),
                             f"127.0.0.1:{port}", 0)
    assert type(error) is dist.DistNetworkError
    assert str(error) == (f"The server socket has failed to listen on any local network "
                          f"address. port: {port}, useIpv6: false, code: -98, name: "
                          f"EADDRINUSE, message: address already in use")  # PyTorch's words
    assert str(_start_error(RuntimeError("x"), f"127.0.0.1:{port}", 0)) == \
        "init_process_group: x"  # the port is free again


def test_without_a_group_the_calls_say_so(no_env):
    for call in (dist.get_rank, dist.get_world_size, dist.barrier,
                 lambda: dist.all_reduce(ft.ones(1)), lambda: dist.send(ft.ones(1), 1),
                 lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2))):
        with pytest.raises(ValueError, match="^Default process group has not been "
                                             "initialized, please make sure to call "
                                             "init_process_group.$"):
            call()


@pytest.mark.parametrize("name", ["rpc", "pipelining", "fsdp", "FullyShardedDataParallel",
                                  "TCPStore", "init_device_mesh", "optim",
                                  "something_new"])
def test_unsupported_names_raise_not_implemented_naming_them(name):
    with pytest.raises(NotImplementedError, match=f"torch.distributed.{name};") as info:
        getattr(dist, name)
    assert not isinstance(info.value, AttributeError)
    assert not hasattr(dist, "_private")  # Python's own probes stay AttributeErrors


@pytest.mark.parametrize("module", ["rpc", "fsdp", "pipelining", "checkpoint"])
def test_unsupported_submodules_raise_on_import(module):
    import importlib

    with pytest.raises(NotImplementedError, match=f"torch.distributed.{module};"):
        importlib.import_module(f"fnnet.torch.distributed.{module}")
    with pytest.raises(NotImplementedError, match=f"torch.distributed.{module};"):
        exec(f"from fnnet.torch.distributed import {module}", {})


@pytest.mark.torch
def test_elastics_record_decorator_as_pytorchs(torch, tmp_path, monkeypatch):
    # torchrun's documentation decorates the entry point with @record
    from torch.distributed.elastic.multiprocessing.errors import record as theirs

    from fnnet.torch.distributed.elastic.multiprocessing.errors import record as ours

    def main(code=None):
        if code == "raise":
            raise ValueError("bad batch")
        if code is not None:
            sys.exit(code)
        return 5

    got = []
    for record in (ours, theirs):
        wrapped = record(main)
        assert wrapped.__name__ == "main"
        file = tmp_path / f"{len(got)}.json"
        monkeypatch.setenv("TORCHELASTIC_ERROR_FILE", str(file))
        with pytest.raises(SystemExit) as exited:
            wrapped(3)
        with pytest.raises(ValueError, match="bad batch"):
            wrapped("raise")
        written = __import__("json").loads(file.read_text())["message"]
        got.append((wrapped(), wrapped(0), exited.value.code, written["message"],
                    "ValueError: bad batch" in written["extraInfo"]["py_callstack"]))
    assert got[0] == got[1] == (5, None, 3, "ValueError: bad batch", True)
    import fnnet.torch.distributed.elastic as elastic

    with pytest.raises(NotImplementedError, match="torch.distributed.elastic.agent; there "
                                                  "are no elastic restarts"):
        elastic.agent  # noqa: B018


# -- DistributedDataParallel and SyncBatchNorm in one process ------------------------


def _bn_net():
    ft.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))


def test_ddp_in_one_process_is_the_module(group):
    x = ft.tensor(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32))
    plain, wrapped = _bn_net(), _bn_net()
    ddp = nn.parallel.DistributedDataParallel(wrapped, device_ids=[0],
                                              find_unused_parameters=True)
    assert ddp.module is wrapped and nn.DistributedDataParallel is type(ddp)
    assert list(ddp.state_dict()) == [f"module.{k}" for k in plain.state_dict()]
    for model in (plain, ddp):
        opt = ft.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
    plain(x).sum().backward()
    with ddp.no_sync():
        ddp(x).sum().backward()
    for (k, a), b in zip(plain.state_dict().items(), wrapped.state_dict().values(),
                         strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-6, err_msg=k)
    for a, b in zip(plain.parameters(), wrapped.parameters(), strict=True):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-6)


def test_ddp_bad_arguments(group):
    with pytest.raises(TypeError, match="DistributedDataParallel: module must be an "
                                        "nn.Module, got function"):
        nn.parallel.DistributedDataParallel(lambda x: x)
    with pytest.raises(NotImplementedError, match=r"DistributedDataParallel\(dim=1\)"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2), dim=1)
    with pytest.raises(ValueError, match="device index 99 is out of range"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2), device_ids=[99])
    with pytest.raises(ValueError, match=r"^device_ids can only be None or contain a single "
                                         r"element\.$"):  # PyTorch's check, first
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2), device_ids=[0, 1])
    for module in (nn.Linear(2, 2).requires_grad_(False), nn.ReLU()):  # PyTorch's words
        with pytest.raises(RuntimeError, match=r"^DistributedDataParallel is not needed when "
                           r"a module doesn't have any parameter that requires a gradient\.$"):
            nn.parallel.DistributedDataParallel(module)
    ddp = nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
    ddp._set_static_graph()  # accepted, as static_graph=True
    with pytest.raises(NotImplementedError, match=r"DistributedDataParallel.join \(uneven "
                                                  r"inputs\); give every rank"):
        ddp.join()
    with pytest.raises(NotImplementedError, match="DistributedDataParallel.register_comm_hook"):
        ddp.register_comm_hook(None, lambda state, bucket: bucket)


@pytest.mark.slow
@pytest.mark.torch
def test_ddp_in_one_process_finds_unused_parameters_as_pytorch(torch, group):
    # PyTorch's reducer runs with one process too: a forward pass after a backward pass
    # that left parameters unused raises, unless find_unused_parameters=True (where
    # their gradients stay None)
    from fnnet.parallel.launch import free_port

    def run(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a, self.extra, self.b = (lib.nn.Linear(3, 3), lib.nn.Linear(3, 3),
                                              lib.nn.Linear(3, 1))

            def forward(self, x):
                h = self.a(x)
                if x.sum() > 0:
                    h = self.extra(h)
                return self.b(h)

        seen = []
        for find in (False, True):
            ddp = lib.nn.parallel.DistributedDataParallel(Net(), find_unused_parameters=find)
            ddp.eval()
            ddp(-lib.ones(2, 3))  # a forward pass alone arms nothing
            ddp.train()
            for sign in (1, -1, 1):
                try:
                    ddp(lib.ones(2, 3) * sign).sum().backward()
                except RuntimeError as error:
                    seen.append(str(error))
                    break
                seen.append([p.grad is None for p in ddp.parameters()])
                ddp.zero_grad()
        return seen

    torch.distributed.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
    try:
        expected = run(torch)
    finally:
        torch.distributed.destroy_process_group()
    assert run(ft) == expected
    assert expected[1] == [False, False, True, True, False, False]
    assert expected[2].startswith("Expected to have finished reduction in the prior")
    assert "did not receive grad for rank 0: 2 3\n" in expected[2]


@pytest.mark.parametrize("bf16_used", [True, False])
def test_ddp_gradient_exchange_is_one_flat_buffer_per_dtype_with_counts(bf16_used):
    # DDP's exchange over two devices standing for two processes: each gradient's mean
    # (bfloat16 kept), zeros for a parameter the loss does not reach, the count of
    # processes whose loss reached each parameter; one buffer per dtype, exchanged also
    # where this process's loss reached none of its parameters (XLA would drop the
    # all-reduce of constant zeros from this process's program alone)
    import jax
    import jax.numpy as jnp
    from jax.sharding import Mesh, PartitionSpec

    from fnnet.torch import _sharding

    mesh = Mesh(np.array(jax.devices()[:2]), (_sharding.PROCESS_AXIS,))
    params = (jnp.arange(3.0), jnp.ones(2, jnp.bfloat16), jnp.ones((2, 2)))

    def step(x):  # x: [1, 3], this process's row
        def loss(params, accumulated, counter):
            # the first parameter's gradient was accumulated under no_sync: 10 x
            w, h, _ = _sharding.grad_sync(*params, accumulated, counter,
                                          (True, False, False), True, mesh)
            used = (h.astype(jnp.float32) * x[0, :2]).sum() if bf16_used else 0.0
            return (w * x[0]).sum() + used

        grads = jax.grad(loss, argnums=(0, 2))(params, 10 * x[0], jnp.zeros(3))
        return jax.tree.map(lambda g: g[None], grads)  # each process's own

    mapped = jax.jit(jax.shard_map(step, mesh=mesh, in_specs=PartitionSpec(
        _sharding.PROCESS_AXIS), out_specs=PartitionSpec(_sharding.PROCESS_AXIS),
        check_vma=False))
    x = np.array([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]], np.float32)
    (w, h, dead), counts = mapped(x)
    # added to the accumulated 10 x, the mean over processes of x + 10 x
    np.testing.assert_allclose(w + 10 * x, np.broadcast_to(11 * x.mean(0), (2, 3)),
                               rtol=1e-6)
    assert h.dtype == jnp.bfloat16
    np.testing.assert_array_equal(np.asarray(h, np.float32)[1],
                                  x.mean(0)[:2] if bf16_used else [0, 0])
    np.testing.assert_array_equal(dead, np.zeros((2, 2, 2)))
    np.testing.assert_array_equal(counts, [[2, 2 if bf16_used else 0, 0]] * 2)
    exchanged = [line for line in mapped.lower(x).compile().as_text().splitlines()
                 if " all-reduce(" in line]
    # float32: 3 + 4 gradients and 3 counts; bfloat16 (XLA's CPU sums it as float32): 2
    assert "f32[10]" in " ".join(exchanged) and "[2]{0}" in " ".join(exchanged), exchanged


def test_convert_sync_batchnorm_keeps_tensors_order_and_math():
    net = _bn_net()
    net.eval()
    bn = net[1]
    before = list(net.state_dict())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert converted is net and isinstance(net[1], nn.SyncBatchNorm)
    assert not net.training and not net[1].training
    assert net[1].weight is bn.weight and net[1].running_var is bn.running_var
    assert list(net.state_dict()) == before
    assert isinstance(nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm2d(3)),
                      nn.SyncBatchNorm)
    # in one process, SyncBatchNorm is BatchNorm: any rank of input, the same statistics
    x = np.random.default_rng(1).normal(size=(6, 3, 5)).astype(np.float32)
    sync, plain = nn.SyncBatchNorm(3), nn.BatchNorm1d(3)
    np.testing.assert_allclose(sync(ft.tensor(x)).detach().numpy(),
                               plain(ft.tensor(x)).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(sync.running_var.numpy(), plain.running_var.numpy(), rtol=1e-6)
    assert tuple(sync(ft.tensor(x[..., None])).shape) == (6, 3, 5, 1)
    with pytest.raises(TypeError, match="convert_sync_batchnorm: module must be an "
                                        "nn.Module"):
        nn.SyncBatchNorm.convert_sync_batchnorm("bn")


def test_an_uncaught_exceptions_report_carries_the_rank_as_pytorchs(monkeypatch, capsys):
    from fnnet.torch.distributed import _group

    def ends_the_process(kind, error, tb):  # the launched process's hook: print, then exit
        print("Traceback (most recent call last):\n  File \"x.py\"\n\nValueError: bad",
              file=sys.stderr)
        sys.stderr.flush()

    monkeypatch.setattr(sys, "excepthook", ends_the_process)
    _group._prefix_tracebacks(1, end=False)
    sys.excepthook(ValueError, ValueError("bad"), None)
    assert capsys.readouterr().err == ('[rank1]: Traceback (most recent call last):\n'
                                       '[rank1]:   File "x.py"\n\n[rank1]: ValueError: bad\n')


class _Store:
    """The calls of JAX's coordination client that ``left_rank`` and
    ``monitored_barrier`` make, on a dict (a missing key is never waited for)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def key_value_try_get(self, key: str) -> str:
        return self.values[key]

    def key_value_dir_get(self, prefix: str) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.values.items() if k.startswith(prefix)]

    def blocking_key_value_get(self, key: str, ms: int) -> str:
        if key not in self.values:
            raise RuntimeError(f"DEADLINE_EXCEEDED: {key}")
        return self.values[key]

    def key_value_set(self, key: str, value: str) -> None:
        self.values[key] = value

    def key_value_delete(self, key: str) -> None:
        self.values.pop(key, None)

    def key_value_increment(self, key: str, by: int) -> int:
        self.values[key] = str(int(self.values.get(key, "0")) + by)
        return int(self.values[key])


def test_monitored_barrier_names_the_ranks_that_did_not_arrive_as_pytorchs(monkeypatch, group):
    # PyTorch 2.13's words (gloo, 3 processes, rank 2 late, timeout 1 s); its timeout
    # was ignored, and a late rank made the others wait for it
    import types

    from fnnet.torch import _waiting
    from fnnet.torch.distributed import _monitored

    store = _Store({})
    monkeypatch.setattr(_waiting, "coordinator_client", lambda: store)
    monkeypatch.setattr(_waiting.Limit, "failed", "earlier")  # no exit handler added
    monkeypatch.setattr(_monitored._Count, "done", {})
    monkeypatch.setattr(_monitored, "_GRACE", 0.0)
    world = types.SimpleNamespace(ranks=[0, 1, 2], rank=0, size=3)
    store.values.update({"fnnet_monitored/0-1-2/0/1": "", "fnnet_monitored/0-1-2/0/2": ""})
    _monitored.monitor(world, 0.01, wait_all_ranks=True)  # all there: passes
    assert store.values == {"fnnet_monitored/0-1-2/0/answer": ""}
    store.values.clear()
    for wait_all, words in ((True, "Ranks 1, 2"), (False, "Rank 1")):
        with pytest.raises(RuntimeError, match=rf"^\[Rank 0\]: {words} failed to pass "
                           r"monitoredBarrier in 10 ms$"):
            _monitored.monitor(world, 0.01, wait_all_ranks=wait_all)
    world.rank = 1  # rank 0's answer names rank 2, or never comes
    for answer in ("[Rank 0]: Rank 2 failed to pass monitoredBarrier in 10 ms", None):
        if answer is not None:
            number = _monitored._Count.done[(0, 1, 2)]  # the next barrier's
            store.values[f"fnnet_monitored/0-1-2/{number}/answer"] = answer
        with pytest.raises(RuntimeError, match=r"^Rank 1 successfully reached "
                           r"monitoredBarrier, but received errors while waiting for "
                           r"send/recv from rank 0. Please check rank 0 logs for faulty "
                           r"rank.$"):
            _monitored.monitor(world, 0.01, wait_all_ranks=False)
    assert store.values["fnnet_monitored/0-1-2/3/read"] == "1"  # rank 2's read deletes it
    with pytest.raises(TypeError, match="monitored_barrier: timeout must be a "
                       "datetime.timedelta or None, got int 5"):
        dist.monitored_barrier(timeout=5)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_peers_that_raised_or_were_killed_on_this_machine_are_seen_gone(monkeypatch):
    # PyTorch's gloo fails a wait for a crashed peer at once (its connection closes); a
    # message's wait reads the store instead: a rank ending at an exception names itself
    # there, and a killed one on this machine is seen by its process id
    import time

    from fnnet.torch import _waiting

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    here = _waiting._machine()
    store = _Store({"fnnet_process/1": f"{here} {os.getpid()}",  # alive
                    "fnnet_process/2": f"elsewhere {ended.pid}",  # not watched
                    "fnnet_process/3": f"{here} {ended.pid}"})
    monkeypatch.setattr(_waiting, "coordinator_client", lambda: store)
    monkeypatch.setattr(_waiting._Peers, "where", {})
    processes = frozenset(range(4))
    while not os.path.exists(f"/proc/{ended.pid}") or \
            open(f"/proc/{ended.pid}/stat").read().rpartition(")")[2].split()[0] != "Z":
        time.sleep(0.01)  # ended, not yet waited for: a zombie counts as ended
    assert _waiting.left_rank(processes) == (3, "ended without leaving the run (killed?)")
    ended.wait()
    assert _waiting.left_rank(processes) == (3, "ended without leaving the run (killed?)")
    store.values["fnnet_left/1"] = "ended at an uncaught exception"
    gone = _waiting.left_rank(processes)
    assert gone == (1, "ended at an uncaught exception")
    assert _waiting.peer_gone(gone, "before this recv completed") == (
        "Connection closed by peer: rank 1 ended at an uncaught exception before this recv "
        "completed. This is typically caused by another rank crashing; check its output")
    assert _waiting.left_rank(frozenset({0, 1})) == (1, "ended at an uncaught exception")
    assert _waiting.left_rank(frozenset({0, 2})) is None


# -- the launcher (shell commands: no JAX in the children) ---------------------------


def _run(capsys, *args: str) -> subprocess.CompletedProcess:
    """What ``python -m fnnet.torch.distributed.run ARGS`` prints and its exit status, run
    by the launcher's ``main`` in this process (the ranks are processes all the same; the
    processes of test_shim_distributed_multiprocess.py start the command itself)."""
    code = launcher.main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["fnnet.torch.distributed.run", *args], code, out, err)


def test_launcher_sets_torchruns_environment_and_passes_output_on(capsys):
    result = _run(capsys, "--nproc-per-node", "2", "--no-python", "sh", "-c",
                  "echo $RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $GROUP_RANK "
                  "$MASTER_ADDR $FNNET_PROCESS_ID $FNNET_NUM_PROCESSES")
    assert result.returncode == 0, result.stderr
    lines = sorted(result.stdout.splitlines())
    assert lines == ["0 0 2 2 0 127.0.0.1 0 2", "1 1 2 2 0 127.0.0.1 1 2"]  # as torchrun's


def test_launcher_runs_a_module_with_its_arguments(capsys):
    result = _run(capsys, "--nproc-per-node", "2", "-m", "calendar", "2026", "12")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("   December 2026") == 2


def test_launcher_environments_on_several_machines():
    # torchrun's --role names ROLE_NAME; --start-method, --rdzv-conf and --local-addr
    # are accepted as torchrun's
    args = launcher.build_parser().parse_args(
        ["--nnodes", "2", "--node-rank", "1", "--nproc-per-node", "3", "--master-addr",
         "10.0.0.1", "--role", "trainer", "--start-method", "fork", "--rdzv-conf",
         "join_timeout=900", "--local-addr", "10.0.0.2", "train.py", "--lr", "0.1"])
    envs = launcher._environments(args)
    assert [e["RANK"] for e in envs] == ["3", "4", "5"]
    assert {e["ROLE_NAME"] for e in envs} == {"trainer"}
    assert [e["LOCAL_RANK"] for e in envs] == ["0", "1", "2"]
    assert {(e["WORLD_SIZE"], e["MASTER_ADDR"], e["MASTER_PORT"], e["GROUP_RANK"],
             e["FNNET_COORDINATOR"]) for e in envs} == {("6", "10.0.0.1", "29500", "1",
                                                         "10.0.0.1:29500")}
    assert args.script_args == ["--lr", "0.1"]


@pytest.mark.torch
def test_launcher_takes_every_flag_of_torchrun(torch):
    # --virtual-local-rank, --logs-specs, --numa-binding, --signals-to-handle,
    # --shutdown-timeout, --event-log-handler and the --duplicate-*-filters were
    # refused; --rdzv-endpoint localhost:0 (any free port, as torchrun picks) gave the
    # processes MASTER_PORT=0, where JAX's coordinator cannot start
    from torch.distributed.run import get_args_parser

    ours = launcher.build_parser()._option_string_actions
    theirs = get_args_parser()._option_string_actions
    assert sorted(set(theirs) - set(ours)) == []
    args = launcher.build_parser().parse_args(
        ["--rdzv-backend=c10d", "--rdzv-endpoint=localhost:0", "--nproc-per-node=2",
         "--virtual-local-rank", "--logs-specs", "x", "--numa-binding", "node",
         "--signals-to-handle", "SIGTERM,SIGUSR1", "--shutdown-timeout", "5", "train.py"])
    envs = launcher._environments(args)
    assert {e["MASTER_ADDR"] for e in envs} == {"localhost"}
    assert len({e["MASTER_PORT"] for e in envs}) == 1 and envs[0]["MASTER_PORT"] != "0"
    assert envs[0]["FNNET_COORDINATOR"] == f"localhost:{envs[0]['MASTER_PORT']}"
    # each process sees its own GPU as device 0, as torchrun's
    assert [(e["RANK"], e["LOCAL_RANK"], e["CUDA_VISIBLE_DEVICES"]) for e in envs] == \
        [("0", "0", "0"), ("1", "0", "1")]


def test_launcher_stops_everyone_when_one_fails_and_names_it(capsys):
    result = _run(capsys, "--nproc-per-node", "3", "--no-python", "sh", "-c",
                  'if [ "$RANK" = 1 ]; then echo bye; exit 3; fi; sleep 60')
    assert result.returncode == 1
    assert result.stdout == "bye\n"
    assert "rank 1 failed (exit code 3); stopped rank(s) 0, 2" in result.stderr


def test_launcher_names_the_rank_that_raised_though_a_peer_exits_first(capsys):
    # rank 1 prints its traceback, then takes a second to exit (as JAX's shutdown does);
    # rank 0's collective fails at once on losing it and exits first
    script = ('if [ "$RANK" = 1 ]; then echo "Traceback (most recent call last):"; '
              'echo "ValueError: a bug"; sleep 1; exit 1; fi; sleep 0.3; exit 1')
    result = _run(capsys, "--nproc-per-node", "2", "--no-python", "sh", "-c", script)
    assert result.returncode == 1
    assert result.stderr.endswith("rank 1 failed (exit code 1)\n"), result.stderr


def test_launcher_names_a_killed_rank_before_the_peer_that_raised_after_it(capsys):
    script = ('if [ "$RANK" = 1 ]; then kill -9 $$; fi; sleep 0.5; '
              'echo "Traceback (most recent call last):"; exit 1')
    result = _run(capsys, "--nproc-per-node", "2", "--no-python", "sh", "-c", script)
    assert "rank 1 failed (killed by signal SIGKILL)" in result.stderr, result.stderr


def test_launcher_ignores_a_traceback_a_rank_survived(capsys):
    script = ('if [ "$RANK" = 0 ]; then echo "Traceback (most recent call last):"; '
              'exit 0; fi; sleep 0.5; exit 2')
    result = _run(capsys, "--nproc-per-node", "2", "--no-python", "sh", "-c", script)
    assert result.stderr.endswith("rank 1 failed (exit code 2)\n"), result.stderr


def test_launcher_timeout_stops_a_hung_run(capsys):
    result = _run(capsys, "--nproc-per-node", "2", "--timeout", "1", "--no-python", "sleep", "60")
    assert result.returncode == 1
    assert "timed out after 1 s with rank(s) 0, 1 still running" in result.stderr


@pytest.mark.slow  # two interpreters importing fnnet: about 3 s
@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])  # Ctrl-C; a scheduler's stop
def test_fnnet_torchrun_stopped_by_a_signal_stops_every_rank_and_exits_130(signum):
    import signal

    # Started as a terminal starts it, with Ctrl-C's default action: pytest itself may run
    # with SIGINT ignored (a background job, nohup), which a child would inherit.
    as_from_a_terminal = ("import runpy, signal, sys; "
                          "signal.signal(signal.SIGINT, signal.default_int_handler); "
                          "sys.argv[0] = 'fnnet'; "
                          "runpy.run_module('fnnet.cli', run_name='__main__')")
    launched = subprocess.Popen(
        [sys.executable, "-c", as_from_a_terminal, "torchrun", "--nproc-per-node", "2",
         "--no-python", "sh", "-c", "echo started; sleep 60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert launched.stdout is not None
    started = [launched.stdout.readline() for _ in range(2)]
    assert started == ["started\n", "started\n"]
    launched.send_signal(getattr(signal, signum))
    out, err = launched.communicate(timeout=60)
    assert launched.returncode == 130, err
    # one line, in the name it was started by
    assert err == "fnnet torchrun: interrupted; stopped rank(s) 0, 1\n"


def test_launcher_tees_redirects_and_filters_output_as_torchrun(tmp_path, capsys):
    # torchrun's --tee puts "[default<local rank>]:" before each line it shows and
    # writes <log dir>/<run id>_<random>/attempt_0/<local rank>/stdout.log; --redirects
    # writes the file alone; --local-ranks-filter shows the listed ranks only
    script = "echo out $LOCAL_RANK $(basename $TORCHELASTIC_ERROR_FILE); echo err >&2"
    assert launcher.main(["--nproc-per-node", "2", "--tee", "1", "--log-dir",
                          str(tmp_path), "--rdzv-id", "job", "--role", "trainer",
                          "--no-python", "sh", "-c", script]) == 0
    shown = capsys.readouterr()
    assert sorted(shown.out.splitlines()) == ["[trainer0]:out 0 error.json",
                                              "[trainer1]:out 1 error.json"]
    assert shown.err.splitlines().count("err") == 2  # not teed: as it is
    (run,) = tmp_path.iterdir()
    assert run.name.startswith("job_")
    for local in (0, 1):
        logs = run / "attempt_0" / str(local)
        assert (logs / "stdout.log").read_text() == f"out {local} error.json\n"
        assert not (logs / "stderr.log").exists()
    assert launcher.main(["--nproc-per-node", "2", "-r", "0:1", "--local-ranks-filter", "0",
                          "--log-dir", str(tmp_path), "--no-python", "sh", "-c",
                          "echo out $LOCAL_RANK; echo err $LOCAL_RANK >&2"]) == 0
    shown = capsys.readouterr()
    assert (shown.out, shown.err.splitlines()[-1]) == ("", "err 0")
    assert launcher.main(["--nproc-per-node", "cpu", "--no-python", "sh", "-c",
                          "echo $LOCAL_WORLD_SIZE"]) == 0
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count()
    assert capsys.readouterr().out.splitlines() == [str(count)] * count


def test_the_deprecated_launch_passes_the_local_rank_as_pytorchs(tmp_path, capsys):
    # python -m torch.distributed.launch gives the script --local-rank=N first (not with
    # --use-env), warns that it is deprecated, and needs --use-env with --no-python
    from fnnet.torch.distributed import launch

    script = tmp_path / "train.py"
    script.write_text("import os, sys\nprint(os.environ['LOCAL_RANK'], *sys.argv[1:])\n")
    with pytest.warns(FutureWarning, match="torch.distributed.launch is deprecated"):
        assert launch.main(["--nproc_per_node", "2", str(script), "--lr", "0.1"]) == 0
    assert sorted(capsys.readouterr().out.splitlines()) == ["0 --local-rank=0 --lr 0.1",
                                                            "1 --local-rank=1 --lr 0.1"]
    with pytest.warns(FutureWarning):
        assert launch.main(["--nproc_per_node", "2", "--use-env", str(script)]) == 0
    assert sorted(capsys.readouterr().out.splitlines()) == ["0", "1"]
    with pytest.warns(FutureWarning), pytest.raises(SystemExit):
        launch.main(["--no-python", "echo"])
    assert "When using the '--no-python' flag, you must also set the '--use-env' flag." \
        in capsys.readouterr().err
    assert dist.launch is launch


@pytest.mark.parametrize("args, message", [
    (["--nnodes", "2", "x.py"], "--nnodes 2 needs --master-addr"),
    (["--max-restarts", "1", "x.py"], "--max-restarts must be 0"),
    (["--nnodes", "1:4", "x.py"], "elastic --nnodes ranges are not supported"),
    (["--node-rank", "1", "x.py"], r"--node-rank must be in \[0, 1\), got 1"),
    (["--nproc-per-node", "0", "x.py"], "expected a positive integer, got 0"),
    (["--nproc-per-node", "tpu", "x.py"], "expected a positive integer or one of auto, cpu, "
                                          "gpu, got 'tpu'"),
    (["--tee", "4", "x.py"], r"expected 0 \(none\), 1 \(stdout\), 2 \(stderr\) or 3"),
    (["--redirects", "a:1", "x.py"], "expected local_rank:stream pairs"),
    (["--local-ranks-filter", "0,a", "x.py"], "comma-separated list of local ranks"),
    (["--monitor-interval", "0", "x.py"], "--monitor-interval must be positive"),
    (["--start-method", "thread", "x.py"], r"argument --start-method/--start_method: "
                                           r"invalid choice: 'thread' \(choose from"),
])
def test_launcher_bad_flags(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        launcher.main(args)
    assert info.value.code == 2
    assert pytest.importorskip("re").search(message, capsys.readouterr().err)


def test_fnnet_torchrun_is_the_launcher():
    from fnnet.cli import main

    result = subprocess.run([sys.executable, "-m", "fnnet.cli", "torchrun",
                             "--nproc-per-node", "2", "--no-python", "sh", "-c", "exit 0"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with pytest.raises(SystemExit):
        main(["torchrun", "--help"])


def test_the_launcher_names_the_rank_whose_peer_it_did_not_lose():
    """Rank 0's collective failing because rank 1 crashed can be read first (its pipe,
    under load): the rank that printed the lost-peer error is not named as the cause
    while another rank failed; alone, it is."""
    import threading

    from fnnet.torch.distributed.run import _first_failure

    lock = threading.Lock()
    ended = {"0": (1, 10.0), "1": (1, 10.2)}
    raised = {"0": 9.9, "1": 10.0}
    assert _first_failure(ended, raised, lock, {"0"}, {"0", "1"}) == \
        "rank 1 failed (exit code 1)"
    assert _first_failure(ended, raised, lock, set(), {"0", "1"}) == \
        "rank 0 failed (exit code 1)"
    assert _first_failure({"0": (1, 10.0)}, {"0": 9.9}, lock, {"0"}, {"0"}) == \
        "rank 0 failed (exit code 1)"
