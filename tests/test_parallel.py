"""fnnet.parallel on 8 simulated CPU devices: data-parallel training equals single-device
training, SyncBatchNorm, the global Dropout mask, a user's own pmap, and the guards."""

from __future__ import annotations

import argparse
import functools
import importlib.util
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_close
from jax import lax
from jax.sharding import PartitionSpec as P

from fnnet import data, losses, nn, optim, parallel
from fnnet.nn import functional as F
from fnnet.parallel import distributed
from fnnet.train import create_train_state, fit, make_eval_step, make_train_step

DEVICES = 8
STEPS, BATCH = 20, 64


@pytest.fixture(scope="module", autouse=True)
def _eight_devices():
    if jax.device_count() < DEVICES:
        pytest.skip(f"needs {DEVICES} devices (XLA_FLAGS=--xla_force_host_platform_device_"
                    f"count={DEVICES}, set by conftest.py)")


class Net(nn.Module):
    """Linear -> ReLU -> Dropout -> BatchNorm1d -> Linear: parameters, a Dropout key and
    BatchNorm statistics, synchronised over ``axis_name`` when given."""

    def __init__(self, axis_name=None):
        self.fc1 = nn.Linear(64, 32)
        self.drop = nn.Dropout(0.3)
        self.bn = nn.BatchNorm1d(32, axis_name=axis_name)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, m, x):
        x = m.drop(F.relu(m.fc1(F.flatten(x, 1))))
        return m.fc2(m.bn(x))


def _batches(n=STEPS, batch=BATCH, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, 1, 8, 8)).astype(np.float32),
             rng.integers(0, 10, batch).astype(np.int32)) for _ in range(n)]


OPTIMIZER = optim.SGD(lr=0.1, momentum=0.9)


def _assert_tree_close(actual, expected):
    flat_a = jax.tree_util.tree_flatten_with_path(actual)[0]
    flat_e = jax.tree_util.tree_flatten_with_path(expected)[0]
    assert [p for p, _ in flat_a] == [p for p, _ in flat_e]
    for (path, a), (_, e) in zip(flat_a, flat_e, strict=True):
        assert_close(a, e, what=jax.tree_util.keystr(path))


@pytest.fixture(scope="module")
def single_device_run():
    """20 single-device steps at batch 64: the parameters, layer state and losses."""
    model = Net()
    state = create_train_state(model, OPTIMIZER, jax.random.key(0))
    step = make_train_step(model, OPTIMIZER)
    losses_seen = []
    for batch in _batches():
        state, metrics = step(state, batch)
        losses_seen.append(float(metrics["loss"]))
    return jax.device_get(state), losses_seen


def _train_pmap():
    model = Net(axis_name=parallel.DATA_AXIS)
    step = parallel.make_pmap_train_step(model, OPTIMIZER)
    states = parallel.replicate(create_train_state(model, OPTIMIZER, jax.random.key(0)))
    seen = []
    for batch in _batches():
        states, metrics = step(states, parallel.shard_batch(batch))
        seen.append(metrics)
    # Every device ends with the same state (layer state included).
    for leaf in jax.tree.leaves(parallel.gather(states)):
        for i in range(1, DEVICES):
            np.testing.assert_array_equal(leaf[i], leaf[0])
    return parallel.unreplicate(states), [float(m["loss"][0]) for m in seen]


def _train_sharding():
    model = Net(axis_name=parallel.DATA_AXIS)
    mesh = parallel.data_mesh()
    assert mesh.size == DEVICES
    step = parallel.make_train_step(model, OPTIMIZER, mesh=mesh)
    state = parallel.put_replicated(create_train_state(model, OPTIMIZER, jax.random.key(0)),
                                    mesh)
    seen = []
    for batch in _batches():
        state, metrics = step(state, parallel.put_batch(batch, mesh))
        assert state.params["fc1"]["weight"].sharding.is_fully_replicated
        seen.append(metrics)
    return state, [float(m["loss"]) for m in seen]


