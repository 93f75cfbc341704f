"""nn.DataParallel in fnnet.torch: the compiled step split over 8 simulated CPU devices
gives the parameters of the single-device step on the whole batch."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from helpers import assert_close
from jax.sharding import PartitionSpec

import fnnet.torch as ft
import fnnet.torch.nn as nn

DEVICES = 8  # tests/conftest.py simulates 8 CPU devices before JAX starts


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.25),
                         nn.Linear(32, 10))


def _cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 10))


def _train(make, data_parallel: bool, steps: int = 20, batch: int = 64):
    """Trains a fresh model; returns its state dict, the wrapper and the last output."""
    ft.manual_seed(0)
    model = make()
    net = nn.DataParallel(model) if data_parallel else model
    opt = ft.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    ft.manual_seed(1)  # the same dropout masks in both runs
    out = None
    for _ in range(steps):
        x = ft.tensor(rng.normal(size=(batch, 1, 8, 8)).astype(np.float32))
        y = ft.tensor(rng.integers(0, 10, size=batch))
        opt.zero_grad()
        out = net(x)
        loss = nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    return state, net, out


@pytest.mark.parametrize("make", [_mlp, pytest.param(_cnn, marks=pytest.mark.slow)],
                         ids=["mlp", "cnn_batchnorm_dropout"])
def test_data_parallel_training_equals_single_device(make):
    assert jax.device_count() == DEVICES
    single, _, _ = _train(make, data_parallel=False)
    ft.reset_compile_stats()
    parallel, net, out = _train(make, data_parallel=True)
    # Gradients are all-reduced in a different order: equal up to float rounding.
    for name, want in single.items():
        assert_close(parallel[name], want, rtol=1e-5, atol=2e-6, what=name)
    # It really ran split: the model's output stays split along the batch over all 8
    # devices, the parameters are replicated on them, and the step compiled for 8.
    value = out._cell.val
    assert value.sharding.spec == PartitionSpec("data")
    assert len(value.sharding.device_set) == DEVICES
    assert len(value.addressable_shards) == DEVICES
    assert value.addressable_shards[0].data.shape[0] == 64 // DEVICES
    weight = next(net.parameters())._cell.val
    assert len(weight.sharding.device_set) == DEVICES and weight.sharding.is_fully_replicated
    log = ft.compile_stats()["log"]
    assert [entry["devices"] for entry in log if entry["reason"] == "step"] == [DEVICES]


def test_evaluation_through_data_parallel_equals_the_module():
    ft.manual_seed(0)
    model = _cnn()
    net = nn.DataParallel(model)
    x = ft.randn(16, 1, 8, 8)
    net.eval()
    with ft.no_grad():
        want = model(x).numpy()
        got = net(x)
        assert got._value().sharding.spec == PartitionSpec("data")
        assert_close(got.numpy(), want)


def test_module_attribute_and_state_dict_keys_as_torch(torch):
    model = _cnn()
    net = ft.nn.DataParallel(model)
    assert net.module is model
    assert ft.nn.parallel.DataParallel is ft.nn.DataParallel
    ref = torch.nn.DataParallel(torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Dropout(0.25), torch.nn.Flatten(),
        torch.nn.Linear(16 * 4, 10)))
    assert list(net.state_dict()) == list(ref.state_dict())
    assert list(net.state_dict())[0] == "module.0.weight"
    assert all(p is q for p, q in zip(net.parameters(), model.parameters(), strict=True))
    other = ft.nn.DataParallel(_cnn())
    other.load_state_dict(net.state_dict())
    for (name, a), b in zip(net.state_dict().items(), other.state_dict().values(),
                            strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_an_uneven_last_batch_trains_as_on_one_device():
    # a loader's last batch of 30 does not split over 8 devices: PyTorch gives the
    # replicas chunks of 4 and 2; fnnet.torch runs it whole on each device
    single, _, _ = _train(_mlp, data_parallel=False, steps=1, batch=30)
    parallel, _, out = _train(_mlp, data_parallel=True, steps=1, batch=30)
    for name, want in single.items():
        assert_close(parallel[name], want, rtol=1e-5, atol=2e-6, what=name)
    assert tuple(out.shape) == (30, 10)
    with pytest.raises(ValueError, match="DataParallel: inputs must have a batch axis"):
        nn.DataParallel(_mlp())(ft.tensor(1.0))


def test_device_ids_pick_the_devices():
    net = nn.DataParallel(_mlp(), device_ids=[0, 1])
    out = net(ft.randn(6, 1, 8, 8))
    value = out._value()
    assert len(value.sharding.device_set) == 2 and value.sharding.spec == PartitionSpec("data")
    with pytest.raises(ValueError, match="DataParallel: device index 8 is out of range: "
                       "there are 8 local devices"):
        nn.DataParallel(_mlp(), device_ids=[0, 8])
    with pytest.raises(TypeError, match="DataParallel: device_ids must be None or a list of "
                       "device indices, got int 3"):
        nn.DataParallel(_mlp(), device_ids=3)


def test_a_dropped_data_parallel_output_does_not_make_later_steps_parallel():
    out = nn.DataParallel(_mlp(), device_ids=[0, 1])(ft.randn(6, 1, 8, 8))
    out.sum().item()  # carries the split graph into the next tape
    del out
    ft.reset_compile_stats()
    _train(_mlp, data_parallel=False, steps=2)
    assert {entry["devices"] for entry in ft.compile_stats()["log"]} == {1}


def test_bad_arguments():
    with pytest.raises(TypeError, match="DataParallel: module must be an nn.Module, got "
                       "function"):
        nn.DataParallel(lambda x: x)
    with pytest.raises(NotImplementedError, match=r"DataParallel\(dim=1\) is not supported"):
        nn.DataParallel(_mlp(), dim=1)
    assert not hasattr(nn.parallel, "replicate")
    with pytest.raises(NotImplementedError, match="torch.nn.parallel.replicate"
                       ".*DistributedDataParallel"):
        getattr(nn.parallel, "replicate")  # noqa: B009


@pytest.mark.torch
def test_on_a_single_cpu_device_the_module_runs_as_is_as_pytorchs(torch, monkeypatch):
    # PyTorch without GPUs: DataParallel calls the module, device_ids is [] and the ids
    # given are not checked
    monkeypatch.setattr(jax, "local_devices", lambda *a, **k: jax.devices()[:1])
    theirs = torch.nn.DataParallel(torch.nn.Linear(3, 2), device_ids=[0, 1], dim=1)
    ours = nn.DataParallel(nn.Linear(3, 2), device_ids=[0, 1], dim=1)
    ours.module.load_state_dict({k: ft.tensor(v.detach().numpy())
                                 for k, v in theirs.module.state_dict().items()})
    assert ours.device_ids == theirs.device_ids == []
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.arange(5.0, dtype=np.float32).reshape(1, 5)[:, :3]  # a batch of one row
    np.testing.assert_allclose(ours(ft.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    assert ours(ft.tensor(x[0])).shape == theirs(torch.tensor(x[0])).shape  # no batch axis
