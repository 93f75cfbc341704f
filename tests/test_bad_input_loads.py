"""Atomic loads, trees checked at the boundary and labels checked in compiled steps.

A failed ``load_state_dict`` must change nothing (parameters, optimizer
hyperparameters and state); mismatched trees must be named before JAX fails on them;
an out-of-range label inside a jitted step must be reported as such by ``fit``.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fnnet import interop, models, optim
from fnnet import torch as ftorch
from fnnet.nn import StateDictError
from fnnet.train import TrainState, create_train_state, fit, make_train_step

# ------------------------------------------------------------- fnnet.torch modules


def _net(hidden=4):
    ftorch.manual_seed(0)
    return ftorch.nn.Sequential(ftorch.nn.Linear(3, hidden), ftorch.nn.ReLU(),
                                ftorch.nn.Linear(hidden, 2), ftorch.nn.BatchNorm1d(2))


def _values(module):
    return {k: np.array(v.detach().numpy()) for k, v in module.state_dict().items()}


def _unchanged(before, after):
    return before.keys() == after.keys() and all(
        np.array_equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("given", [None, 5, "model.pt", [("0.weight", 1)]])
def test_module_load_state_dict_refuses_non_mappings(given):
    net = _net()
    with pytest.raises(TypeError, match=re.escape(
            f"Expected state_dict to be dict-like, got {type(given)}.")):
        net.load_state_dict(given)


@pytest.mark.parametrize("value, message", [
    ("weights", "expected torch.Tensor or Tensor-like object from checkpoint but received "
                "<class 'str'>"),
    (None, "expected torch.Tensor or Tensor-like object from checkpoint but received "
           "<class 'NoneType'>"),
    (np.full((4, 3), "w"), "expected a tensor of real numbers from checkpoint but received "
                           "dtype <U1"),
    (np.full((4, 3), 1.0, object), "expected a tensor of real numbers from checkpoint but "
                                   "received dtype object"),
    (np.ones((4, 3), complex), "expected a tensor of real numbers from checkpoint but "
                               "received dtype complex128"),
    (np.ones((3, 4), np.float32), "size mismatch for 0.weight: copying a param with shape "
                                  "torch.Size([3, 4]) from checkpoint"),
])
def test_module_load_state_dict_names_the_bad_key_and_changes_nothing(value, message):
    net = _net()
    before = _values(net)
    state = {k: v * 2 for k, v in net.state_dict().items()}  # valid but for one key
    state["0.weight"] = value
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    assert 'parameter named "0.weight"' in str(info.value) or "for 0.weight" in str(info.value)
    assert message in str(info.value)
    assert _unchanged(before, _values(net))


def test_module_load_state_dict_still_loads_valid_values():
    net, other = _net(), _net()
    state = {k: v * 2 for k, v in other.state_dict().items()}
    state["0.weight"] = np.arange(12, dtype=np.float64).reshape(4, 3)  # cast, as torch does
    net.load_state_dict(state)
    np.testing.assert_array_equal(_values(net)["0.weight"],
                                  np.arange(12, dtype=np.float32).reshape(4, 3))


def test_a_1_element_value_loads_into_a_0_dim_buffer_as_pytorch_loads_it(torch):
    """Checkpoints of PyTorch before 0.4 hold scalars as 1-element tensors: PyTorch's
    load_state_dict takes one into a 0-dim parameter or buffer (BatchNorm's
    num_batches_tracked); a longer or empty one is a size mismatch."""
    for lib in (torch, ftorch):
        norm = lib.nn.BatchNorm1d(2)
        state = {**norm.state_dict(), "num_batches_tracked": lib.tensor([7])}
        assert str(norm.load_state_dict(state)) == "<All keys matched successfully>"
        assert norm.num_batches_tracked.shape == () and norm.num_batches_tracked.item() == 7
        for count in ([7, 9], []):
            state["num_batches_tracked"] = lib.tensor(count, dtype=lib.int64)
            with pytest.raises(RuntimeError, match=re.escape(
                    f"size mismatch for num_batches_tracked: copying a param with shape "
                    f"torch.Size([{len(count)}]) from checkpoint, the shape in current "
                    f"model is torch.Size([]).")):
                norm.load_state_dict(state)


# ---------------------------------------------------------- fnnet.torch optimizers


def _trained(factory, hidden=4, steps=2):
    net = _net(hidden)
    opt = factory(net.parameters())
    for _ in range(steps):
        opt.zero_grad()
        net(ftorch.ones(5, 3)).sum().backward()
        opt.step()
    return net, opt


def _opt_snapshot(opt):
    saved = opt.state_dict()
    return (repr(saved["param_groups"]),
            {i: {k: np.array(v.detach().numpy()) for k, v in entry.items()}
             for i, entry in saved["state"].items()})


def _same(a, b):
    """Whether two optimizer snapshots hold the same groups and state values."""
    return a[0] == b[0] and a[1].keys() == b[1].keys() and all(
        a[1][i].keys() == b[1][i].keys()
        and all(np.array_equal(a[1][i][k], b[1][i][k]) for k in a[1][i]) for i in a[1])


def _adam(params):
    return ftorch.optim.Adam(params, lr=0.01)


def _sgd(params):
    return ftorch.optim.SGD(params, lr=0.1, momentum=0.9)


@pytest.fixture(scope="module")
def adam():
    """A trained shim model and its Adam, shared: every failed load must leave them as
    they are, so the cases cannot disturb one another unless a load is not atomic."""
    return _trained(_adam, steps=1)


@pytest.fixture(scope="module")
def bad_optimizer_states(adam):
    own = adam[1].state_dict()
    bad_lr = {"state": own["state"],
              "param_groups": [{**own["param_groups"][0], "lr": -1.0}]}
    strings = {"state": {**own["state"], 1: {**own["state"][1], "exp_avg_sq": "x"}},
               "param_groups": own["param_groups"]}
    missing = {"state": {0: {"step": own["state"][0]["step"],
                             "exp_avg": own["state"][0]["exp_avg"]}},
               "param_groups": own["param_groups"]}
    return {
        "another model": (_trained(_adam, hidden=8, steps=1)[1].state_dict(), ValueError,
                          "state[0] (a parameter of shape (4, 3)): 'exp_avg' has shape "
                          "(8, 3), expected (4, 3): the state of another model?"),
        "another optimizer": (_trained(_sgd, steps=1)[1].state_dict(), ValueError,
                              "state[0] (a parameter of shape (4, 3)): holds "
                              "['momentum_buffer'], which Adam with these settings does "
                              "not keep"),
        "a negative lr": (bad_lr, ValueError,
                          "param_groups[0] does not fit Adam: Invalid learning rate: -1.0"),
        "a string as state": (strings, ValueError,
                              "state[1] (a parameter of shape (4,)): 'exp_avg_sq' holds no "
                              "real numbers"),
        "a missing entry": (missing, ValueError,
                            "state[0] (a parameter of shape (4, 3)): lacks ['exp_avg_sq']"),
        "None": (None, TypeError, "expected the dict optimizer.state_dict() returns"),
        "no state": ({"param_groups": own["param_groups"]}, TypeError,
                     "with 'state' and 'param_groups', got ['param_groups']"),
        "fewer parameters": ({"state": {}, "param_groups": [
            {**own["param_groups"][0], "params": [0, 1]}]}, ValueError,
            "loaded state dict contains a parameter group that doesn't match the size of "
            "optimizer's group"),
    }


@pytest.mark.parametrize("case", ["another model", "another optimizer", "a negative lr",
                                  "a string as state", "a missing entry", "None",
                                  "no state", "fewer parameters"])
def test_optimizer_load_state_dict_is_atomic(adam, bad_optimizer_states, case):
    given, error, message = bad_optimizer_states[case]
    _, opt = adam
    before = _opt_snapshot(opt)
    with pytest.raises(error, match=re.escape(message)):
        opt.load_state_dict(given)
    assert _same(_opt_snapshot(opt), before)


def test_optimizer_steps_on_as_before_after_failed_loads(adam, bad_optimizer_states):
    """After every failed load, the next step is exactly that of a twin that saw none."""
    net, opt = adam
    for given, error, _ in bad_optimizer_states.values():
        with pytest.raises(error):
            opt.load_state_dict(given)
    twin_net, twin = _trained(_adam, steps=1)
    for model, optimizer in ((net, opt), (twin_net, twin)):
        optimizer.zero_grad()
        model(ftorch.ones(5, 3)).sum().backward()
        optimizer.step()
    assert _unchanged(_values(net), _values(twin_net))


def test_optimizer_load_state_dict_round_trip():
    _, source = _trained(_adam, steps=2)
    _, opt = _trained(_adam, steps=1)
    opt.load_state_dict(source.state_dict())
    assert _same(_opt_snapshot(opt), _opt_snapshot(source))


@pytest.mark.parametrize("params, error, message", [
    (5, TypeError, "'int' object is not iterable"),  # PyTorch's words, as below
    (None, TypeError, "'NoneType' object is not iterable"),
    ([5], TypeError, "optimizer can only optimize Tensors, but one of the params is int"),
    ([{"lr": 0.1}], KeyError, "'params'"),  # PyTorch's
])
def test_shim_optimizer_constructor_names_params(params, error, message):
    with pytest.raises(error, match=re.escape(message)):
        ftorch.optim.SGD(params, lr=0.1)


# ------------------------------------------------------------------- fnnet.interop


def test_interop_load_names_keys_holding_no_numbers():
    model = models.MLP((6, 5, 3))
    params, state = model.init(jax.random.key(0))
    flat = interop.to_torch_state_dict(params, state, model)
    flat["fc2.weight"] = np.full((3, 5), "x")
    with pytest.raises(StateDictError, match=re.escape(
            "dtype mismatch for fc2.weight: copying a param of dtype <U1 from checkpoint, "
            "the model holds float32")):
        interop.from_torch_state_dict(model, flat)


@pytest.mark.parametrize("given", [None, 3, {"state": {}}])
def test_interop_optimizer_state_refuses_non_state_dicts(given):
    model = models.MLP((6, 5, 3))
    params, _ = model.init(jax.random.key(0))
    with pytest.raises(TypeError, match="torch_state must be the dict "
                                        r"optimizer.state_dict\(\) returns"):
        interop.from_torch_optimizer_state(model, params, optim.SGD(lr=0.1), given)


# --------------------------------------------------------- trees at the boundary

OPTIMIZERS = {
    "SGD": lambda: optim.SGD(lr=0.1, momentum=0.9),
    "Adam": lambda: optim.Adam(lr=1e-3),
    "AdamW": lambda: optim.AdamW(lr=1e-3),
    "RMSprop": lambda: optim.RMSprop(lr=1e-3),
    "Adagrad": lambda: optim.Adagrad(lr=1e-2),
}


@pytest.fixture(scope="module")
def two_models():
    small, big = models.MLP((6, 16, 3)), models.MLP((6, 32, 3))
    return (small.init(jax.random.key(0))[0], big.init(jax.random.key(0))[0])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_names_gradients_of_another_model(two_models, name):
    params, other = two_models
    opt = OPTIMIZERS[name]()
    state = opt.init(params)
    grads = jax.tree.map(jnp.ones_like, other)
    with pytest.raises(ValueError, match=re.escape(
            'optimizer.update: the gradients do not match the parameters: the gradient '
            'entry "fc1.bias" has shape (32,), expected (16,)')):
        opt.update(grads, state, params)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_names_state_of_another_model(two_models, name):
    params, other = two_models
    opt = OPTIMIZERS[name]()
    grads = jax.tree.map(jnp.ones_like, other)
    with pytest.raises(ValueError, match=r"optimizer.update: the optimizer state does not "
                       r"match the parameters: the state entry \"\w+\.\w+\.fc1\.bias\" has "
                       r"shape \(16,\), expected \(32,\)"):
        opt.update(grads, opt.init(params), other)


def test_update_names_integer_gradients(two_models):
    params, _ = two_models
    opt = optim.SGD(lr=0.1)
    grads = jax.tree.map(lambda x: jnp.ones(x.shape, jnp.int32), params)
    with pytest.raises(ValueError, match=re.escape(
            'the gradient entry "fc1.bias" has dtype int32, expected float32')):
        opt.update(grads, opt.init(params), params)


def test_update_check_runs_at_trace_time_only(two_models):
    params, _ = two_models
    opt = optim.Adam()
    traces = []

    @jax.jit
    def step(grads, state, params):
        traces.append(1)
        return opt.update(grads, state, params)

    state = opt.init(params)
    for _ in range(3):
        _, state = step(params, state, params)
    assert len(traces) == 1


@pytest.fixture(scope="module")
def mlp():
    return models.MLP((6, 16, 3))


def _data(n=32, bad_at=None, bad_value=7, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = rng.integers(0, 3, n).astype(np.int32)
    if bad_at is not None:
        y[bad_at] = bad_value
    return x, y


def test_train_step_names_an_optimizer_state_of_another_model(mlp, two_models):
    opt = optim.SGD(lr=0.1, momentum=0.9)
    state = create_train_state(mlp, opt, jax.random.key(0))
    state = state._replace(opt_state=opt.init(two_models[1]))
    step = make_train_step(mlp, opt)
    with pytest.raises(ValueError, match=re.escape(
            'train_step: the optimizer state does not match the parameters: the state '
            'entry "momentum.trace.fc1.bias" has shape (32,), expected (16,)')):
        step(state, _data(8))


def test_train_step_names_the_state_of_another_plain_optax_optimizer(mlp):
    import optax

    state = create_train_state(mlp, optax.adam(1e-3), jax.random.key(0))
    step = make_train_step(mlp, optax.sgd(0.1, momentum=0.9))
    with pytest.raises(ValueError, match="train_step: the optimizer state does not match"):
        step(state, _data(8))


@pytest.mark.parametrize("made_by, used_by, entry", [
    (lambda: optim.SGD(lr=0.1, momentum=0.9), lambda: optim.Adam(), "adam.count"),
    (lambda: optim.Adam(), lambda: optim.Adam(amsgrad=True), "adam.step"),
    (lambda: optim.SGD(lr=0.1), lambda: optim.SGD(lr=optim.step_lr(0.1, 2)), "lr.count"),
])
def test_a_state_checked_for_one_optimizer_is_refused_by_another(mlp, made_by, used_by,
                                                                  entry):
    # The memo of checked layouts passed an SGD state to Adam's update once it had been
    # checked for an SGD (optax's KeyError 'adam' followed), and fit took it too.
    params, _ = mlp.init(jax.random.key(0))
    first = made_by()
    state = first.init(params)
    first.update(params, state, params)  # checked, and remembered, for its own kind
    message = (f'the optimizer state does not match the parameters: the state has no '
               f'entry "{entry}"')
    with pytest.raises(ValueError, match="optimizer.update: " + re.escape(message)):
        used_by().update(params, state, params)
    with pytest.raises(ValueError, match="fit: " + re.escape(message)):
        fit(mlp, used_by(), _data(), batch_size=8, progress=False,
            state=create_train_state(mlp, first, jax.random.key(0)))


def test_fit_names_an_optimizer_state_of_another_model(mlp, two_models):
    opt = optim.Adam()
    state = create_train_state(mlp, opt, jax.random.key(0))
    state = state._replace(opt_state=opt.init(two_models[1]))
    assert isinstance(state, TrainState)
    with pytest.raises(ValueError, match=re.escape(
            'fit: the optimizer state does not match the parameters: the state entry '
            '"adam.mu.fc1.bias" has shape (32,), expected (16,)')):
        fit(mlp, opt, _data(), state=state, batch_size=8)


# ------------------------------------------------------ labels in compiled steps


@pytest.fixture(scope="module")
def step_and_state(mlp):
    opt = optim.SGD(lr=0.1)
    return make_train_step(mlp, opt, donate=False), create_train_state(mlp, opt,
                                                                       jax.random.key(0))


@pytest.mark.parametrize("labels, count, value", [
    ([0, 1, 2, 1], 0, None),
    ([0, 3, 2, 1], 1, 3),
    ([0, 1, -1, 9], 2, -1),
    ([0, -100, 2, 1], 0, None),  # cross_entropy's ignore_index
])
def test_step_counts_labels_out_of_range(step_and_state, labels, count, value):
    step, state = step_and_state
    x = np.ones((4, 6), np.float32)
    _, metrics = step(state, (x, np.array(labels, np.int32)))
    assert int(metrics["bad_labels"]) == count
    if value is not None:
        assert int(metrics["bad_label"]) == value


def test_fit_names_the_batch_and_the_bad_label(mlp):
    x, y = _data(32)

    def batches(epoch):
        for i in range(4):
            labels = y[i * 8:(i + 1) * 8].copy()
            if i == 2:
                labels[5] = 12
            yield x[i * 8:(i + 1) * 8], labels

    with pytest.raises(ValueError, match=re.escape(
            "train_data: the batch of step 3 holds 1 class label(s) outside [0, number of "
            "classes), e.g. 12")):
        fit(mlp, optim.SGD(lr=0.1), batches, epochs=1)


def test_fit_names_the_bad_label_with_fused_steps(mlp):
    x, y = _data(64)

    def batches(epoch):
        for i in range(8):
            labels = y[i * 8:(i + 1) * 8].copy()
            if i == 5:
                labels[0] = -3
            yield x[i * 8:(i + 1) * 8], labels

    with pytest.raises(ValueError, match=re.escape(
            "train_data: the batch of step 6 holds 1 class label(s) outside [0, number of "
            "classes), e.g. -3")):
        fit(mlp, optim.SGD(lr=0.1), batches, epochs=1, steps_per_call=4)


@pytest.mark.parametrize("labels, count, value", [
    ([0, 1, 2, 1, 0, 1, 2, 1], 0, None),
    ([0, 1, 2, 1, 0, 5, 2, -2], 2, 5),  # the largest bad label of the devices
])
def test_data_parallel_step_counts_labels_over_every_device(mlp, labels, count, value):
    from fnnet import parallel

    if len(jax.devices()) < 4:
        pytest.skip("needs 4 (simulated) devices")
    mesh = parallel.data_mesh(4)
    opt = optim.SGD(lr=0.1)
    state = parallel.put_replicated(create_train_state(mlp, opt, jax.random.key(0)), mesh)
    step = parallel.make_train_step(mlp, opt, mesh=mesh)
    batch = parallel.put_batch((np.ones((8, 6), np.float32), np.array(labels, np.int32)),
                               mesh)
    _, metrics = step(state, batch)
    assert int(metrics["bad_labels"]) == count
    if value is not None:
        assert int(metrics["bad_label"]) == value


@pytest.mark.parametrize("key, value, message", [
    ("momentum_buffer", np.full((16, 6), None, object),
     "momentum_buffer of fc1.weight holds no real numbers (dtype object)"),
    ("momentum_buffer", np.ones((16, 7), np.float32),
     "size mismatch for momentum_buffer of fc1.weight: copying a state with shape (16, 7)"),
])
def test_interop_optimizer_state_names_bad_entries(key, value, message):
    model = models.MLP((6, 16, 3))
    params, _ = model.init(jax.random.key(0))
    opt = optim.SGD(lr=0.1, momentum=0.9)
    state = opt.init(params)
    grads = jax.tree.map(jnp.ones_like, params)
    _, state = opt.update(grads, state, params)
    saved = interop.to_torch_optimizer_state(model, params, state, lr=0.1, momentum=0.9)
    saved["state"][0][key] = value
    with pytest.raises(ValueError, match=re.escape(message)):
        interop.from_torch_optimizer_state(model, params, opt, saved)


def test_shim_gradient_of_another_shape_is_refused_where_assigned():
    first, second = ftorch.nn.Parameter(ftorch.ones(2)), ftorch.nn.Parameter(ftorch.ones(4))
    opt = ftorch.optim.SGD([first, second], lr=0.1)
    first.grad = ftorch.ones(2)
    with pytest.raises(RuntimeError, match=re.escape(  # PyTorch's check, before the step
            "attempting to assign a gradient of size '[7]' to a tensor of size '[4]'")):
        second.grad = ftorch.ones(7)
    assert second.grad is None
    second.grad = ftorch.ones(4)
    opt.step()  # the optimizer is still usable
    np.testing.assert_allclose(second.detach().numpy(), np.full(4, 0.9), rtol=1e-6)


def test_evaluate_names_the_batch_and_the_bad_label(mlp):
    from fnnet.train import evaluate

    x, y = _data(16)
    state = create_train_state(mlp, optim.SGD(lr=0.1), jax.random.key(0))

    def batches(epoch):
        yield x[:8], y[:8]
        labels = y[8:].copy()
        labels[3] = 4
        yield x[8:], labels

    with pytest.raises(ValueError, match=re.escape(
            "eval_data: batch 1 holds 1 class label(s) outside [0, number of classes), "
            "e.g. 4")):
        evaluate(mlp, state, batches)
    assert set(evaluate(mlp, state, (x, y))) == {"loss", "accuracy"}