def _train_auto():
    """A single-device step (no axis names) run by ``data_parallel``."""
    model = Net()
    step = parallel.data_parallel(make_train_step(model, OPTIMIZER, jit=False),
                                  batch_argnums=1, donate_argnums=0)
    state = create_train_state(model, OPTIMIZER, jax.random.key(0))
    seen = []
    for batch in _batches():
        state, metrics = step(state, batch)
        seen.append(metrics)
    assert len(state.params["fc1"]["weight"].sharding.device_set) == DEVICES
    return state, [float(m["loss"]) for m in seen]


@pytest.mark.parametrize("train", [_train_pmap, _train_sharding, _train_auto],
                         ids=["pmap", "sharding", "data_parallel"])
def test_data_parallel_training_equals_single_device(train, single_device_run):
    """20 steps at global batch 64 on 8 devices = 20 steps at batch 64 on one device:
    parameters, optimizer state, BatchNorm running statistics (synchronised) and the
    Dropout masks (drawn for the whole batch) all agree."""
    expected, expected_losses = single_device_run
    state, seen_losses = train()
    state = parallel.gather(state)
    assert int(state.step) == STEPS
    _assert_tree_close(state.params, expected.params)
    _assert_tree_close(state.layer_state, expected.layer_state)
    _assert_tree_close(state.opt_state, expected.opt_state)
    assert_close(np.array(seen_losses), np.array(expected_losses), what="losses")


def test_eval_steps_equal_single_device():
    model = Net(axis_name=parallel.DATA_AXIS)
    state = create_train_state(model, OPTIMIZER, jax.random.key(1))
    single = make_eval_step(model)
    mesh = parallel.data_mesh()
    sharded = parallel.make_eval_step(model, mesh=mesh)
    pmapped = parallel.make_pmap_eval_step(model)
    replicated = parallel.put_replicated(state, mesh)
    batch = _batches(1, 64, seed=64)[0]  # (a batch that does not split: see the fit test)
    expected = single(state, batch)
    got = parallel.gather(sharded(replicated, batch))
    for name in ("loss", "accuracy", "count"):
        assert_close(got[name], expected[name], what=f"sharded {name}")
    got = parallel.unreplicate(pmapped(parallel.replicate(state), parallel.shard_batch(batch)))
    for name in ("loss", "accuracy", "count"):
        assert_close(got[name], expected[name], what=f"pmap {name}")


def test_fit_with_devices_equals_fit_on_one_device():
    """fit(devices=8), with 2 steps fused per call: the same run as on one device step
    by step, evaluation included (359 held-out examples: a batch that does not split
    over 8 devices)."""
    (tx, ty), (vx, vy) = data.load("digits", "train"), data.load("digits", "test")
    # A gentle rate: at lr=0.1 the digits run is chaotic enough that the rounding of the
    # averages (1e-7) grows past 1e-5 within 20 steps, on one device or several.
    optimizer = optim.SGD(lr=0.01, momentum=0.9)
    runs = {}
    for devices, axis_name, fused in ((None, None, 1), (DEVICES, parallel.DATA_AXIS, 2)):
        runs[devices] = fit(Net(axis_name), optimizer, (tx, ty), eval_data=(vx, vy),
                            epochs=1, batch_size=BATCH, progress=False, devices=devices,
                            steps_per_call=fused)
    (state, history), (expected, expected_history) = runs[DEVICES], runs[None]
    _assert_tree_close(parallel.gather(state.params), jax.device_get(expected.params))
    for name in ("loss", "accuracy", "eval_loss", "eval_accuracy"):
        assert_close(history[name], expected_history[name], what=name)
    with pytest.raises(ValueError, match="batch size 60 is not divisible by the 8 devices"):
        fit(Net(parallel.DATA_AXIS), OPTIMIZER, (tx, ty), batch_size=60, devices=DEVICES,
            progress=False)


def test_cli_train_devices_flag_reaches_fit(capsys):
    from fnnet.cli import main

    assert main(["train", "--devices", "3", "--batch-size", "64", "--epochs", "1",
                 "--quiet"]) == 2
    assert capsys.readouterr().err == (
        "fnnet train: error: --batch-size 64 is not divisible by the 3 devices it is split "
        "over; use a multiple of 3 (e.g. 63 or 66)\n")


def test_pmap_example_on_real_mnist(mnist_dir):
    """examples/data_parallel/pmap_mnist.py, a few steps on the real MNIST digits."""
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "data_parallel"
    spec = importlib.util.spec_from_file_location("pmap_mnist", path / "pmap_mnist.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    args = argparse.Namespace(dataset="mnist", data_dir=str(mnist_dir), epochs=1, steps=8,
                              batch_size=128, lr=0.05, seed=0)
    state, history = example.train_and_evaluate(args)
    assert int(state.step) == 8
    assert history["eval_accuracy"][0] > 0.5  # 8 steps of 128 real digits: well above 10%


# ------------------------------------------------------------------ SyncBatchNorm


def test_sync_batchnorm_under_pmap_equals_torch_on_the_global_batch(torch):
    """2 examples per device: the statistics (and the unbiased running_var, 16/15 rather
    than 2/1) must be those of all 16."""
    layer = nn.BatchNorm1d(3, axis_name="i")
    params, state = layer.init(jax.random.key(0))
    x = np.random.default_rng(2).standard_normal((DEVICES, 2, 3)).astype(np.float32)
    y, new_state = jax.pmap(lambda x: layer.apply(params, state, x, train=True),
                            axis_name="i")(x)
    t_layer = torch.nn.BatchNorm1d(3)
    expected = t_layer(torch.tensor(x.reshape(16, 3)))
    assert_close(np.asarray(y).reshape(16, 3), expected.detach())
    for i in range(DEVICES):
        assert_close(new_state["running_mean"][i], t_layer.running_mean)
        assert_close(new_state["running_var"][i], t_layer.running_var)
        assert int(new_state["num_batches_tracked"][i]) == 1


@pytest.mark.parametrize("mapper", ["pmap", "shard_map"])
def test_unsynchronised_running_statistics_are_averaged(mapper):
    """Without axis_name each device normalises with its own shard (PyTorch DDP); the
    step then keeps the average of the devices' running statistics."""
    layer = nn.BatchNorm1d(3)
    params, state = layer.init(jax.random.key(0))
    x = np.random.default_rng(3).standard_normal((DEVICES, 4, 3)).astype(np.float32)

    def shard(x):
        y, new = layer.apply(params, state, x, train=True)
        return y, parallel.sync_layer_state(new, "i", jnp.mean(y))

    if mapper == "pmap":
        y, new = jax.pmap(shard, axis_name="i")(x)
        new = jax.tree.map(lambda v: v[0], new)
    else:
        mesh = parallel.data_mesh(axis_name="i")
        y, new = jax.shard_map(shard, mesh=mesh, in_specs=P("i"), out_specs=(P("i"), P()))(
            x.reshape(DEVICES * 4, 3))
    per_device = [layer.apply(params, state, x[i], train=True)[1] for i in range(DEVICES)]
    for name in ("running_mean", "running_var"):
        assert_close(new[name], np.mean([s[name] for s in per_device], axis=0), what=name)
    assert int(new["num_batches_tracked"]) == 1


# ------------------------------------------------------------------------ Dropout


@pytest.mark.parametrize("mapper", ["pmap", "shard_map"])  # explicit axis_name / context
def test_dropout_with_axis_name_keeps_its_rows_of_the_global_mask(mapper, key):
    x = jnp.asarray(np.random.default_rng(0).standard_normal((DEVICES * 3, 5)), jnp.float32)
    expected = F.dropout(x, 0.4, key=key)

    def explicit(x):
        return F.dropout(x, 0.4, key=key, axis_name="i")

    def in_context(x):  # the Dropout layer, inside a sharded_batch context
        with parallel.sharded_batch("i"):
            return nn.Dropout(0.4).apply({}, {}, x, train=True, key=key)[0]

    if mapper == "pmap":
        y = jax.pmap(explicit, axis_name="i")(x.reshape(DEVICES, 3, 5)).reshape(-1, 5)
    else:
        mesh = parallel.data_mesh(axis_name="i")
        y = jax.shard_map(in_context, mesh=mesh, in_specs=P("i"), out_specs=P("i"))(x)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(expected))


def test_dropout_axis_name_needs_a_batch_axis(key):
    with pytest.raises(ValueError, match="axis_name='i' needs a batch axis 0 to split, got "
                                         "a 0-d input"):
        jax.pmap(lambda x: F.dropout(x, 0.5, key=key, axis_name="i"), axis_name="i")(
            jnp.ones(DEVICES))


def test_sharded_batch_context_applies_inside_only(key):
    x = jnp.ones((4, 6))
    with pytest.raises(NameError, match="unbound"):  # inside: Dropout looks up the axis
        with parallel.sharded_batch("unbound"):
            F.dropout(x, 0.5, key=key)
    with parallel.sharded_batch(None):  # None declares nothing
        inside = F.dropout(x, 0.5, key=key)
    after = F.dropout(x, 0.5, key=key)  # closed again: a mask of x's own shape
    np.testing.assert_array_equal(np.asarray(inside), np.asarray(after))


# ---------------------------------------------------------------- a user's own pmap


class ConvNet(nn.Module):
    def __init__(self):
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2, axis_name="batch")
        self.fc = nn.Linear(2 * 6 * 6, 10)

    def forward(self, m, x):
        return m.fc(F.flatten(F.relu(m.bn(m.conv(x))), 1))


def test_fnnet_layers_and_losses_in_a_classic_user_pmap():
    """The classic JAX pmap loop, written by hand around fnnet's model and loss."""
    model, lr = ConvNet(), 0.1
    params, bn_state = model.init(jax.random.key(0))

    @functools.partial(jax.pmap, axis_name="batch")
    def update(params, bn_state, x, y):
        def loss_fn(p):
            logits, new_state = model.apply(p, bn_state, x, train=True)
            return losses.cross_entropy(logits, y), new_state

        (loss, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        grads = lax.pmean(grads, axis_name="batch")
        params = jax.tree.map(lambda p, g: p - lr * g, params, grads)
        return params, new_state, lax.pmean(loss, axis_name="batch")

    single_model = ConvNet()
    single_model.bn = nn.BatchNorm2d(2)  # the same model without the mapped axis

    def single(params, bn_state, x, y):  # one device, the whole batch
        def loss_fn(p):
            logits, new_state = single_model.apply(p, bn_state, x, train=True)
            return losses.cross_entropy(logits, y), new_state

        (loss, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        return jax.tree.map(lambda p, g: p - lr * g, params, grads), new_state, loss

    # Replicated by broadcasting: one copy per device on a leading axis.
    p_params, p_state = jax.tree.map(lambda a: jnp.broadcast_to(a, (DEVICES, *a.shape)),
                                     (params, bn_state))
    s_params, s_state = params, bn_state
    rng = np.random.default_rng(0)
    single = jax.jit(single)
    for _ in range(3):
        x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 10, 32).astype(np.int32)
        p_params, p_state, p_loss = update(p_params, p_state, x.reshape(DEVICES, 4, 1, 8, 8),
                                           y.reshape(DEVICES, 4))
        # One step at a time: overlapping collectives can stall simulated CPU devices.
        jax.block_until_ready(p_params)
        s_params, s_state, s_loss = single(s_params, s_state, x, y)
        assert_close(p_loss[0], s_loss, what="loss")
    _assert_tree_close(jax.tree.map(lambda a: a[0], p_params), s_params)
    _assert_tree_close(jax.tree.map(lambda a: a[0], p_state), s_state)


# ------------------------------------------------------------------ guards and errors


@pytest.mark.parametrize("call", ["sharding", "put_batch", "shard_batch", "data_parallel"])
def test_batch_not_divisible_by_devices_is_a_clear_error(call, single_device_run):
    batch = _batches(1, 60)[0]
    model, state = Net(), single_device_run[0]
    with pytest.raises(ValueError, match=r"batch size 60 is not divisible by the 8 devices "
                                         r"it is split over; use a multiple of 8 \(e\.g\. "
                                         r"56 or 64\)"):
        if call == "sharding":
            parallel.make_train_step(model, OPTIMIZER)(state, batch)
        elif call == "put_batch":
            parallel.put_batch(batch)
        elif call == "shard_batch":
            parallel.shard_batch(batch)
        else:
            parallel.data_parallel(make_train_step(model, OPTIMIZER, jit=False))(state, batch)


@pytest.mark.parametrize("style", ["sharding", "pmap", "data_parallel"])
def test_a_donated_state_passed_again_is_an_error_not_a_crash(style, tmp_path):
    # XLA's multi-device executable crashed the process (SIGSEGV) on a donated buffer.
    model, batch = nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), _batches(1, 16)[0]
    state = create_train_state(model, OPTIMIZER, jax.random.key(0))
    original = state
    donated = (r"the state's params.1.bias was deleted: this state was passed to an earlier "
               r"train_step, which donates its input state")
    if style == "sharding":
        mesh = parallel.data_mesh()
        state, batch = parallel.put_replicated(state, mesh), parallel.put_batch(batch, mesh)
        step, evaluate = (parallel.make_train_step(model, OPTIMIZER, mesh=mesh),
                          parallel.make_eval_step(model, mesh=mesh))
    elif style == "pmap":
        state, batch = parallel.replicate(state), parallel.shard_batch(batch)
        step, evaluate = (parallel.make_pmap_train_step(model, OPTIMIZER),
                          parallel.make_pmap_eval_step(model))
    else:
        step = parallel.data_parallel(make_train_step(model, OPTIMIZER, jit=False),
                                      batch_argnums=1, donate_argnums=0)
        evaluate = None
        donated = (r"data_parallel: argument 0 holds a deleted array at 'params.1.bias': it "
                   r"was donated to an earlier call \(donate_argnums\)")
    new_state, _ = step(state, batch)
    jax.block_until_ready(new_state)
    # the state before put_replicated/replicate is not donated with its copy (the
    # replica on its own device shared its buffers: the step deleted the caller's state)
    assert any(leaf.is_deleted() for leaf in jax.tree.leaves(original)) == (
        style == "data_parallel")  # which donates the state it is given
    with pytest.raises(ValueError, match=donated):
        step(state, batch)
    if evaluate is not None:
        with pytest.raises(ValueError, match=donated):
            evaluate(state, batch)
        # what a user does next with the old state: read, copy or save it (these raised
        # jax's "Array has been deleted" without saying why)
        from fnnet.checkpoint import Checkpointer

        uses = [("gather", lambda: parallel.gather(state)),
                ("replicate", lambda: parallel.replicate(state)),
                ("put_replicated", lambda: parallel.put_replicated(state))]
        if style == "sharding":  # (a checkpointer takes a second to make)
            uses.append(("Checkpointer.save",
                         lambda: Checkpointer(tmp_path, keep=None).save(state)))
        for name, use in uses:
            with pytest.raises(ValueError, match=f"^{name}: " + donated):
                use()
    step(new_state, batch)  # the returned state trains on


def test_a_pmap_style_step_names_an_argument_without_the_device_axis():
    model, batch = nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), _batches(1, 64)[0]
    state = create_train_state(model, OPTIMIZER, jax.random.key(0))
    step = parallel.make_pmap_eval_step(model)  # as make_pmap_train_step's, traced faster
    with pytest.raises(ValueError, match=r"pmap-style step: argument 1, the batch \(from "
                       r"fnnet.parallel.shard_batch\), must have a leading device axis of 8, "
                       r"got shape \(64, 1, 8, 8\) at '0'"):
        step(parallel.replicate(state), batch)
    with pytest.raises(ValueError, match=r"argument 0, the state \(from fnnet.parallel."
                       r"replicate\), must have a leading device axis of 8, got shape"):
        step(state, parallel.shard_batch(batch))


def test_batch_arrays_must_agree_on_the_batch_size():
    with pytest.raises(ValueError, match=r"the arrays disagree on the batch size \(axis 0\): "
                                         r"\[8, 16\]"):
        parallel.put_batch((np.zeros((16, 3)), np.zeros(8)))
    # a scalar among the arrays raised jax's device_put error about the sharding's rank
    for put in (parallel.put_batch, parallel.shard_batch):
        with pytest.raises(ValueError, match=r"batch: every array is split over the devices "
                           r"along axis 0, but the one at \['w'\] has shape \(\)"):
            put({"x": np.zeros((16, 3)), "w": np.float32(0.5)})


def test_data_mesh_arguments():
    assert parallel.data_mesh(4).devices.tolist() == jax.devices()[:4]
    assert parallel.data_mesh().axis_names == ("data",)
    with pytest.raises(ValueError, match="devices must be between 1 and the 8 available "
                                         "devices, got 9"):
        parallel.data_mesh(9)


@pytest.mark.parametrize("call, error, match", [
    (lambda: parallel.data_mesh(2.0), TypeError,
     "data_mesh: devices must be a list of jax devices or a count, got float 2.0"),
    (lambda: parallel.data_mesh(["cpu:0"]), TypeError,
     "data_mesh: devices must be jax devices .*, got str 'cpu:0'"),
    (lambda: parallel.data_mesh(jax.devices()[:1] * 2), ValueError,
     "data_mesh: devices must name each device once"),
    (lambda: parallel.data_mesh(axis_name=None), TypeError, "axis_name must be a non-empty"),
    (lambda: parallel.shard_batch(np.zeros((12, 3)), 0), ValueError,
     "shard_batch: devices must be between 1 and the 8 available devices, got 0"),
    (lambda: parallel.shard_batch(np.zeros((18, 3)), 9), ValueError,
     "shard_batch: devices must be between 1 and the 8 available devices, got 9"),
    (lambda: parallel.replicate({"w": np.ones(2)}, devices=[]), ValueError,
     "replicate: devices must name at least one device"),
    (lambda: parallel.put_batch(np.zeros((16, 3)), leading=-1), ValueError,
     r"put_batch: leading must be >= 0 \(the batch axis\), got -1"),
    (lambda: parallel.make_train_step(Net(), OPTIMIZER, mesh="data"), TypeError,
     "make_train_step: mesh must be a jax.sharding.Mesh"),
    (lambda: parallel.make_eval_step(Net(), mesh="data"), TypeError,
     "make_eval_step: mesh must be a jax.sharding.Mesh"),
    (lambda: parallel.data_parallel(3), TypeError, "data_parallel: fn must be callable"),
    (lambda: parallel.data_parallel(print, batch_argnums=-1), ValueError,
     r"batch_argnums must be one or more argument positions \(ints >= 0\), got -1"),
    (lambda: parallel.data_parallel(print, batch_argnums=2)(1, 2), ValueError,
     "batch_argnums=2 names argument 2, but the call has 2 arguments"),
])
def test_device_and_axis_arguments_are_checked_first(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_fingerprints_name_the_first_differing_leaf():
    params = {"fc1": {"weight": np.ones((3, 2), np.float32), "bias": np.zeros(3, np.float32)},
              "fc2": {"weight": np.ones((1, 3), np.float32), "bias": np.zeros(1, np.float32)}}
    state = {"params": params, "step": np.int32(4)}
    other = {"params": {**params, "fc2": {**params["fc2"], "bias": np.full(1, 1e-7,
                                                                           np.float32)}},
             "step": np.int32(4)}
    paths, structure, values = distributed.fingerprint(state)
    _, structure_b, values_b = distributed.fingerprint(other)
    np.testing.assert_array_equal(structure, structure_b)  # same layout, other values
    distributed.compare_fingerprints(paths, np.stack([structure] * 2),
                                     np.stack([values] * 2))  # identical: no error
    with pytest.raises(ValueError, match=r"state differs across processes: the values of "
                                         r"state\['params'\]\['fc2'\]\['bias'\] on process 1 "
                                         r"differ from process 0's"):
        distributed.compare_fingerprints(paths, np.stack([structure, structure_b]),
                                         np.stack([values, values_b]))
    wider = {**state, "params": {**params, "fc2": {**params["fc2"],
                                                   "weight": np.ones((2, 3), np.float32)}}}
    _, structure_c, _ = distributed.fingerprint(wider)
    with pytest.raises(ValueError, match=r"the tree structure, shapes or dtypes of "
                                         r"process\(es\) \[1\] differ from process 0's"):
        distributed.compare_fingerprints(paths, np.stack([structure, structure_c]), None)


@pytest.mark.parametrize("env, kwargs, message", [
    ({"FNNET_NUM_PROCESSES": "two"}, {}, "FNNET_NUM_PROCESSES must be an integer, got 'two'"),
    ({"FNNET_NUM_PROCESSES": "2", "FNNET_PROCESS_ID": "0"}, {},
     r"num_processes=2 needs coordinator_address='host:port' \(or FNNET_COORDINATOR\)"),
    ({"FNNET_COORDINATOR": "localhost"}, {"num_processes": 2, "process_id": 0},
     "coordinator_address must be 'host:port', got 'localhost'"),
    ({"FNNET_COORDINATOR": "localhost:1234", "FNNET_NUM_PROCESSES": "2"}, {},
     r"a multi-process run needs process_id= \(or FNNET_PROCESS_ID\)"),
    ({}, {"coordinator_address": "localhost:1234", "num_processes": 2, "process_id": 2},
     r"process_id must be in \[0, 2\), got 2"),
    ({"FNNET_COORDINATOR": "localhost:1234"}, {},
     r"a multi-process run needs num_processes= \(or FNNET_NUM_PROCESSES\)"),
    ({}, {"coordinator_address": "localhost:70000", "num_processes": 2, "process_id": 0},
     "coordinator_address must be 'host:port', got 'localhost:70000'"),
    ({}, {"initialization_timeout": 0}, "initialization_timeout must be a positive number"),
])
def test_initialize_refuses_bad_settings(monkeypatch, env, kwargs, message):
    for name in (parallel.ENV_COORDINATOR, parallel.ENV_NUM_PROCESSES,
                 parallel.ENV_PROCESS_ID):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        parallel.initialize(**kwargs)


def test_initialize_refuses_an_address_that_is_no_str():
    with pytest.raises(TypeError, match="coordinator_address must be a str 'host:port', got "
                                        "int 1234"):
        parallel.initialize(1234, 2, 0)


def test_initialize_joins_a_runtime_already_started_for_the_same_run(monkeypatch):
    # under python -m fnnet.torch.distributed.run, import fnnet.torch starts JAX's runtime
    monkeypatch.setattr(jax.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(jax, "process_count", lambda: 2)
    monkeypatch.setattr(jax, "process_index", lambda: 1)
    assert parallel.initialize("localhost:1234", 2, 1) is True
    with pytest.raises(RuntimeError, match="already runs this as process 1 of 2, not 0 of 2"):
        parallel.initialize("localhost:1234", 2, 0)


def test_initialize_is_a_no_op_for_one_process(monkeypatch):
    for name in (parallel.ENV_COORDINATOR, parallel.ENV_NUM_PROCESSES,
                 parallel.ENV_PROCESS_ID):
        monkeypatch.delenv(name, raising=False)
    assert parallel.initialize() is False
    monkeypatch.setenv(parallel.ENV_NUM_PROCESSES, "1")
    assert parallel.initialize() is False
    assert parallel.is_main_process()


def test_pmap_style_steps_are_built_once_per_structure():
    # the step cache keys them on structure: a second build compiles nothing again
    step = parallel.make_pmap_train_step(Net(axis_name=parallel.DATA_AXIS), OPTIMIZER)
    assert parallel.make_pmap_train_step(Net(axis_name=parallel.DATA_AXIS), OPTIMIZER) is step
    assert parallel.make_pmap_train_step(Net(axis_name=parallel.DATA_AXIS), OPTIMIZER,
                                         donate=False) is not step
    assert parallel.make_pmap_train_step(Net(axis_name=parallel.DATA_AXIS),
                                         optim.SGD(lr=0.5)) is not step
    evaluate = parallel.make_pmap_eval_step(Net(axis_name=parallel.DATA_AXIS))
    assert parallel.make_pmap_eval_step(Net(axis_name=parallel.DATA_AXIS)) is evaluate
